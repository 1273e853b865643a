"""A search's space: config-key paths, each with a range or a list of choices.

The space file is TOML; a key is a path into the configuration, quoted at the top
level or as tables (as in a grid file), and its value a table::

    "quote.gamma" = {low = 0.05, high = 1.0, log = true}
    [quote]
    min_spread_bps = {low = 2.0, high = 20.0}
    levels = {choices = [1, 2, 3]}
    [estimator.vol]
    half_life_s = {low = 10, high = 120, step = 10}

A range takes the key's type from the schema: a float key draws floats (``log`` for a
log scale, ``step`` for a grid of them), an int key ints. ``choices`` is a list of
values. Every key is checked against the schema and both ends (every choice) by
building the configuration, so a typo or a bad bound is an error naming the key.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config, ConfigError

from .grid import GridError, _check_path, config_at, param_value

_FIELDS = {"low", "high", "log", "step", "choices"}


class SpaceError(GridError):
    """A space file that cannot be searched; the message names the key."""


@dataclass(frozen=True)
class Dim:
    key: str
    kind: str  # "float" | "int" | "choice"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"{self.key} in {list(self.choices)}"
        scale = ", log" if self.log else (f", step {self.step}" if self.step else "")
        return f"{self.key} {self.kind} [{self.low}, {self.high}{scale}]"


@dataclass(frozen=True)
class Space:
    dims: tuple[Dim, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dims)


def _flatten(table: dict, prefix: str, out: dict[str, dict]) -> None:
    for name, v in table.items():
        key = f"{prefix}{name}"
        if not isinstance(v, dict):
            raise SpaceError(f"space key '{key}': expected a table like {{low = 1.0, high = 2.0}} "
                             f"or {{choices = [...]}}, got {v!r}")
        if set(v) & {"low", "high", "choices"}:  # a key's spec (its other fields checked later)
            if key in out:
                raise SpaceError(f"space key '{key}' is given twice")
            out[key] = v
        else:
            _flatten(v, f"{key}.", out)


def _check(base: Config, key: str, value: object) -> None:
    try:
        config_at(base, ((key, value),))
    except ConfigError as e:
        raise SpaceError(f"space key '{key}' = {json.dumps(value)}: {e}") from None


def _dim(base: Config, key: str, spec: dict) -> Dim:
    try:
        _check_path(key)
    except GridError as e:
        raise SpaceError(str(e).replace("grid key", "space key", 1)) from None
    if "choices" in spec:
        if set(spec) != {"choices"}:
            raise SpaceError(f"space key '{key}': choices take no low/high/log/step")
        ch = spec["choices"]
        if not isinstance(ch, list) or not ch:
            raise SpaceError(f"space key '{key}': choices must be a non-empty list")
        if len({json.dumps(c, sort_keys=True) for c in ch}) != len(ch):
            raise SpaceError(f"space key '{key}': a choice is repeated in {ch}")
        for c in ch:
            _check(base, key, c)
        return Dim(key, "choice", choices=tuple(ch))
    if "low" not in spec or "high" not in spec:
        raise SpaceError(f"space key '{key}': give low and high (or choices)")
    current = param_value(base, key)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SpaceError(f"space key '{key}' is not a number ({type(current).__name__}); give choices")
    kind = "int" if isinstance(current, int) else "float"
    low, high, step, log = spec["low"], spec["high"], spec.get("step"), bool(spec.get("log", False))
    for name, v in (("low", low), ("high", high), ("step", step)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise SpaceError(f"space key '{key}': {name} must be a number, got {v!r}")
        if kind == "int" and v is not None and not float(v).is_integer():
            raise SpaceError(f"space key '{key}' is an int key: {name} {v!r} is not whole")
    if not low < high:
        raise SpaceError(f"space key '{key}': low {low} must be below high {high}")
    if log and (low <= 0 or step is not None):
        raise SpaceError(f"space key '{key}': log needs low > 0 and no step")
    if step is not None and not step > 0:
        raise SpaceError(f"space key '{key}': step must be > 0, got {step}")
    cast = int if kind == "int" else float
    for v in (low, high):
        _check(base, key, cast(v))
    return Dim(key, kind, cast(low), cast(high), log, cast(step) if step is not None else None)


def parse_space(text: str, base: Config, source: str = "space") -> Space:
    """A space from TOML text, checked against ``base`` (the configuration searched)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpaceError(f"{source}: {e}") from None
    flat: dict[str, dict] = {}
    _flatten(data, "", flat)
    if not flat:
        raise SpaceError(f'{source}: no keys; give e.g. "quote.gamma" = {{low = 0.05, high = 1.0}}')
    for key, spec in flat.items():
        unknown = set(spec) - _FIELDS
        if unknown:
            raise SpaceError(f"space key '{key}': unknown field(s) {sorted(unknown)}")
    return Space(tuple(_dim(base, k, v) for k, v in flat.items()))


def load_space(path: str | Path, base: Config) -> Space:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise SpaceError(f"space file {p} does not exist") from None
    except OSError as e:
        raise SpaceError(f"space file {p}: {e.strerror}") from None
    return parse_space(text, base, str(p))
