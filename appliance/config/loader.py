"""Load, validate and render the configuration."""

import dataclasses
import math
import os
import tomllib
import typing
from pathlib import Path

from shm_layout.constants import MAX_COINS, MAX_LEVELS, RISK_ACTION_NAMES

from . import sizing
from .limits import LimitError, check_limits
from .schema import DEFAULT_STATE_DIR, Config

WAIT_POLICIES = ("spin", "hybrid", "block")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


def _coerce(key: str, value, hint):
    if dataclasses.is_dataclass(hint):  # a sub-table, e.g. [estimator.vol]
        return _section(key, hint, value)
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


def _validate_risk_actions(cfg: Config) -> None:
    """[risk.actions] names an action per check; disabled_checks names checks."""
    r = cfg.risk
    checks = [f.name for f in dataclasses.fields(r.actions)]
    actions = ("log", *RISK_ACTION_NAMES[1:])  # log (journal only), widen, reduce_only, pull, kill
    for name in checks:
        if getattr(r.actions, name) not in actions:
            raise ConfigError(f"risk.actions.{name}: '{getattr(r.actions, name)}' is not one of "
                              f"{', '.join(actions)}")
    for name in r.disabled_checks:
        if name not in checks:
            raise ConfigError(f"risk.disabled_checks: unknown check '{name}' (known: {', '.join(checks)})")
    if not (math.isfinite(r.widen_mult) and r.widen_mult >= 1.0):
        raise ConfigError(f"risk.widen_mult: must be finite and >= 1, got {r.widen_mult}")
    if not (math.isfinite(r.action_hold_s) and r.action_hold_s >= 0.0):
        raise ConfigError(f"risk.action_hold_s: must be finite and >= 0, got {r.action_hold_s}")


def _validate_logs(cfg: Config) -> None:
    lg = cfg.logs
    if lg.files not in ("auto", "always", "never"):
        raise ConfigError(f"logs.files: '{lg.files}' is not one of auto, always, never")
    if lg.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"logs.level: '{lg.level}' is not one of DEBUG, INFO, WARNING, ERROR")
    if lg.max_file_bytes < 4096 or lg.keep_files < 1 or not lg.position_every_s >= 0:
        raise ConfigError("logs: max_file_bytes >= 4096, keep_files >= 1, position_every_s >= 0")


def _validate_recorder(cfg: Config) -> None:
    r = cfg.recorder
    for key, ok, rule in (("poll_interval_ms", r.poll_interval_ms >= 1, ">= 1"),
                          ("flush_interval_s", r.flush_interval_s > 0, "> 0"),
                          ("retention_days", r.retention_days >= 1, ">= 1"),
                          ("max_gb", r.max_gb > 0, "> 0"), ("min_free_gb", r.min_free_gb >= 0, ">= 0"),
                          ("dir", bool(r.dir.strip()), "a directory")):
        if not ok:
            raise ConfigError(f"recorder.{key}: must be {rule}, got {getattr(r, key)!r}")


def _validate_sizes(cfg) -> None:
    """Each size is in USD or, when its coin twin is > 0, in coin (config/sizing.py): every
    one finite and >= 0, the one in force > 0, also per coin (``quote.per_coin``)."""
    try:
        per_coin = sizing.parse_per_coin(cfg.quote.per_coin)
    except ValueError as e:
        raise ConfigError(f"quote.per_coin: {e}") from None
    for coin in [""] + sorted(per_coin):
        q, r = sizing.for_coin(cfg.quote, cfg.risk, coin) if coin else (cfg.quote, cfg.risk)
        where = f" (quote.per_coin {coin})" if coin else ""
        for sec, obj, pairs in (("quote", q, sizing.QUOTE_SIZES), ("risk", r, sizing.RISK_SIZES)):
            for sz_key, usd_key in pairs:
                sz, usd = getattr(obj, sz_key), getattr(obj, usd_key)
                if not (sz >= 0 and usd >= 0):
                    raise ConfigError(f"{sec}.{sz_key} and {sec}.{usd_key}: must be >= 0{where}, "
                                      f"got {sz} and {usd}")
                if not (sz > 0 or usd > 0):
                    raise ConfigError(f"{sec}.{usd_key}: must be > 0 (or {sec}.{sz_key} > 0 for a "
                                      f"size in coin){where}, got {usd}")
        if not q.total_size_sz >= 0:
            raise ConfigError(f"quote.total_size_sz: must be >= 0 (0: n_levels levels){where}, "
                              f"got {q.total_size_sz}")


def _validate(cfg: Config) -> None:
    _validate_risk_actions(cfg)
    try:  # finite numbers, positive limits, heartbeat rule, mainnet guard (limits.py)
        check_limits(cfg)
    except LimitError as e:
        raise ConfigError(str(e)) from None
    _validate_recorder(cfg)
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
    _validate_logs(cfg)
    if cfg.supervisor.child_start not in ("fork", "spawn"):
        raise ConfigError(f"supervisor.child_start: '{cfg.supervisor.child_start}' is not one "
                          "of fork, spawn")
    q = cfg.quote
    if not 1 <= q.n_levels <= MAX_LEVELS:
        raise ConfigError(f"quote.n_levels: between 1 and {MAX_LEVELS}, got {q.n_levels}")
    if q.spacing_mode not in ("linear", "geometric"):
        raise ConfigError(f"quote.spacing_mode: '{q.spacing_mode}' is not one of linear, geometric")
    if len(q.tod_gamma_mult) != 24 or not all(m > 0 for m in q.tod_gamma_mult):
        raise ConfigError("quote.tod_gamma_mult: 24 multipliers > 0, one per UTC hour")
    if not 0 <= q.sz_decimals <= 6:
        raise ConfigError(f"quote.sz_decimals: between 0 and 6, got {q.sz_decimals}")
    _validate_sizes(cfg)
    for key in ("horizon_s", "spacing_ratio", "max_leverage"):
        if not getattr(q, key) > 0:
            raise ConfigError(f"quote.{key}: must be > 0, got {getattr(q, key)}")
    for key in ("epnl_horizon_s", "inventory_horizon_s", "inventory_beta", "drift_clamp_bps",
                "drift_cap_sigmas",
                "min_notional_usd", "level_spacing_bps", "market_spread_cap_mult", "toxicity_as_weight",
                "toxicity_gamma_weight", "min_liq_distance_bps", "toxicity_pull_spread_ratio",
                "toxicity_pull_sweep_levels", "toxicity_pull_spread_min_bps", "volume_credit_bps",
                "volume_credit_surplus_requests", "as_momentum_rest_s"):
        if not getattr(q, key) >= 0:
            raise ConfigError(f"quote.{key}: must be >= 0, got {getattr(q, key)}")
    if 0 < q.toxicity_pull_spread_ratio <= 1:  # the spread is at or above its fair half the time
        raise ConfigError("quote.toxicity_pull_spread_ratio: 0 (off) or > 1, "
                          f"got {q.toxicity_pull_spread_ratio}")
    for key in ("toxicity_pull_p", "toxicity_pull_gap"):
        if not 0 <= getattr(q, key) <= 1:
            raise ConfigError(f"quote.{key}: in [0, 1] (0 = off), got {getattr(q, key)}")
    if not q.volume_credit_ramp_requests > 0:
        raise ConfigError("quote.volume_credit_ramp_requests: must be > 0, "
                          f"got {q.volume_credit_ramp_requests}")
    if not 0 < q.inventory_soft_limit_frac <= 1:
        raise ConfigError("quote.inventory_soft_limit_frac: in (0, 1] (1 = up to the position "
                          f"limit), got {q.inventory_soft_limit_frac}")
    if not 0 <= q.margin_buffer_frac < 1 or not 0 <= q.toxicity_neutral < 1:
        raise ConfigError("quote.margin_buffer_frac and quote.toxicity_neutral: in [0, 1)")
    positive = {
        "quote.gamma": q.gamma,
        "risk.max_loss_usd": cfg.risk.max_loss_usd,
        "clock.max_offset_ms": cfg.clock.max_offset_ms,
    }
    for key, v in positive.items():
        if not v > 0:
            raise ConfigError(f"{key}: must be > 0, got {v}")
    if not 1 <= cfg.scores.reliability_bins <= 100:
        raise ConfigError(f"scores.reliability_bins: between 1 and 100, got {cfg.scores.reliability_bins}")
    b = cfg.backtest
    for key in ("requote_interval_ms", "sample_interval_ms", "synthetic_duration_s", "chunk_events"):
        if not getattr(b, key) > 0:
            raise ConfigError(f"backtest.{key}: must be > 0, got {getattr(b, key)}")
    for key in ("order_latency_ms", "order_latency_jitter_ms", "order_latency_sigma",
                "md_latency_ms", "md_latency_jitter_ms", "md_latency_sigma"):
        if not getattr(b, key) >= 0:
            raise ConfigError(f"backtest.{key}: must be >= 0, got {getattr(b, key)}")
    if b.queue_model not in ("risk_averse", "prob_power", "prob_log"):
        raise ConfigError(f"backtest.queue_model: '{b.queue_model}' is not one of "
                          "risk_averse, prob_power, prob_log")
    for key in ("queue_power", "max_leverage", "account_usd"):
        if not getattr(b, key) > 0:
            raise ConfigError(f"backtest.{key}: must be > 0, got {getattr(b, key)}")
    if not 0 <= b.sz_decimals <= 6:
        raise ConfigError(f"backtest.sz_decimals: between 0 and 6, got {b.sz_decimals}")
    if cfg.feed.speed < 0:
        raise ConfigError(f"feed.speed: must be >= 0, got {cfg.feed.speed}")
    v = cfg.venue
    if not 0 <= v.port <= 65535:
        raise ConfigError(f"venue.port: not a port: {v.port}")
    if v.speed < 0:
        raise ConfigError(f"venue.speed: must be >= 0, got {v.speed}")
    for key in ("order_latency_ms", "order_latency_jitter_ms", "order_latency_sigma",
                "md_latency_ms", "md_latency_jitter_ms", "md_latency_sigma"):
        if not getattr(v, key) >= 0:
            raise ConfigError(f"venue.{key}: must be >= 0, got {getattr(v, key)}")
    if v.queue_model not in ("risk_averse", "prob_power", "prob_log"):
        raise ConfigError(
            f"venue.queue_model: '{v.queue_model}' is not one of risk_averse, prob_power, prob_log")
    for spec in v.funded:
        addr, sep, amount = spec.rpartition(":")
        if not sep or len(addr) != 42 or not addr.startswith("0x"):
            raise ConfigError(f"venue.funded: expected 'ADDRESS:USDC', got {spec!r}")
        try:
            float(amount)
        except ValueError:
            raise ConfigError(f"venue.funded: bad USDC amount in {spec!r}") from None
    g = cfg.gateway
    for key, allowed in (("venue", ("hyperliquid", "paper")),
                         ("network", ("local", "testnet", "mainnet")),
                         ("unknown_orders", ("cancel", "adopt")),
                         ("journal_fsync", ("always", "interval", "never")),
                         ("transport", ("http", "ws_post"))):
        if getattr(g, key) not in allowed:
            raise ConfigError(f"gateway.{key}: '{getattr(g, key)}' is not one of {', '.join(allowed)}")
    if not 0 <= g.local_venue_port <= 65535:
        raise ConfigError(f"gateway.local_venue_port: not a port: {g.local_venue_port}")
    if g.dead_man_switch_s and g.dead_man_switch_s < 5.0:
        raise ConfigError("gateway.dead_man_switch_s: 0 (off) or >= 5 (the venue's minimum)")
    if not 0 < g.http_timeout_s <= 10 or not g.batch_window_ms >= 0:
        raise ConfigError("gateway.http_timeout_s in (0, 10], gateway.batch_window_ms >= 0")
    if not (g.account_refresh_s > 0 and g.account_after_fill_s >= 0 and g.account_max_age_s > 0):
        raise ConfigError("gateway.account_refresh_s > 0, gateway.account_after_fill_s >= 0 "
                          "(0 = off), gateway.account_max_age_s > 0")
    if cfg.feed.ws_max_failures < 1:
        raise ConfigError("feed.ws_max_failures: must be >= 1")
    if not cfg.feed.replay_max_malformed_frac <= 1.0:
        raise ConfigError("feed.replay_max_malformed_frac: a share, in [0, 1]")
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


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return list(v) if isinstance(v, tuple) else v


def config_to_dict(cfg: Config) -> dict:
    return {
        name: _plain(dataclasses.asdict(sec))
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


def _toml_table(out: list, name: str, values: dict) -> None:
    out.append(f"[{name}]")
    out.extend(f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict))
    out.append("")
    for k, v in values.items():
        if isinstance(v, dict):
            _toml_table(out, f"{name}.{k}", v)


def config_to_toml(cfg: Config) -> str:
    out: list = []
    for name, values in config_to_dict(cfg).items():
        _toml_table(out, name, values)
    return "\n".join(out)


STATE_DIRECTORY_ENV = "STATE_DIRECTORY"  # set by systemd from the unit's StateDirectory=
LOGS_DIRECTORY_ENV = "LOGS_DIRECTORY"  # and from LogsDirectory=


def _systemd_dir(var: str) -> str:
    """The first directory systemd put in ``var`` (a colon-separated list), or ''."""
    return os.environ.get(var, "").split(":")[0]


def state_dir(cfg: Config, instance: str) -> Path:
    """The config's state directory; left at its default under systemd, the unit's
    StateDirectory= (already made, owned by the service user, per instance)."""
    sd = cfg.appliance.state_dir
    if sd == DEFAULT_STATE_DIR and _systemd_dir(STATE_DIRECTORY_ENV):
        return Path(_systemd_dir(STATE_DIRECTORY_ENV))
    return Path(sd.format(instance=instance))


def log_dir(cfg: Config, instance: str) -> Path:
    """Where the log files go: ``logs.dir``, else the unit's LogsDirectory=/<instance>,
    else the state directory."""
    sd = state_dir(cfg, instance)
    if cfg.logs.dir:
        return Path(cfg.logs.dir.format(instance=instance, state_dir=sd))
    if _systemd_dir(LOGS_DIRECTORY_ENV):
        return Path(_systemd_dir(LOGS_DIRECTORY_ENV)) / instance
    return sd


def kill_switch_path(cfg: Config, instance: str) -> Path:
    sd = state_dir(cfg, instance)
    return Path(cfg.risk.kill_switch_file.format(state_dir=sd, instance=instance))


def recorder_dir(cfg: Config, instance: str) -> Path:
    """The recorder's catalog directory (``[recorder] dir``, expanded)."""
    sd = state_dir(cfg, instance)
    return Path(os.path.expanduser(cfg.recorder.dir.format(state_dir=sd, instance=instance)))


def wait_policy(cfg: Config, process: str) -> str:
    return getattr(cfg.wait, process, "") or cfg.wait.policy
