"""Hyperliquid's tick and lot rules (perps), in numba.

Price: at most 5 significant figures and at most ``6 - sz_decimals`` decimals;
an integer price is always valid. Size: a multiple of ``10**-sz_decimals``.
"""

import math

from numba import njit

MAX_DECIMALS_PERP = 6
SIG_FIGS = 5


@njit(cache=True)
def _is_multiple(x: float, quantum: float) -> bool:
    k = x / quantum
    return abs(k - round(k)) <= 1e-9 * max(1.0, abs(k))


@njit(cache=True)
def px_valid(px: float, sz_decimals: int) -> bool:
    if not (px > 0.0 and math.isfinite(px)):
        return False
    if _is_multiple(px, 1.0):
        return True
    e = math.floor(math.log10(px))
    sig_q = 10.0 ** (e - (SIG_FIGS - 1))
    dec_q = 10.0 ** (-(MAX_DECIMALS_PERP - sz_decimals))
    return _is_multiple(px, max(sig_q, dec_q))


@njit(cache=True)
def sz_valid(sz: float, sz_decimals: int) -> bool:
    return sz > 0.0 and math.isfinite(sz) and _is_multiple(sz, 10.0 ** (-sz_decimals))


@njit(cache=True)
def lot_eps(sz_decimals: int) -> float:
    """Half a lot: sizes below this are zero."""
    return 0.5 * 10.0 ** (-sz_decimals)


@njit(cache=True)
def round_lot(sz: float, sz_decimals: int) -> float:
    """Nearest whole number of lots (kills float dust from subtractions)."""
    lot = 10.0 ** (-sz_decimals)
    return round(sz / lot) * lot
