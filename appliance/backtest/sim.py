"""The backtester's njit loop: one chunk of market events through the live kernels.

Per event, in simulated time (the events' receive time, as the appliance sees them):

1. a ladder decided ``order_latency`` ago reaches the venue: our resting orders are
   reconciled with it (keep within tolerance, else cancel and post-only place);
2. the event goes through the venue's matching kernels (queue position, maker
   fills, funding, liquidation); each of our fills is booked into the PositionState
   mirror (``paper.apply_fill``), stamped with the simulation time and fed to
   ``estimator.on_fill``;
3. the event goes through ``estimator.on_event``;
4. on a book, fills old enough get their markouts at the new mid;
5. on the requote timer, ``write_params`` -> ``compute_ladder``, and the ladder is
   sent (it takes effect ``order_latency`` later);
6. on the sample timer, one point of the time series.

The kernels are the processes' own modules and the venue's (imported, never copied). The loop stops
early, returning the index reached, when the fills or samples buffer could overflow:
the caller grows them and calls again. All state lives in the arrays passed in, so
chunks chain.
"""

import math

import numpy as np
from numba import njit

from appliance.estimator import kernel as estimator
from appliance.gateway import paper as executor
from appliance.quote import kernel as quote
from appliance.venue import matching
from shm_layout.backtest_records import N_MARKOUTS
from shm_layout.constants import EV_BBO, EV_BOOK, MAX_LEVELS

from . import venue_exec

# Room a single event may need in the fills buffer (a sweep through every level).
FILL_HEADROOM = 4 * MAX_LEVELS


def init_state(st, requote_interval_ns: int, order_latency_ns: int, sample_interval_ns: int,
               markout_ns) -> None:
    """Reset a BT_STATE record for a fresh run."""
    st.fill(0)
    s = st[0]
    s["requote_interval_ns"] = requote_interval_ns
    s["order_latency_ns"] = order_latency_ns
    s["sample_interval_ns"] = sample_interval_ns
    s["markout_ns"][:] = np.asarray(markout_ns, np.int64)
    s["last_mid_px"] = np.nan


@njit(cache=True)
def _sample(st, pos, orders, samples, t):
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
def _track_position(st, pos):
    q = pos.position_sz
    if q > st.max_long_sz:
        st.max_long_sz = q
    if -q > st.max_short_sz:
        st.max_short_sz = -q
    if abs(q) > st.max_abs_position_sz:
        st.max_abs_position_sz = abs(q)


@njit(cache=True)
def _mark_out(st, fills, markouts, t, mid):
    nf = st.n_fills
    for h in range(N_MARKOUTS):
        j = st.markout_next[h]
        horizon = st.markout_ns[h]
        while j < nf and fills[j].pub_mono_ns + horizon <= t:
            f = fills[j]
            markouts[j, h] = f.side * (mid - f.px) / f.px * 1e4
            j += 1
        st.markout_next[h] = j


@njit(cache=True)
def run_chunk(evs, st_arr, est_state, est_cfg, params, q_cfg, acct, ladder, pos_arr,
              va_st_arr, books, orders, accounts, positions, vfills, updates, res, lat_arr,
              cloid, tol_bps, sz_tol_frac, fills, markouts, samples, coin):
    """Simulate ``evs`` (MD_EVENT records); only events of ``coin`` (index 0 at the
    venue) are traded. Returns the index of the first event not processed."""
    st = st_arr[0]
    pos = pos_arr[0]
    p = params[0]
    lad = ladder[0]
    vst = va_st_arr[0]
    n = evs.shape[0]
    for i in range(n):
        if st.n_fills + FILL_HEADROOM > fills.shape[0] or st.n_samples + 2 > samples.shape[0]:
            return i
        ev = evs[i]
        if ev.coin != coin:
            continue
        t = ev.recv_ts_ns
        if t < st.now_ns:
            t = st.now_ns
        if st.pull_flag != 0 and st.first_ns != 0:  # time under should_pull_quotes
            st.pull_ns += t - st.now_ns
            if st.n_bid_orders + st.n_ask_orders > 0:
                st.quoted_pull_ns += t - st.now_ns
        st.now_ns = t
        if st.first_ns == 0:
            st.first_ns = t
            st.next_requote_ns = t
            st.next_sample_ns = t
        st.n_events += 1

        # 1. the ladder sent order_latency ago reaches the venue
        if st.apply_at_ns != 0 and t >= st.apply_at_ns:
            venue_exec.reconcile(st, vst, books, orders, accounts, positions, vfills, updates,
                                 res, lad, tol_bps, sz_tol_frac, 0, cloid,
                                 q_cfg[quote.C_MAX_POSITION_SZ])
            nf0 = st.n_fills
            st.n_fills = venue_exec.drain_fills(st, vst, vfills, pos, est_state, fills,
                                                st.n_fills, t)
            if st.pull_flag != 0:
                st.n_fills_pull += st.n_fills - nf0
            _track_position(st, pos)
            st.apply_at_ns = 0
            st.n_ladders_applied += 1

        # 2. the venue: queue, our fills, funding, liquidation
        matching.on_market_event(vst, books, orders, accounts, positions, vfills, updates, ev)
        if vst.n_fills > 0:
            nf0 = st.n_fills
            st.n_fills = venue_exec.drain_fills(st, vst, vfills, pos, est_state, fills,
                                                st.n_fills, t)
            if st.pull_flag != 0:
                st.n_fills_pull += st.n_fills - nf0
            _track_position(st, pos)
        else:
            vst.n_updates = 0

        # 3. the estimator
        estimator.on_event(est_state, est_cfg, ev)

        # 4. mark and markouts on a new mid
        if (ev.kind == EV_BOOK or ev.kind == EV_BBO) and ev.n_bids > 0 and ev.n_asks > 0:
            bid = ev.bid_px[0]
            ask = ev.ask_px[0]
            if bid > 0.0 and ask > bid and math.isfinite(ask):
                mid = 0.5 * (bid + ask)
                st.last_bid_px = bid
                st.last_ask_px = ask
                st.last_mid_px = mid
                executor.mark(pos, mid)
                _mark_out(st, fills, markouts, t, mid)

        # 5. requote timer: the ladder leaves now, reaches the venue after the latency
        if t >= st.next_requote_ns:
            estimator.write_params(est_state, est_cfg, 0, p, t)
            quote.compute_ladder(p, pos.position_sz, acct, q_cfg, 0, 0, t, lad)
            st.n_requotes += 1
            st.n_gate_disagree += lad.legacy_gate_disagree
            st.pull_flag = 1 if p.should_pull_quotes != 0 else 0
            if st.pull_flag != 0:
                st.n_requotes_pull += 1
                st.pull_seen_flag = 1
            if p.drift_out_of_band != 0 and p.drift_bps_per_s < 0.0:
                st.oob_neg_flag = 1
            st.last_drift_bps_per_s = p.drift_bps_per_s
            st.last_n_bids = lad.n_bids
            st.last_n_asks = lad.n_asks
            st.apply_at_ns = t + max(matching.sample_latency_ns(lat_arr[0]), 1)
            step = st.requote_interval_ns
            st.next_requote_ns += step * ((t - st.next_requote_ns) // step + 1)

        # 6. sample timer
        if t >= st.next_sample_ns:
            _sample(st, pos, orders, samples, t)
            step = st.sample_interval_ns
            st.next_sample_ns += step * ((t - st.next_sample_ns) // step + 1)
    return n


@njit(cache=True)
def finish(st_arr, pos_arr, orders, samples):
    """A last sample at the end of the data, marked at the last mid."""
    st = st_arr[0]
    pos = pos_arr[0]
    if math.isfinite(st.last_mid_px):
        executor.mark(pos, st.last_mid_px)
    if st.n_samples < samples.shape[0] and st.first_ns != 0:
        _sample(st, pos, orders, samples, st.now_ns)
