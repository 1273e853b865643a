"""Sizes and the position limit: in notional (USD) by default, in coin on request.

``[quote] level_size_usd`` (a side's budget: ``n_levels`` of them) and ``[risk]
max_position_usd`` are converted to coin at the current mid wherever they are used (the
quote kernel, the gateway's planner and pre-trade gate, the risk watchdog, the
backtester); a positive ``order_size_sz`` / ``max_position_sz`` overrides its USD twin
with a fixed coin amount, a positive ``total_size_sz`` the side's budget.
``quote.per_coin`` entries (``"ETH:level_size_usd=50"``) override any of them for one coin.

Fail closed: without a usable mid a USD amount has no coin size (NaN): the kernel
pulls, the pre-trade gate refuses, callers never read NaN as "no limit".
"""

from __future__ import annotations

import dataclasses
import math

# (coin key, USD key) per size: the coin key wins when > 0
QUOTE_SIZES = (("order_size_sz", "level_size_usd"),)
RISK_SIZES = (("max_position_sz", "max_position_usd"),)
PER_COIN_KEYS = frozenset([k for pair in QUOTE_SIZES + RISK_SIZES for k in pair] + ["total_size_sz"])


def coin_amount(sz_override: float, usd: float, mid_px: float) -> float:
    """``sz_override`` when > 0, else ``usd`` at ``mid_px`` (NaN without a usable mid)."""
    if sz_override > 0.0:
        return float(sz_override)
    if not (math.isfinite(mid_px) and mid_px > 0.0):
        return math.nan
    return float(usd) / mid_px


def max_position_sz(risk_cfg, mid_px: float) -> float:
    """The position limit in coin at ``mid_px`` (NaN: not known)."""
    return coin_amount(risk_cfg.max_position_sz, risk_cfg.max_position_usd, mid_px)


def parse_per_coin(entries: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """``("ETH:level_size_usd=50", ...)`` -> ``{"ETH": {"level_size_usd": 50.0}}``;
    raises ValueError naming the entry on anything else."""
    out: dict[str, dict[str, float]] = {}
    for e in entries:
        coin, _, kv = e.partition(":")
        key, _, raw = kv.partition("=")
        key = key.strip()
        if not coin.strip() or key not in PER_COIN_KEYS:
            raise ValueError(f"{e!r}: expected COIN:KEY=VALUE with KEY one of {sorted(PER_COIN_KEYS)}")
        try:
            v = float(raw)
        except ValueError:
            raise ValueError(f"{e!r}: VALUE must be a number") from None
        if not (math.isfinite(v) and v >= 0.0):
            raise ValueError(f"{e!r}: VALUE must be a finite number >= 0")
        out.setdefault(coin.strip(), {})[key] = v
    return out


def for_coin(quote_cfg, risk_cfg, coin: str):
    """``(quote_cfg, risk_cfg)`` with ``coin``'s ``quote.per_coin`` entries applied."""
    over = parse_per_coin(quote_cfg.per_coin).get(coin, {})
    q = {k: v for k, v in over.items() if hasattr(quote_cfg, k)}
    r = {k: v for k, v in over.items() if hasattr(risk_cfg, k)}
    return (dataclasses.replace(quote_cfg, **q) if q else quote_cfg,
            dataclasses.replace(risk_cfg, **r) if r else risk_cfg)


def coin_max_position_sz(cfg, coin: str, mid_px: float) -> float:
    """The position limit of ``coin`` in coin at ``mid_px``, its per-coin entries applied."""
    return max_position_sz(for_coin(cfg.quote, cfg.risk, coin)[1], mid_px)
