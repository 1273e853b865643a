"""Checks that keep a configuration from switching safety off by itself.

* Every number anywhere is finite: TOML accepts ``inf`` and ``nan``, and
  ``risk.max_position_usd = inf`` (or ``nan``, which fails every comparison) would
  disable the limit silently.
* Every limit is positive (a zero heartbeat timeout or stale-data age, a negative
  spread floor are not limits); fractions lie in their range; paired bounds are
  ordered. ``risk.disabled_checks`` is the one explicit way to switch a check off,
  and ``mmctl start`` prints it as a warning.
* Heartbeat timeouts are sized to the longest bounded blocking call
  (``heartbeat_rule_ms``).
* Mainnet is reached only with ``gateway.network = "mainnet"``: an ``api_url`` on a
  Hyperliquid mainnet host (any scheme, port or path) with another network is refused.

Each message names the key. Called from ``loader._validate``.
"""

from __future__ import annotations

import dataclasses
import math
from urllib.parse import urlsplit

MAINNET_DOMAIN = "hyperliquid.xyz"  # api., api-ui., rpc. ...; testnet is hyperliquid-testnet.xyz
HEARTBEAT_SLACK_MS = 1000  # scheduling on shared cores (measured: < 0.3 s at load 10 on 2)

POSITIVE = (
    "risk.max_loss_usd", "risk.max_daily_loss_usd",
    "risk.max_drawdown_usd", "risk.min_liq_distance_bps", "risk.max_fill_deviation_bps",
    "risk.stale_data_s", "risk.first_data_timeout_s", "risk.check_interval_ms",
    "risk.gateway_lost_ms", "risk.max_clock_failed_checks", "risk.attribution_horizon_s",
    "risk.pretrade.max_order_notional_usd", "risk.pretrade.max_open_notional_usd",
    "risk.pretrade.price_band_bps", "risk.pretrade.max_open_orders",
    "supervisor.heartbeat_timeout_ms", "supervisor.startup_timeout_s",
    "supervisor.restart_backoff_initial_ms", "supervisor.restart_backoff_max_ms",
    "supervisor.max_restarts", "supervisor.restart_window_s", "supervisor.poll_interval_ms",
    "quote.min_spread_bps", "quote.max_half_spread_bps", "quote.params_stale_ms",
    "quote.max_leverage", "quote.min_liq_distance_bps",
    "gateway.http_timeout_s", "gateway.position_check_s", "gateway.dead_man_refresh_s",
    "gateway.backoff_429_initial_ms", "gateway.backoff_429_max_ms", "gateway.requote_horizon_h",
    "gateway.urgent_tolerance_bps", "gateway.venue_slow_ms", "gateway.venue_pull_ms",
    "gateway.venue_pull_failures", "gateway.account_max_age_s",
    "clock.max_offset_ms", "clock.ntp_timeout_s", "clock.check_interval_s",
    "feed.ws_ping_idle_s", "feed.ws_stale_after_s", "feed.ws_backoff_cap_s",
    "feed.replay_book_warmup_diffs",
    "scores.window_s", "scores.max_pairs", "scores.interval_s", "scores.log_interval_s",
    "scores.degraded_after_s", "scores.degraded_min_samples",
)
NON_NEGATIVE = (
    "risk.position_usd_slack_frac",
    "gateway.requote_tolerance_bps", "gateway.keep_tolerance_bps", "gateway.sz_tolerance_frac",
    "gateway.keep_sz_frac", "gateway.keep_depth_bps", "gateway.request_cost_mult",
    "gateway.batch_window_ms",
    "gateway.slow_batch_window_ms", "gateway.requote_budget_per_min", "gateway.requote_burst",
    "gateway.requote_requests_per_usd", "gateway.requote_request_allowance",
    "gateway.requote_exhausted_interval_s",
    "gateway.rate_position_frac", "gateway.dead_man_switch_s", "scores.fill_horizon_s",
    "feed.replay_book_warmup_s", "feed.replay_max_malformed_frac",
)
FRACTIONS = (  # (0, 1]
    "risk.max_margin_util_frac", "risk.max_cascade_severity", "risk.pretrade.reduce_only_at_frac",
)
OPEN_FRACTIONS = (  # (0, 1)
    "risk.min_rate_headroom_frac", "gateway.rate_headroom_frac",
)
ORDERED = (  # (smaller, larger): smaller <= larger
    ("supervisor.restart_backoff_initial_ms", "supervisor.restart_backoff_max_ms"),
    ("gateway.backoff_429_initial_ms", "gateway.backoff_429_max_ms"),
    ("gateway.venue_slow_ms", "gateway.venue_pull_ms"),
    ("risk.pretrade.max_order_notional_usd", "risk.pretrade.max_open_notional_usd"),
    ("supervisor.poll_interval_ms", "supervisor.heartbeat_timeout_ms"),
)


class LimitError(ValueError):
    """Raised with a message that names the key (the loader makes it a ConfigError)."""


def _get(cfg, key: str):
    v = cfg
    for part in key.split("."):
        v = getattr(v, part)
    return v


def check_finite(obj, prefix: str = "") -> None:
    """Every float (also in lists) of every section and sub-table is finite."""
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            check_finite(v, key + ".")
            continue
        for i, x in enumerate(v if isinstance(v, tuple) else (v,)):
            if isinstance(x, float) and not math.isfinite(x):
                where = f"{key}[{i}]" if isinstance(v, tuple) else key
                raise LimitError(f"{where}: must be a finite number, got {x}")


def heartbeat_rule_ms(cfg) -> float:
    """The shortest ``supervisor.heartbeat_timeout_ms`` allowed: the longest bounded
    blocking call without a heartbeat (the gateway's lookup + connect, then the answer,
    each within ``gateway.http_timeout_s``) plus scheduling slack."""
    return 2 * cfg.gateway.http_timeout_s * 1000 + HEARTBEAT_SLACK_MS


def is_mainnet_url(url: str) -> bool:
    """True for any URL on a Hyperliquid mainnet host, whatever its scheme, port, path,
    user info or letter case (a bare host without a scheme too)."""
    u = urlsplit(url if "//" in url else "//" + url)
    host = (u.hostname or "").rstrip(".").lower()
    return host == MAINNET_DOMAIN or host.endswith("." + MAINNET_DOMAIN)


def check_limits(cfg) -> None:
    check_finite(cfg)
    for key in POSITIVE:
        v = _get(cfg, key)
        if not v > 0:
            raise LimitError(f"{key}: must be > 0 (a limit cannot switch itself off; "
                             f"use risk.disabled_checks to disable a check), got {v}")
    for key in NON_NEGATIVE:
        if not _get(cfg, key) >= 0:
            raise LimitError(f"{key}: must be >= 0, got {_get(cfg, key)}")
    for key in FRACTIONS:
        if not 0 < _get(cfg, key) <= 1:
            raise LimitError(f"{key}: must be in (0, 1], got {_get(cfg, key)}")
    for key in OPEN_FRACTIONS:
        if not 0 < _get(cfg, key) < 1:
            raise LimitError(f"{key}: must be in (0, 1), got {_get(cfg, key)}")
    for small, large in ORDERED:
        if not _get(cfg, small) <= _get(cfg, large):
            raise LimitError(f"{large}: must be >= {small} ({_get(cfg, small)}), "
                             f"got {_get(cfg, large)}")
    q, g = cfg.quote, cfg.gateway
    if not 2 * q.max_half_spread_bps >= q.min_spread_bps:
        raise LimitError(f"quote.max_half_spread_bps: twice it must cover quote.min_spread_bps "
                         f"({q.min_spread_bps}), got {q.max_half_spread_bps}")
    if not g.slow_tolerance_mult >= 1:
        raise LimitError(f"gateway.slow_tolerance_mult: must be >= 1, got {g.slow_tolerance_mult}")
    if g.dead_man_switch_s and not g.dead_man_refresh_s < g.dead_man_switch_s:
        raise LimitError(f"gateway.dead_man_refresh_s: must be < gateway.dead_man_switch_s "
                         f"({g.dead_man_switch_s}), got {g.dead_man_refresh_s}")
    need = heartbeat_rule_ms(cfg)
    if cfg.supervisor.heartbeat_timeout_ms < need:
        raise LimitError(
            f"supervisor.heartbeat_timeout_ms: must be >= 2 x gateway.http_timeout_s x 1000 + "
            f"{HEARTBEAT_SLACK_MS} = {need:g} (the longest bounded venue call plus scheduling "
            f"slack), got {cfg.supervisor.heartbeat_timeout_ms}")
    lost_need = g.http_timeout_s * 1000 + HEARTBEAT_SLACK_MS
    if cfg.risk.gateway_lost_ms < lost_need:
        raise LimitError(
            f"risk.gateway_lost_ms: must be >= gateway.http_timeout_s x 1000 + {HEARTBEAT_SLACK_MS}"
            f" = {lost_need:g} (a TLS handshake to the venue does not beat), "
            f"got {cfg.risk.gateway_lost_ms}")
    check_mainnet_guard(cfg)


def check_mainnet_guard(cfg) -> None:
    g = cfg.gateway
    if not g.api_url:
        return
    if is_mainnet_url(g.api_url) and g.network != "mainnet":
        raise LimitError(
            f"gateway.api_url: {g.api_url!r} is Hyperliquid MAINNET but gateway.network = "
            f"{g.network!r}; mainnet is reached only with network = \"mainnet\" "
            "(and mmctl start --i-understand-this-is-mainnet)")
    u = urlsplit(g.api_url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise LimitError(f"gateway.api_url: an http(s)://host[:port] URL, got {g.api_url!r}")
