"""Fill-size shift (seed 003 phase 8): are our recent fills on one side unusually large?

Informed traders trade in different sizes; a run of large fills on our bid (sellers
coming through) is bearish. Sizes are compared in logs (they are skewed):
  baseline: EWMA mean and variance of ln(size) over all our fills (~50 fills);
  per side: a fast EWMA of ln(size) over that side's fills (~5 fills);
  z(side) = (fast_side - baseline mean) / baseline std, 0 until MIN_FILLS fills in all
  and MIN_SIDE fills on that side, clipped to +-Z_MAX.
Feeds ``drift_kalman.obs_fill_size(size_z_bid, size_z_ask)`` at the warm tier (its own
alpha switches it off). State: an f8 slice of N_STATE_FSIZE words.
"""

import math

from numba import njit

from shm_layout.estimators import fill_size as declared

S_MEAN = 0
S_VAR = 1
S_N = 2
S_BID = 3  # fast EWMA of ln(size) of fills on our bid (we bought)
S_ASK = 4
S_N_BID = 5
S_N_ASK = 6
N_STATE_FSIZE = 8
assert declared.STATE.itemsize == N_STATE_FSIZE * 8, 'size declared in shm_layout/estimators'

BASE_ALPHA = 0.02  # ~50 fills
FAST_ALPHA = 0.2  # ~5 fills
MIN_FILLS = 10
MIN_SIDE = 3
Z_MAX = 4.0


@njit(cache=True)
def init(st):
    st[:N_STATE_FSIZE] = 0.0


@njit(cache=True)
def on_fill(st, side, sz):
    """One of our fills: side +1 = our bid was hit (we bought), sz > 0."""
    if not (sz > 0.0 and math.isfinite(sz)):
        return
    x = math.log(sz)
    n = st[S_N]
    a = max(1.0 / (n + 1.0), BASE_ALPHA)
    d = x - st[S_MEAN]
    st[S_MEAN] += a * d
    st[S_VAR] = (1.0 - a) * (st[S_VAR] + a * d * d)
    st[S_N] = n + 1.0
    o, k = (S_BID, S_N_BID) if side > 0 else (S_ASK, S_N_ASK)
    b = max(1.0 / (st[k] + 1.0), FAST_ALPHA)
    st[o] += b * (x - st[o])
    st[k] += 1.0


@njit(cache=True)
def zscore(st, side):
    """z of recent fill sizes on ``side`` (+1 our bid) against the baseline."""
    o, k = (S_BID, S_N_BID) if side > 0 else (S_ASK, S_N_ASK)
    if st[S_N] < MIN_FILLS or st[k] < MIN_SIDE:
        return 0.0
    sd = math.sqrt(max(st[S_VAR], 1e-6))  # equal sizes: a floor, so a change still shows
    z = (st[o] - st[S_MEAN]) / sd
    return min(max(z, -Z_MAX), Z_MAX)
