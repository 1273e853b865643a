"""The backtester's prediction records, written from the njit loop and scored in
``scoring.py``.

Order records (BT_ORDER): one per order of ours that came to rest at the venue, with
the prediction of the ladder level it was placed for (fill probability over its
horizon, adverse selection, P(toxic)) and what became of it (first fill, end and
why); ``venue_exec`` calls ``new``, ``end``, ``gone``, ``on_fill`` at each action.
Requote records (BT_REQUOTE): the MarketParams forecasts at each requote (``requote``).
"""

from numba import njit

from shm_layout.backtest_records import END_FILLED, END_VENUE


@njit(cache=True)
def end(recs, r, t_ns, reason):
    """Order record ``r`` (-1: none) ends at ``t_ns`` unless it already has."""
    if r >= 0 and recs[r].ended_ns == 0:
        recs[r].ended_ns = t_ns
        recs[r].end_reason = reason


@njit(cache=True)
def gone(recs, r, now_ns):
    """The order of record ``r`` is no longer open at the venue: filled in full (ended
    at its last fill) or removed without a fill of ours (ended now)."""
    if r >= 0:
        if recs[r].first_fill_ns > 0:
            end(recs, r, recs[r].last_fill_ns, END_FILLED)
        else:
            end(recs, r, now_ns, END_VENUE)


@njit(cache=True)
def new(bt, recs, side, i, lad, oid, px, sz, now_ns):
    """A BT_ORDER record for an order of ours resting from now, placed for ladder level
    ``i`` of ``lad``; returns its index (-1 when the buffer is full)."""
    r = bt.n_order_recs
    if r >= recs.shape[0]:
        return -1
    rc = recs[r]
    rc.oid = oid
    rc.side = side
    rc.level = i
    rc.placed_ns = now_ns
    rc.horizon_ns = bt.fill_horizon_ns
    rc.first_fill_ns = 0
    rc.last_fill_ns = 0
    rc.ended_ns = 0
    rc.end_reason = 0
    rc.px = px
    rc.sz = sz
    rc.filled_sz = 0.0
    rc.mid_px = bt.last_mid_px
    if side > 0:
        rc.level_id = lad.bid_pred_id[i]
        rc.pred_fill_prob = lad.bid_fill_prob[i]
        rc.pred_as_bps = lad.bid_as_bps[i]
        rc.pred_toxicity = bt.app_tox_bid
    else:
        rc.level_id = lad.ask_pred_id[i]
        rc.pred_fill_prob = lad.ask_fill_prob[i]
        rc.pred_as_bps = lad.ask_as_bps[i]
        rc.pred_toxicity = bt.app_tox_ask
    bt.n_order_recs = r + 1
    return r


@njit(cache=True)
def on_fill(bt, recs, k, side, fi, sz, t_sim):
    """A fill of tracked order ``k``: its order record takes it, ``fi`` (BT_FILL_INFO)
    gets the record and the ladder's P(toxic) on that side."""
    r = -1
    if k >= 0:
        r = bt.bid_rec[k] if side > 0 else bt.ask_rec[k]
    fi.order = r
    fi.pred_toxicity = bt.app_tox_bid if side > 0 else bt.app_tox_ask
    if r >= 0:
        rc = recs[r]
        if rc.first_fill_ns == 0:
            rc.first_fill_ns = t_sim
        rc.last_fill_ns = t_sim
        rc.filled_sz += sz


@njit(cache=True)
def requote(st, p, lad, rqs, t):
    """The forecasts of this requote's MarketParams, and the mid they start from."""
    k = st.n_requote_recs
    if k >= rqs.shape[0]:
        return
    r = rqs[k]
    r.ts_ns = t
    r.mid_px = p.mid_px
    r.drift_bps_per_s = p.drift_bps_per_s
    r.microprice_adj_bps = p.microprice_adj_bps
    r.lead_bps_per_s = p.lead_bps_per_s
    r.lead_lag_s = p.lead_lag_s
    r.lead_lag_corr = p.lead_lag_corr
    r.toxicity_bid = p.toxicity_bid
    r.toxicity_ask = p.toxicity_ask
    r.valid = p.valid
    r.drift_status = p.drift_status
    r.microprice_status = p.microprice_status
    r.microprice_fallback = p.microprice_fallback
    r.basis_status = p.basis_status
    r.pulled_reason = lad.pulled_reason
    st.n_requote_recs = k + 1
