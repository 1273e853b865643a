"""Sizes of the quote kernel in coin at the current mid (issue 16).

The config vector carries the level size and the limit twice: in coin (``C_ORDER_SZ``,
``C_MAX_POSITION_SZ``; > 0 overrides) and in USD (``C_LEVEL_SIZE_USD``,
``C_MAX_POSITION_USD``); a side's budget is ``n_levels`` level sizes unless
``C_TOTAL_SIZE_SZ`` > 0. Without a usable mid a USD size has no coin
size: NaN, which the kernel treats as not finite (it pulls) and the backtester as no
room (``config.sizing`` is the Python face of the same rule).
"""

import math

from numba import njit

from .config import (
    C_LEVEL_SIZE_USD,
    C_MAX_POSITION_SZ,
    C_MAX_POSITION_USD,
    C_N_LEVELS,
    C_ORDER_SZ,
    C_TOTAL_SIZE_SZ,
)


@njit(cache=True)
def coin_amount(sz_override, usd, mid_px):
    """``sz_override`` when > 0, else ``usd / mid_px`` (NaN without a usable mid)."""
    if sz_override > 0.0:
        return sz_override
    if not (mid_px > 0.0 and not math.isinf(mid_px)):  # NaN fails the comparison
        return math.nan
    return usd / mid_px


@njit(cache=True)
def max_position_sz(cfg, mid_px):
    return coin_amount(cfg[C_MAX_POSITION_SZ], cfg[C_MAX_POSITION_USD], mid_px)


@njit(cache=True)
def level_size_sz(cfg, mid_px):
    return coin_amount(cfg[C_ORDER_SZ], cfg[C_LEVEL_SIZE_USD], mid_px)


@njit(cache=True)
def side_size_sz(cfg, mid_px):
    """A side's budget: ``C_TOTAL_SIZE_SZ`` when > 0, else ``n_levels`` level sizes."""
    if cfg[C_TOTAL_SIZE_SZ] > 0.0:
        return cfg[C_TOTAL_SIZE_SZ]
    return level_size_sz(cfg, mid_px) * cfg[C_N_LEVELS]
