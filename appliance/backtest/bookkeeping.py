"""The backtest loop's bookkeeping of BT_STATE, per event and per timer (``sim``):
the clock (``advance``), room in the output buffers (``buffers_full``), markouts of
our fills at a new mid (``mark_out``), the largest positions held
(``track_position``) and one point of the time series (``sample``).

The per-event ones are inlined into the chunk loops, as the loop's steps are.
"""

import numpy as np
from numba import njit

from appliance.quote import sizing as quote_sizing
from shm_layout.backtest_records import N_MARKOUTS
from shm_layout.constants import MAX_LEVELS

from . import venue_exec

# Room a single event may need in the fills buffer (a sweep through every level).
FILL_HEADROOM = 4 * MAX_LEVELS
ORDER_HEADROOM = 2 * MAX_LEVELS  # order records one reconcile may start


@njit(cache=True)
def sample(st, pos, orders, samples, t):
    k = st.n_samples
    sm = samples[k]
    sm.ts_ns = t
    bid = st.last_bid_px
    ask = st.last_ask_px
    if bid > 0.0:
        sm.mid_px = 0.5 * (bid + ask)
        sm.best_bid_px = bid
        sm.best_ask_px = ask
    else:
        sm.mid_px = np.nan
        sm.best_bid_px = np.nan
        sm.best_ask_px = np.nan
    sm.our_bid_px = venue_exec.our_best(st, orders, 1)
    sm.our_ask_px = venue_exec.our_best(st, orders, -1)
    sm.position_sz = pos.position_sz
    sm.pnl_usd = pos.total_pnl_usd
    sm.n_fills = st.n_fills
    sm.n_open_orders = st.n_bid_orders + st.n_ask_orders
    sm.drift_bps_per_s = st.last_drift_bps_per_s
    sm.drift_oob_neg = st.oob_neg_flag
    sm.should_pull = st.pull_seen_flag
    sm.ladder_n_bids = st.last_n_bids
    sm.ladder_n_asks = st.last_n_asks
    st.oob_neg_flag = 0
    st.pull_seen_flag = st.pull_flag
    st.n_samples = k + 1


@njit(cache=True)
def track_position(st, pos, q_cfg):
    """Largest positions held, in coin and as shares of the limit at the mid of the time
    (a limit without a mid counts as reached)."""
    q = pos.position_sz
    lim = quote_sizing.max_position_sz(q_cfg, st.last_mid_px)
    frac = abs(q) / lim if lim > 0.0 else (1.0 if q != 0.0 else 0.0)
    if q > 0.0 and frac > st.max_long_frac:
        st.max_long_frac = frac
    if q < 0.0 and frac > st.max_short_frac:
        st.max_short_frac = frac
    if frac > st.max_abs_frac:
        st.max_abs_frac = frac
    if q > st.max_long_sz:
        st.max_long_sz = q
    if -q > st.max_short_sz:
        st.max_short_sz = -q
    if abs(q) > st.max_abs_position_sz:
        st.max_abs_position_sz = abs(q)


# inline (as the loop's steps): a call with four array arguments on every event
@njit(cache=True, inline="always")
def buffers_full(st, fills, samples, recs, rqs):
    """True when an event might not find room in a buffer (the caller grows them)."""
    return (st.n_fills + FILL_HEADROOM > fills.shape[0] or st.n_samples + 2 > samples.shape[0]
            or st.n_order_recs + ORDER_HEADROOM > recs.shape[0]
            or st.n_requote_recs + 2 > rqs.shape[0])


@njit(cache=True, inline="always")
def mark_out(st, fills, markouts, t, mid):
    nf = st.n_fills
    for h in range(N_MARKOUTS):
        j = st.markout_next[h]
        horizon = st.markout_ns[h]
        while j < nf and fills[j].pub_mono_ns + horizon <= t:
            f = fills[j]
            markouts[j, h] = f.side * (mid - f.px) / f.px * 1e4
            j += 1
        st.markout_next[h] = j


@njit(cache=True, inline="always")
def advance(st, t):
    """Move the clock to ``t`` (never backwards): time under should_pull_quotes."""
    if st.pull_flag != 0 and st.first_ns != 0:  # time under should_pull_quotes
        st.pull_ns += t - st.now_ns
        if st.n_bid_orders + st.n_ask_orders > 0:
            st.quoted_pull_ns += t - st.now_ns
    st.now_ns = t
    if st.first_ns == 0:
        st.first_ns = t
        st.next_requote_ns = t
        st.next_sample_ns = t
