"""Fill-size shift (seed 003 phase 8): are our recent fills on one side unusually large?

Informed traders trade in different sizes; a run of large fills on our bid (sellers
coming through) is bearish. Sizes are compared in logs (they are skewed):
  baseline: EWMA mean and variance of ln(size) over all our fills (~50 fills);
  per side: a fast EWMA of ln(size) over that side's fills (~5 fills);
  z(side) = (fast_side - baseline mean) / baseline std, 0 until MIN_FILLS fills in all
  and MIN_SIDE fills on that side, clipped to +-Z_MAX.
Feeds ``drift_kalman.obs_fill_size(size_z_bid, size_z_ask)`` at the warm tier (its own
alpha switches it off). State: the record ``shm_layout/estimators/fill_size.py`` declares.
"""

import math

from numba import njit

BASE_ALPHA = 0.02  # ~50 fills
FAST_ALPHA = 0.2  # ~5 fills
MIN_FILLS = 10
MIN_SIDE = 3
Z_MAX = 4.0


@njit(cache=True)
def init(st):
    st.mean_ln_sz = st.var_ln_sz = st.bid_ln_sz = st.ask_ln_sz = 0.0
    st.n_fills = st.n_bid_fills = st.n_ask_fills = 0


@njit(cache=True)
def on_fill(st, side, sz):
    """One of our fills: side +1 = our bid was hit (we bought), sz > 0."""
    if not (sz > 0.0 and math.isfinite(sz)):
        return
    x = math.log(sz)
    n = st.n_fills
    a = max(1.0 / (n + 1.0), BASE_ALPHA)
    d = x - st.mean_ln_sz
    st.mean_ln_sz += a * d
    st.var_ln_sz = (1.0 - a) * (st.var_ln_sz + a * d * d)
    st.n_fills = n + 1
    if side > 0:
        st.bid_ln_sz += max(1.0 / (st.n_bid_fills + 1.0), FAST_ALPHA) * (x - st.bid_ln_sz)
        st.n_bid_fills += 1
    else:
        st.ask_ln_sz += max(1.0 / (st.n_ask_fills + 1.0), FAST_ALPHA) * (x - st.ask_ln_sz)
        st.n_ask_fills += 1


@njit(cache=True)
def zscore(st, side):
    """z of recent fill sizes on ``side`` (+1 our bid) against the baseline."""
    fast, n_side = (st.bid_ln_sz, st.n_bid_fills) if side > 0 else (st.ask_ln_sz, st.n_ask_fills)
    if st.n_fills < MIN_FILLS or n_side < MIN_SIDE:
        return 0.0
    sd = math.sqrt(max(st.var_ln_sz, 1e-6))  # equal sizes: a floor, so a change still shows
    z = (fast - st.mean_ln_sz) / sd
    return min(max(z, -Z_MAX), Z_MAX)


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_fill(state, cfg, q, t):
    on_fill(state.fill_size, float(q.side), q.sz)
