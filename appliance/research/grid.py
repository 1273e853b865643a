"""A sweep's grid: config-key paths, each with the list of values to try.

The grid file is TOML. A key is a path into the configuration, either quoted at the
top level or as tables, the two spellings meaning the same::

    "quote.gamma" = [0.1, 0.3, 0.6]
    [quote]
    min_spread_bps = [4.0, 8.0]
    [estimator.vol]
    half_life_s = [30.0, 60.0]

Every key is checked against the schema (``appliance/config/schema.py``) and every
value by building the configuration with it, so a typo or a bad value is an error
naming the key before anything runs. Points are the cartesian product, in file order.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config, ConfigError, config_from_dict, config_to_dict

MAX_POINTS = 10_000  # a grid past this is a mistake more often than a plan


class GridError(ValueError):
    """A grid file that cannot be swept; the message names the key."""


@dataclass(frozen=True)
class GridPoint:
    index: int
    params: tuple[tuple[str, object], ...]  # (key path, value), in grid order
    cfg: Config

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.params)


@dataclass(frozen=True)
class Grid:
    keys: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]  # per key, as the file gives them
    points: tuple[GridPoint, ...]


def _show(v: object) -> str:
    return json.dumps(v) if isinstance(v, list | tuple | str) else repr(v)


def _flatten(table: dict, prefix: str, out: dict[str, list]) -> None:
    for name, v in table.items():
        key = f"{prefix}{name}"
        if isinstance(v, dict):
            _flatten(v, f"{key}.", out)
        elif isinstance(v, list):
            if key in out:
                raise GridError(f"grid key '{key}' is given twice")
            out[key] = v
        else:
            raise GridError(f"grid key '{key}': expected a list of values to try, got {v!r}")


def _check_path(key: str) -> None:
    """The key names a field of the schema (a leaf, not a table)."""
    cls: typing.Any = Config
    parts = key.split(".")
    for i, part in enumerate(parts):
        hints = typing.get_type_hints(cls)
        where = "the configuration" if i == 0 else f"[{'.'.join(parts[:i])}]"
        if part not in hints:
            raise GridError(f"grid key '{key}': unknown key '{part}' in {where} "
                            f"(known: {', '.join(sorted(hints))})")
        cls = hints[part]
        last = i == len(parts) - 1
        if dataclasses.is_dataclass(cls) and last:
            raise GridError(f"grid key '{key}' is a table; name one of its keys "
                            f"({', '.join(sorted(typing.get_type_hints(cls)))})")
        if not dataclasses.is_dataclass(cls) and not last:
            raise GridError(f"grid key '{key}': '{'.'.join(parts[:i + 1])}' is a value, not a table")


def _merged(base: dict, params: tuple[tuple[str, object], ...]) -> dict:
    """``base`` (a config as a dict) with each key path set; ``base`` is not changed."""
    out = copy.deepcopy(base)
    for key, value in params:
        *tables, leaf = key.split(".")
        node = out
        for t in tables:
            node = node.setdefault(t, {})
        node[leaf] = value
    return out


def config_at(base: Config, params: tuple[tuple[str, object], ...]) -> Config:
    """``base`` with the grid values set; ConfigError when the result is not valid."""
    return config_from_dict(_merged(config_to_dict(base), params))


def param_value(cfg: Config, key: str) -> object:
    """The value of a key path in ``cfg`` (as the schema typed it)."""
    v: object = cfg
    for part in key.split("."):
        v = getattr(v, part)
    return v


def parse_grid(text: str, base: Config, source: str = "grid") -> Grid:
    """A grid from TOML text, checked against ``base`` (the configuration swept)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise GridError(f"{source}: {e}") from None
    flat: dict[str, list] = {}
    _flatten(data, "", flat)
    if not flat:
        raise GridError(f"{source}: no keys; give e.g. \"quote.gamma\" = [0.1, 0.3]")
    for key, values in flat.items():
        _check_path(key)
        if not values:
            raise GridError(f"grid key '{key}': an empty list (nothing to try)")
        seen = [json.dumps(v, sort_keys=True) for v in values]
        if len(set(seen)) != len(seen):
            raise GridError(f"grid key '{key}': a value is repeated in {values}")
        for v in values:  # each value alone, so the error names it
            try:
                config_at(base, ((key, v),))
            except ConfigError as e:
                raise GridError(f"grid key '{key}' = {_show(v)}: {e}") from None
    keys = tuple(flat)
    n = 1
    for k in keys:
        n *= len(flat[k])
    if n > MAX_POINTS:
        raise GridError(f"{source}: {n} points, more than {MAX_POINTS}")
    points = []
    for i, combo in enumerate(itertools.product(*(flat[k] for k in keys))):
        params = tuple(zip(keys, combo, strict=True))
        try:
            cfg = config_at(base, params)
        except ConfigError as e:  # values valid alone may not be together
            raise GridError(f"grid point {', '.join(f'{k}={_show(v)}' for k, v in params)}: {e}") from None
        typed = tuple((k, param_value(cfg, k)) for k in keys)
        points.append(GridPoint(i, typed, cfg))
    return Grid(keys, tuple(tuple(flat[k]) for k in keys), tuple(points))


def load_grid(path: str | Path, base: Config) -> Grid:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise GridError(f"grid file {p} does not exist") from None
    except OSError as e:
        raise GridError(f"grid file {p}: {e.strerror}") from None
    return parse_grid(text, base, str(p))
