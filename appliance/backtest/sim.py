"""The backtester's njit loop: one chunk of market events through the live kernels.

Per event, in simulated time (the events' receive time, as the appliance sees them):

1. a ladder decided ``order_latency`` ago reaches the venue: our resting orders are
   reconciled with it by the live gateway's reconciler and pacing (``venue_exec``:
   keep within tolerance, modify, cancel, post-only place);
2. the event goes through the venue's matching kernels (queue position, maker
   fills, funding, liquidation); each of our fills is booked into the PositionState
   mirror (``paper.apply_fill``), stamped with the simulation time and fed to
   ``estimator.on_fill``;
3. the event goes through ``estimator.on_event``;
4. on a book, fills old enough get their markouts at the new mid;
5. on the requote timer, ``write_params`` -> ``compute_ladder``, and the ladder is
   sent (it takes effect ``order_latency`` later); the kernel's ``acct`` (available
   margin, leverage, liquidation price) comes from the simulated venue account,
   funded with ``[backtest] account_usd``, as the gateway publishes the real one;
6. on the sample timer, one point of the time series.

Prediction records (issue 14, scored by ``scoring.py``): each order of ours that
comes to rest gets a BT_ORDER record (``recs``: its level's prediction, first fill,
end; ``pred_records``), each fill a BT_FILL_INFO (``finfo``, beside ``fills``: its
order record, the ladder's P(toxic) on its side) and each requote a BT_REQUOTE
(``rqs``: the MarketParams forecasts and the mid they start from).

Market-data latency (``[backtest] md_latency_*``): the venue (1, 2, 4) takes each
event at its own time; the strategy (3, 5, 6: estimator, requote and sample timers)
sees it ``md latency`` later, at ``max(previous arrival, venue time + draw)`` so that
no event overtakes an earlier one. ``run_chunk_lagged`` interleaves the two in time
order with a lagging cursor over the events (no copy per event); the events of a
chunk the strategy has not seen yet are carried into the next call, and
``deliver_rest`` hands over the last ones. With no md latency ``run_chunk`` runs the
two sides back to back per event, as before. Our fills reach the position and the
estimator at the venue's time (user events: not market data).

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
from appliance.quote import account
from appliance.quote import kernel as quote
from appliance.quote import sizing as quote_sizing
from appliance.venue import matching
from shm_layout.backtest_records import (
    PROF_ESTIMATOR,
    PROF_MARK,
    PROF_MATCHING,
    PROF_QUOTE,
    PROF_RECONCILE,
    PROF_SAMPLE,
)
from shm_layout.constants import EV_BBO, EV_BOOK

from . import pred_records, venue_exec
from .bookkeeping import advance, buffers_full, mark_out, sample, track_position
from .funding import book_fundings
from .prefetch import PREFETCH_AHEAD, prefetch_event
from .stage_profile import lap, prof_kind

INT64_MAX = 9_223_372_036_854_775_807


def init_state(st, requote_interval_ns: int, order_latency_ns: int, sample_interval_ns: int,
               markout_ns, fill_horizon_ns: int = 0) -> None:
    """Reset a BT_STATE record for a fresh run; ``fill_horizon_ns``: the horizon of
    the ladder's fill probability, stamped on each order record."""
    st.fill(0)
    s = st[0]
    s["fill_horizon_ns"] = fill_horizon_ns
    s["bid_rec"][:] = -1
    s["ask_rec"][:] = -1
    for k in ("lad_tox_bid", "lad_tox_ask", "app_tox_bid", "app_tox_ask"):
        s[k] = np.nan
    s["requote_interval_ns"] = requote_interval_ns
    s["order_latency_ns"] = order_latency_ns
    s["sample_interval_ns"] = sample_interval_ns
    s["markout_ns"][:] = np.asarray(markout_ns, np.int64)
    s["last_mid_px"] = np.nan


# inline: a call with ~20 array arguments per event cost 4-17% of the loop (paired runs)
@njit(cache=True, inline="always")
def _venue_step(ev, t, st, est_state, q_cfg, lad, pos, vst, books, orders, accounts, positions,
                vfills, updates, res, cloid, pcfg, pstate, fills, markouts, recs, finfo):
    """The venue's side of one event at its own time ``t``: steps 1, 2 and 4."""
    k = prof_kind(ev.kind)
    c = lap(st, PROF_RECONCILE, k, 0)
    # 1. the ladder sent order_latency ago reaches the venue
    if st.apply_at_ns != 0 and t >= st.apply_at_ns:
        st.app_tox_bid = st.lad_tox_bid
        st.app_tox_ask = st.lad_tox_ask
        venue_exec.reconcile(st, vst, books, orders, accounts, positions, vfills, updates,
                             res, lad, pcfg, pstate, 0, cloid,
                             quote_sizing.max_position_sz(q_cfg, st.last_mid_px), recs)
        nf0 = st.n_fills
        st.n_fills = venue_exec.drain_fills(st, vst, vfills, pos, est_state, fills,
                                            st.n_fills, t, recs, finfo)
        if st.pull_flag != 0:
            st.n_fills_pull += st.n_fills - nf0
        track_position(st, pos, q_cfg)
        st.apply_at_ns = 0
        st.n_ladders_applied += 1
    c = lap(st, PROF_RECONCILE, k, c)

    # 2. the venue: queue, our fills, funding, liquidation (our fills reach the
    # position and the estimator now: user events carry no market-data latency)
    matching.on_market_event(vst, books, orders, accounts, positions, vfills, updates, ev)
    book_fundings(vst, updates, pos, 0, ev.coin)  # hourly funding into the position, as live
    if vst.n_fills > 0:
        nf0 = st.n_fills
        st.n_fills = venue_exec.drain_fills(st, vst, vfills, pos, est_state, fills,
                                            st.n_fills, t, recs, finfo)
        if st.pull_flag != 0:
            st.n_fills_pull += st.n_fills - nf0
        track_position(st, pos, q_cfg)
    else:
        vst.n_updates = 0
    c = lap(st, PROF_MATCHING, k, c)

    # 4. the market's mark and markouts on a new mid (truth, not the strategy's view)
    if (ev.kind == EV_BOOK or ev.kind == EV_BBO) and ev.n_bids > 0 and ev.n_asks > 0:
        bid = ev.lv.bid_px[0]
        ask = ev.lv.ask_px[0]
        if bid > 0.0 and ask > bid and math.isfinite(ask):
            mid = 0.5 * (bid + ask)
            st.last_bid_px = bid
            st.last_ask_px = ask
            st.last_mid_px = mid
            executor.mark(pos, mid)
            mark_out(st, fills, markouts, t, mid)
    lap(st, PROF_MARK, k, c)


@njit(cache=True, inline="always")
def _strategy_step(ev, t, st, est_state, est_cfg, p, q_cfg, acct, lad, pos, lat_arr, books,
                   orders, accounts, positions, samples, rqs):
    """The strategy's side of one event, seen at ``t``: steps 3, 5 and 6."""
    k = prof_kind(ev.kind)
    c = lap(st, PROF_ESTIMATOR, k, 0)
    # 3. the estimator
    estimator.on_event(est_state, est_cfg, ev)
    c = lap(st, PROF_ESTIMATOR, k, c)

    # 5. requote timer: the ladder leaves now, reaches the venue after the latency
    if t >= st.next_requote_ns:
        estimator.write_params(est_state, est_cfg, 0, p, t)
        # margin-aware sizing on our simulated account, read as the gateway publishes it
        # (account data is a user event: no market-data latency)
        venue_exec.publish_account(pos, books, accounts, positions, 0, t)
        pos.requests_sent = st.n_orders_placed + st.n_orders_modified + st.n_orders_cancelled
        account.fill_from_position(acct, pos, t, INT64_MAX)
        quote.compute_ladder(p, pos.position_sz, acct, q_cfg, 0, 0, t, lad)
        st.n_requotes += 1
        st.lad_tox_bid = p.toxicity_bid
        st.lad_tox_ask = p.toxicity_ask
        pred_records.requote(st, p, lad, rqs, t)
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
    c = lap(st, PROF_QUOTE, k, c)

    # 6. sample timer
    if t >= st.next_sample_ns:
        sample(st, pos, orders, samples, t)
        step = st.sample_interval_ns
        st.next_sample_ns += step * ((t - st.next_sample_ns) // step + 1)
    lap(st, PROF_SAMPLE, k, c)
    if st.profile != 0:
        st.prof_events[k] += 1


@njit(cache=True)
def run_chunk(evs, st_arr, est_state, est_cfg, params, q_cfg, acct, ladder, pos_arr,
              va_st_arr, books, orders, accounts, positions, vfills, updates, res, lat_arr,
              cloid, pcfg, pstate, fills, markouts, samples, recs, finfo, rqs, coin):
    """Simulate ``evs`` (MD_EVENT records) without market-data latency: the strategy
    sees each event at the venue's time, right after the venue. Only events of
    ``coin`` (index 0 at the venue) are traded. Returns the index of the first event
    not processed."""
    st = st_arr[0]
    pos = pos_arr[0]
    p = params[0]
    lad = ladder[0]
    vst = va_st_arr[0]
    n = evs.shape[0]
    for i in range(n):
        if buffers_full(st, fills, samples, recs, rqs):
            return i
        prefetch_event(evs, i + PREFETCH_AHEAD)  # the events arrive cold from memory
        ev = evs[i]
        if ev.coin != coin:
            continue
        t = ev.recv_ts_ns
        if t < st.now_ns:
            t = st.now_ns
        advance(st, t)
        st.n_events += 1
        _venue_step(ev, t, st, est_state, q_cfg, lad, pos, vst, books, orders, accounts,
                    positions, vfills, updates, res, cloid, pcfg, pstate, fills,
                    markouts, recs, finfo)
        _strategy_step(ev, t, st, est_state, est_cfg, p, q_cfg, acct, lad, pos, lat_arr,
                       books, orders, accounts, positions, samples, rqs)
        st.n_md_delivered += 1
    return n


@njit(cache=True)
def _deliver_due(carry, evs, limit, t_until, st, est_state, est_cfg, p, q_cfg, acct, lad, pos,
                 lat_arr, books, orders, accounts, positions, samples, rqs, coin, md_lat_arr):
    """The lagging cursor: hand the strategy every event of ``carry ++ evs`` before
    ``limit`` whose arrival (venue time + an md latency draw, never before the one
    before it) is ``<= t_until``. False when the samples or requote buffer needs room
    first."""
    nc = carry.shape[0]
    while st.md_next < limit:
        j = st.md_next
        ev = carry[j] if j < nc else evs[j - nc]
        if ev.coin != coin:
            st.md_next = j + 1
            continue
        if st.md_head_ready == 0:
            tv = ev.recv_ts_ns  # the venue's time for it (the running max, as the loop's)
            if tv < st.md_last_t_ns:
                tv = st.md_last_t_ns
            st.md_last_t_ns = tv
            a = tv + matching.sample_latency_ns(md_lat_arr[0])
            if a < st.md_last_arr_ns:
                a = st.md_last_arr_ns
            st.md_last_arr_ns = a
            st.md_head_arr_ns = a
            st.md_head_ready = 1
        a = st.md_head_arr_ns
        if a > t_until:
            return True
        if st.n_samples + 2 > samples.shape[0] or st.n_requote_recs + 2 > rqs.shape[0]:
            return False
        advance(st, a)
        _strategy_step(ev, a, st, est_state, est_cfg, p, q_cfg, acct, lad, pos, lat_arr,
                       books, orders, accounts, positions, samples, rqs)
        st.n_md_delivered += 1
        st.md_head_ready = 0
        st.md_next = j + 1
    return True


@njit(cache=True)
def run_chunk_lagged(carry, evs, i0, st_arr, est_state, est_cfg, params, q_cfg, acct, ladder,
                     pos_arr, va_st_arr, books, orders, accounts, positions, vfills, updates,
                     res, lat_arr, cloid, pcfg, pstate, fills, markouts, samples, recs, finfo,
                     rqs, coin, md_lat_arr):
    """``run_chunk`` with market-data latency: the venue takes ``evs[i0:]`` at their
    own time; the strategy follows on a lagging cursor (``st.md_next``) over
    ``carry ++ evs``, where ``carry`` holds the previous chunks' events it has not
    seen yet. Every step happens in time order. Returns the index of ``evs`` reached;
    the caller keeps ``(carry ++ evs)[st.md_next:]`` as the next carry."""
    st = st_arr[0]
    pos = pos_arr[0]
    p = params[0]
    lad = ladder[0]
    vst = va_st_arr[0]
    nc = carry.shape[0]
    n = evs.shape[0]
    for i in range(i0, n):
        if buffers_full(st, fills, samples, recs, rqs):
            return i
        prefetch_event(evs, i + PREFETCH_AHEAD)
        ev = evs[i]
        if ev.coin != coin:
            continue
        t = ev.recv_ts_ns
        if t < st.now_ns:
            t = st.now_ns
        # what the strategy saw before the venue's time t comes first
        if not _deliver_due(carry, evs, nc + i, t, st, est_state, est_cfg, p, q_cfg, acct, lad,
                            pos, lat_arr, books, orders, accounts, positions, samples, rqs, coin,
                            md_lat_arr):
            return i
        advance(st, t)
        st.n_events += 1
        _venue_step(ev, t, st, est_state, q_cfg, lad, pos, vst, books, orders, accounts,
                    positions, vfills, updates, res, cloid, pcfg, pstate, fills,
                    markouts, recs, finfo)
        # a zero draw: the strategy sees it now, as run_chunk does
        if not _deliver_due(carry, evs, nc + i + 1, t, st, est_state, est_cfg, p, q_cfg, acct,
                            lad, pos, lat_arr, books, orders, accounts, positions, samples, rqs,
                            coin, md_lat_arr):
            return i + 1
    return n


@njit(cache=True)
def deliver_rest(carry, st_arr, est_state, est_cfg, params, q_cfg, acct, ladder, pos_arr,
                 lat_arr, books, orders, accounts, positions, samples, rqs, coin, md_lat_arr):
    """End of the data: the strategy sees the events still in flight, each at its
    arrival (the clock runs on past the last event by up to the md latency). False
    when the samples or requote buffer needs room first (call again)."""
    return _deliver_due(carry, carry[:0], carry.shape[0], INT64_MAX, st_arr[0],
                        est_state, est_cfg, params[0], q_cfg, acct, ladder[0], pos_arr[0],
                        lat_arr, books, orders, accounts, positions, samples, rqs, coin,
                        md_lat_arr)


@njit(cache=True)
def finish(st_arr, pos_arr, orders, samples):
    """A last sample at the end of the data, marked at the last mid."""
    st = st_arr[0]
    pos = pos_arr[0]
    if math.isfinite(st.last_mid_px):
        executor.mark(pos, st.last_mid_px)
    if st.n_samples < samples.shape[0] and st.first_ns != 0:
        sample(st, pos, orders, samples, st.now_ns)
