"""Load, validate and render the configuration."""

import dataclasses
import tomllib
import typing
from pathlib import Path

from shm_layout.constants import MAX_COINS, MAX_LEVELS

from .schema import Config

WAIT_POLICIES = ("spin", "hybrid", "block")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


def _coerce(key: str, value, hint):
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        inner = typing.get_args(hint)[0]
        return tuple(_coerce(f"{key}[{i}]", v, inner) for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {hint}")  # pragma: no cover


def _section(name: str, cls, values: dict):
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(
                f"unknown key '{name}.{key}' (known in [{name}]: {', '.join(sorted(known))})"
            )
    kwargs = {k: _coerce(f"{name}.{k}", v, hints[k]) for k, v in values.items()}
    return cls(**kwargs)


def _validate(cfg: Config) -> None:
    coins = cfg.appliance.coins
    if not 1 <= len(coins) <= MAX_COINS:
        raise ConfigError(f"appliance.coins: between 1 and {MAX_COINS} coins, got {len(coins)}")
    if len(set(coins)) != len(coins):
        raise ConfigError(f"appliance.coins: duplicate coin in {list(coins)}")
    w = cfg.wait
    for key in ("policy", "feed", "estimator", "quote", "gateway", "risk"):
        v = getattr(w, key)
        if v and v not in WAIT_POLICIES:
            raise ConfigError(f"wait.{key}: '{v}' is not one of {', '.join(WAIT_POLICIES)}")
    q = cfg.quote
    if not 1 <= q.n_levels <= MAX_LEVELS:
        raise ConfigError(f"quote.n_levels: between 1 and {MAX_LEVELS}, got {q.n_levels}")
    positive = {
        "quote.gamma": q.gamma,
        "quote.order_size_sz": q.order_size_sz,
        "risk.max_position_sz": cfg.risk.max_position_sz,
        "risk.max_loss_usd": cfg.risk.max_loss_usd,
        "clock.max_offset_ms": cfg.clock.max_offset_ms,
    }
    for key, v in positive.items():
        if not v > 0:
            raise ConfigError(f"{key}: must be > 0, got {v}")
    if cfg.feed.speed < 0:
        raise ConfigError(f"feed.speed: must be >= 0, got {cfg.feed.speed}")
    if not 0 <= cfg.risk.metrics_port <= 65535:
        raise ConfigError(f"risk.metrics_port: not a port: {cfg.risk.metrics_port}")


def config_from_dict(data: dict) -> Config:
    sections = {}
    hints = typing.get_type_hints(Config)
    for name, values in data.items():
        if name not in hints:
            raise ConfigError(
                f"unknown section '[{name}]' (known: {', '.join(sorted(hints))})"
            )
        sections[name] = _section(name, hints[name], values)
    cfg = Config(**sections)
    _validate(cfg)
    return cfg


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> Config:
    """The built-in defaults, overridden by the TOML file at ``path`` and ``overrides``
    (``{"section": {"key": value}}``, as the CLI options map onto fields)."""
    data: dict = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError as e:
            raise ConfigError(f"config file {p} does not exist") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {p}: {e}") from e
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    return config_from_dict(data)


def config_to_dict(cfg: Config) -> dict:
    return {
        name: {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(sec).items()}
        for name, sec in ((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg))
    }


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def config_to_toml(cfg: Config) -> str:
    out = []
    for name, values in config_to_dict(cfg).items():
        out.append(f"[{name}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)


def state_dir(cfg: Config, instance: str) -> Path:
    return Path(cfg.appliance.state_dir.format(instance=instance))


def kill_switch_path(cfg: Config, instance: str) -> Path:
    sd = state_dir(cfg, instance)
    return Path(cfg.risk.kill_switch_file.format(state_dir=sd, instance=instance))


def wait_policy(cfg: Config, process: str) -> str:
    return getattr(cfg.wait, process, "") or cfg.wait.policy
