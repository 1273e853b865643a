"""Prices to the tick and Hyperliquid's price rule, sizes to the lot.

A perp price has at most 5 significant figures and at most 6 - szDecimals decimals
(integers always allowed); the step is the largest of those and the venue tick.
Bids round down, asks up: rounding never improves our price.
"""

import math

from numba import njit


@njit(cache=True)
def price_step(px, tick, sz_decimals):
    step = tick
    if px > 0.0:
        sig = 10.0 ** (math.floor(math.log10(px)) - 4.0)  # 5 significant figures
        sig = min(sig, 1.0)  # ... but integer prices are always allowed
        if sig > step:
            step = sig
    dec = 10.0 ** (-(6.0 - sz_decimals))
    if dec > step:
        step = dec
    if step >= 1.0:
        step = math.floor(step + 1e-9)  # integer prices are always valid
    return step


@njit(cache=True)
def _decimals(step):
    d = 0
    while d < 12 and abs(step * 10.0 ** d - round(step * 10.0 ** d)) > 1e-6:
        d += 1
    return d


@njit(cache=True)
def round_bid(px, step):
    return round(math.floor(px / step + 1e-9) * step, _decimals(step))


@njit(cache=True)
def round_ask(px, step):
    return round(math.ceil(px / step - 1e-9) * step, _decimals(step))
