"""Small numeric helpers shared by the estimator modules."""

import math

from numba import njit

LN2 = math.log(2.0)


@njit(cache=True, inline="always")
def decay(dt_s, halflife_s):
    """exp(-ln2 dt / halflife): the weight an EWMA keeps after dt (1 when dt <= 0)."""
    if dt_s <= 0.0:
        return 1.0
    return math.exp(-LN2 * dt_s / halflife_s)


@njit(cache=True, inline="always")
def clamp(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@njit(cache=True, inline="always")
def norm_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))
