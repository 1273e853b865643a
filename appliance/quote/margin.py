"""Margin-aware capacity of a side.

``acct`` is a small float64 vector the caller fills from the account (PositionState /
venue clearinghouse state): available margin, leverage, liquidation price. A value
below zero (or 0 for the liquidation price) means "not known": only the position
limit applies. The reducing part of a side (up to the position) needs no margin.
"""

from numba import njit

A_AVAILABLE_MARGIN_USD = 0  # withdrawable / free collateral; < 0 = not known
A_LEVERAGE = 1  # the position's leverage; <= 0 = quote.max_leverage
A_LIQ_PX = 2  # liquidation price of the position; <= 0 = none / not known
A_REQUEST_DEFICIT = 3  # requests sent less USDC traded (the gateway's own counts; issue 16)
N_ACCOUNT = 4


@njit(cache=True)
def side_capacity_sz(acct, side, position_sz, px, buffer_frac, max_leverage):
    """Largest size a side may post under the margin (inf when margin is not known)."""
    avail = acct[A_AVAILABLE_MARGIN_USD]
    reducing = position_sz * side < 0.0
    free_sz = abs(position_sz) if reducing else 0.0
    if avail < 0.0:
        return 1e300
    lev = acct[A_LEVERAGE]
    if lev <= 0.0:
        lev = max_leverage
    extra = avail * lev * (1.0 - buffer_frac) / px if px > 0.0 else 0.0
    return free_sz + max(extra, 0.0)


@njit(cache=True)
def liq_distance_bps(acct, mid_px):
    """Distance from the mid to the liquidation price, bps (inf when none)."""
    liq = acct[A_LIQ_PX]
    if liq <= 0.0 or mid_px <= 0.0:
        return 1e300
    return abs(mid_px - liq) / mid_px * 1e4
