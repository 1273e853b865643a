"""Small helpers shared by the estimator modules: numeric ones and ``status``, the
MarketParams status every estimator's ``publish`` reports."""

import math

from numba import njit

from shm_layout.constants import EST_OFF, EST_STALE, EST_VALID, EST_WARMING

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


@njit(cache=True, inline="always")
def status(enabled, ready, last_ns, now_ns, stale_ns):
    """An estimator's MarketParams status: off, warming (not ready), stale (its input
    is older than ``stale_ns`` at event time ``now_ns``) or valid."""
    if not enabled:
        return EST_OFF
    if not ready:
        return EST_WARMING
    if now_ns - last_ns > stale_ns:
        return EST_STALE
    return EST_VALID
