"""Hyperliquid's price and size rules, written once, in numba.

Every user of a venue price or size calls these: the quote kernel (``quote/kernel.py``),
the wire form (``hyperliquid/wire.py``), the local venue's matching core
(``venue/matching/``) and the backtester's executor (``backtest/venue_exec.py``). They
are ``@njit`` so a kernel calls them in its own loop; Python calls them as they are.
Before this module each of the four had its own copy, and they disagreed (the wire
rounded to nearest, so a bid could be rounded up through the quote).

The rules (``../shared/reference/hyperliquid-protocol.md``, tick and lot size):

* price: at most ``PX_SIG_FIGS`` (5) significant figures and at most
  ``MAX_DECIMALS - szDecimals`` decimals (6 for perps, 8 for spot); an integer
  price is always valid (so above 100,000 the step is 1, not 10);
* a venue tick (``tick_px``, 0 = none) may make the step coarser still;
* size: a multiple of the lot ``10**-szDecimals``;
* minimum notional: ``MIN_NOTIONAL_USD`` ($10 for perps) for an order that is not
  reduce-only;
* rounding direction (``side``): passive, never improving our price: bids (+1)
  down, asks (-1) up; 0 = nearest (the SDK's helper, for prices not ours to shade).

Results are snapped to the step's decimals, so the same price comes out as the same
float in every user (``float_to_wire`` then accepts it as is).
"""

import math

from numba import njit

MAX_DECIMALS_PERP = 6
MAX_DECIMALS_SPOT = 8
PX_SIG_FIGS = 5
MIN_NOTIONAL_USD = 10.0
# A price within this relative distance of a multiple of the step is that multiple
# (float dust from arithmetic is not a reason to move a price by a whole step).
PX_REL_EPS = 1e-9
# From 10**(PX_SIG_FIGS - 1) up, the price step is 1 (whole numbers are always valid).
INTEGER_STEP_FROM_PX = 10.0 ** (PX_SIG_FIGS - 1)
ROUND_BID_DOWN = 1
ROUND_ASK_UP = -1
ROUND_NEAREST = 0


@njit(cache=True)
def max_px_decimals(sz_decimals: int, is_spot: bool = False) -> int:
    """Decimals a price may carry: 6 - szDecimals (perps), 8 - szDecimals (spot)."""
    return max(0, (MAX_DECIMALS_SPOT if is_spot else MAX_DECIMALS_PERP) - int(sz_decimals))


@njit(cache=True)
def px_step(px: float, sz_decimals: int, tick_px: float = 0.0, is_spot: bool = False) -> float:
    """The price step at ``px``: the coarsest of 5 significant figures (at most 1:
    integers are always valid), the decimals allowed and the venue tick."""
    step = 10.0 ** (-max_px_decimals(sz_decimals, is_spot))
    if px > 0.0 and math.isfinite(px):
        sig = min(10.0 ** (math.floor(math.log10(px)) - (PX_SIG_FIGS - 1)), 1.0)
        if sig > step:
            step = sig
    if tick_px > step:
        step = tick_px
    if step >= 1.0:
        step = math.floor(step + 1e-9)
    return step


@njit(cache=True)
def step_decimals(step: float) -> int:
    """Decimals of a step (0.001 -> 3; 5 -> 0), at most 12."""
    d = 0
    while d < 12:
        x = step * 10.0 ** d
        if round(x) != 0.0 and abs(x - round(x)) <= 1e-6 * x:
            break
        d += 1
    return d


@njit(cache=True)
def _on_grid(x: float, quantum: float) -> bool:
    k = x / quantum
    return abs(k - round(k)) <= PX_REL_EPS * max(1.0, abs(k))


@njit(cache=True)
def round_px(px: float, sz_decimals: int, side: int, tick_px: float = 0.0,
             is_spot: bool = False) -> float:
    """A valid venue price from ``px``: bids (side +1) down, asks (-1) up, 0 nearest.
    0.0 for a price that is not positive and finite."""
    if not (px > 0.0 and math.isfinite(px)):
        return 0.0
    if px >= INTEGER_STEP_FROM_PX and tick_px <= 1.0:
        step = 1.0  # 5 figures at 10,000 and above: whole numbers (fast path, same result)
    else:
        step = px_step(px, sz_decimals, tick_px, is_spot)
    k = px / step
    kr = round(k)
    if abs(k - kr) <= PX_REL_EPS * max(1.0, abs(k)):
        k = kr
    elif side > 0:
        k = math.floor(k)
    elif side < 0:
        k = math.ceil(k)
    else:
        k = kr
    if step == 1.0:
        return k
    return round(k * step, step_decimals(step))


@njit(cache=True)
def px_valid(px: float, sz_decimals: int, is_spot: bool = False) -> bool:
    """True when the venue accepts ``px`` as is."""
    if not (px > 0.0 and math.isfinite(px)):
        return False
    if _on_grid(px, 1.0):
        return True
    return _on_grid(px, px_step(px, sz_decimals, 0.0, is_spot))


@njit(cache=True)
def lot_sz(sz_decimals: int) -> float:
    """The size quantum: 10**-szDecimals."""
    return 10.0 ** (-int(sz_decimals))


@njit(cache=True)
def lot_eps(sz_decimals: int) -> float:
    """Half a lot: sizes below this are zero."""
    return 0.5 * lot_sz(sz_decimals)


@njit(cache=True)
def round_sz(sz: float, sz_decimals: int) -> float:
    """Nearest whole number of lots (kills float dust from subtractions). Lots over
    10**szDecimals, exact powers of ten: the float nearest the decimal size."""
    per_unit = 10.0 ** int(sz_decimals)
    return round(sz * per_unit) / per_unit


@njit(cache=True)
def lots_per_unit(sz_decimals: int) -> float:
    """10**szDecimals: lots in one unit of size (for ``floor_to_lot`` in a hot loop)."""
    return 10.0 ** int(sz_decimals)


@njit(cache=True)
def floor_to_lot(sz: float, lots_per_unit_: float) -> float:
    """Whole lots not above ``sz``, with ``lots_per_unit(szDecimals)`` computed once."""
    return math.floor(sz * lots_per_unit_ + 1e-9) / lots_per_unit_


@njit(cache=True)
def floor_sz(sz: float, sz_decimals: int) -> float:
    """Whole lots not above ``sz`` (a size we may not exceed)."""
    return floor_to_lot(sz, lots_per_unit(sz_decimals))


@njit(cache=True)
def sz_valid(sz: float, sz_decimals: int) -> bool:
    """True when ``sz`` is positive and a whole number of lots."""
    return sz > 0.0 and math.isfinite(sz) and _on_grid(sz, lot_sz(sz_decimals))


@njit(cache=True)
def meets_min_notional(px: float, sz: float, min_notional_usd: float = MIN_NOTIONAL_USD) -> bool:
    """The venue rejects a (non reduce-only) order below the minimum notional."""
    return abs(px * sz) >= min_notional_usd
