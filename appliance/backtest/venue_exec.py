"""Our orders at the local venue's matching core, from the njit loop.

The venue kernels (``appliance.venue.matching``: queue position, maker fills,
accounts, and ``modify_order``, the queue rule of a modify) are called as they are;
this module does what the live gateway does for them, with the live gateway's code:

* the plan is ``gateway.reconcile_kernel.plan`` (keep within tolerance or, with edge,
  within the keep tolerance; modify,
  cancel, place; targets under the minimum notional dropped), paced by
  ``pacing_kernel.ration`` with the live token bucket and volume-earned request
  budget (``[gateway] requote_*``; the volume is our venue account's);
* prices and sizes are rounded by ``hyperliquid.rules`` (bids down, asks up);
* the actions go out as the gateway's batches do (cancels, then modifies, then
  post-only orders), each batch charged to the rate budget (IP weight, address
  requests), counted in BT_STATE;
* a new order or a growing modify is not sent when it would let the side's resting
  size carry the position past the maximum (the pre-trade gate): fills during the
  order latency may have used the room the ladder was computed with.

It also turns the venue's fills into FILL_EVENT records booked into the PositionState
mirror the quote kernel reads, and publishes the simulated account's margin there
(``publish_account``, as the gateway does from clearinghouseState).

Prediction records (issue 14), in simulated time (``bt.now_ns``, the clock of the fills
and markouts; the venue's clock may run on exchange timestamps): every order that
comes to rest gets a BT_ORDER record
(``recs``) with the prediction of the ladder level it was placed for; a cancel, a
modify (a new order at the back of the queue: the old record ends, a new one starts
with the new level's prediction), a fill and the order's disappearance at the venue
are written into it. A kept order keeps its record (its placement's prediction).
"""

import math

import numpy as np
from numba import njit

from appliance.estimator import kernel as estimator
from appliance.gateway import pacing_kernel as pk
from appliance.gateway import paper
from appliance.gateway import reconcile_kernel as rk
from appliance.gateway import request_reasons as rr
from appliance.venue import matching
from shm_layout.backtest_records import END_CANCELLED, END_MODIFIED
from shm_layout.constants import MAX_LEVELS
from shm_layout.venue_records import OS_OPEN, RES_RESTING, TIF_ALO

from . import pred_records as records


@njit(cache=True)
def _move(k, m, slots, oids, lvl, pid, pfp, pas, rec):
    """Tracked order k moves to index m (compaction)."""
    slots[m] = slots[k]
    oids[m] = oids[k]
    lvl[m] = lvl[k]
    pid[m] = pid[k]
    pfp[m] = pfp[k]
    pas[m] = pas[k]
    rec[m] = rec[k]


@njit(cache=True)
def _live(orders, slots, oids, lvl, pid, pfp, pas, rec, n, recs, now_ns):
    """Compact the tracked orders to those still open; returns how many. An order
    gone at the venue ends its record: at its last fill when filled, else now."""
    m = 0
    for k in range(n):
        o = orders[slots[k]]
        if o.oid == oids[k] and o.status == OS_OPEN:
            _move(k, m, slots, oids, lvl, pid, pfp, pas, rec)
            m += 1
        else:
            records.gone(recs, rec[k], now_ns)
    return m


@njit(cache=True)
def _predict(k, i, lvl, pid, pfp, pas, tgt_id, tgt_fp, tgt_as):
    """Tracked order k serves ladder level i: it carries that level's predictions."""
    lvl[k] = i
    pid[k] = tgt_id[i]
    pfp[k] = tgt_fp[i]
    pas[k] = tgt_as[i]


@njit(cache=True)
def _charge(bt, n_actions):
    """One /exchange batch of ``n_actions`` at the rate budget (``rate_budget``'s
    ``charge_exchange``): IP weight 1 + n // 40, one address request per action."""
    if n_actions > 0:
        bt.n_exchange_requests += 1
        bt.ip_weight_used += rk.exchange_weight(n_actions)
        bt.address_requests_used += n_actions


@njit(cache=True)
def plan_for(bt, orders, books, lad, pcfg, pstate, coin, now_ns, recs, volume_usd):
    """The live gateway's plan for ``lad`` against our tracked orders, now:
    ``reconcile_kernel.plan`` then ``ration`` (pacing state ``pstate`` advances; the
    volume budget at ``volume_usd`` traded so far);
    the records of orders gone since (BT_ORDER ``recs``) end.
    Returns (rows, live is_buy, px, sz, target is_buy, px, sz, level, bids tracked, each
    row's ``request_reasons`` reason); the live orders are the bids tracked, then the asks."""
    n_max = 2 * MAX_LEVELS
    flags = np.zeros((2, n_max), np.bool_)
    l_buy, t_buy = flags[0], flags[1]
    values = np.zeros((6, n_max))
    l_px, l_sz, t_px, t_sz, t_edge, t_value = (values[0], values[1], values[2], values[3], values[4],
                                              values[5])
    t_lvl = np.zeros(n_max, np.int64)
    out = np.zeros((2 * n_max + 2, 3), np.int64)
    nb = _live(orders, bt.bid_slot, bt.bid_oid, bt.bid_level, bt.bid_pred_id, bt.bid_pred_fp,
               bt.bid_pred_as, bt.bid_rec, bt.n_bid_orders, recs, bt.now_ns)
    na = _live(orders, bt.ask_slot, bt.ask_oid, bt.ask_level, bt.ask_pred_id, bt.ask_pred_fp,
               bt.ask_pred_as, bt.ask_rec, bt.n_ask_orders, recs, bt.now_ns)
    bt.n_bid_orders = nb
    bt.n_ask_orders = na
    for k in range(nb):
        o = orders[bt.bid_slot[k]]
        l_buy[k] = True
        l_px[k] = o.px
        l_sz[k] = o.sz
    for k in range(na):
        o = orders[bt.ask_slot[k]]
        l_buy[nb + k] = False
        l_px[nb + k] = o.px
        l_sz[nb + k] = o.sz
    nt = rk.ladder_targets(lad, books[coin].sz_decimals, t_buy, t_px, t_sz, t_lvl, t_edge, t_value)
    n, dropped = rk.plan(l_buy, l_px, l_sz, nb + na, t_buy, t_px, t_sz, t_edge, t_value, nt, True, True,
                         pcfg, out, pk.request_cost_now(pcfg, pstate, volume_usd))
    bt.n_targets_dropped += dropped
    reasons = np.empty(max(n, 1), np.int64)
    rr.classify(out, n, l_buy, l_px, l_sz, t_buy, t_px, t_sz, t_edge, pcfg, reasons)
    bt.n_actions_deferred += pk.ration(out, n, l_buy, l_px, l_sz, t_buy, t_px, t_sz, t_lvl,
                                       pcfg, pstate, now_ns * 1e-9,
                                       pcfg[rk.C_BUDGET_PER_MIN] / 60.0, volume_usd)
    return out[:n], l_buy, l_px, l_sz, t_buy, t_px, t_sz, t_lvl, nb, reasons


@njit(cache=True)
def _track(bt, is_buy, m, slot, oid, i, lad, rec):
    """Order (slot, oid), with order record ``rec``, serves ladder level ``i``: tracked
    at the end of its side (``m``: orders tracked per side, advanced)."""
    if is_buy:
        bt.bid_slot[m[0]] = slot
        bt.bid_oid[m[0]] = oid
        bt.bid_rec[m[0]] = rec
        _predict(m[0], i, bt.bid_level, bt.bid_pred_id, bt.bid_pred_fp, bt.bid_pred_as,
                 lad.bid_pred_id, lad.bid_fill_prob, lad.bid_as_bps)
        m[0] += 1
    else:
        bt.ask_slot[m[1]] = slot
        bt.ask_oid[m[1]] = oid
        bt.ask_rec[m[1]] = rec
        _predict(m[1], i, bt.ask_level, bt.ask_pred_id, bt.ask_pred_fp, bt.ask_pred_as,
                 lad.ask_pred_id, lad.ask_fill_prob, lad.ask_as_bps)
        m[1] += 1


@njit(cache=True)
def reconcile(bt, va_st, books, orders, accounts, positions, vfills, updates, res, lad,
              pcfg, pstate, coin, cloid, max_pos_sz, recs):
    """Bring our venue orders in line with the ladder ``lad`` (a TARGET_LADDER), now, as
    the live gateway does: its plan (``reconcile_kernel``), its pacing, its batches
    (cancels, then modifies, then post-only orders, each charged to the rate budget)
    and the venue's modify (``matching.modify_order``: a new order at the queue's back).
    No side ever rests more than ``max_pos_sz`` beyond the venue position. The order
    records ``recs`` (BT_ORDER) follow every action."""
    now = va_st.now_ns
    n_max = 2 * MAX_LEVELS
    out, l_buy, l_px, l_sz, t_buy, t_px, t_sz, t_lvl, nb, why = plan_for(bt, orders, books, lad, pcfg,
                                                                    pstate, coin, now, recs,
                                                                    accounts[0].volume_usd)
    n = out.shape[0]
    # the live slots (by plan index) before anything moves
    ids = np.zeros((3, n_max), np.int64)
    slot, oid, rec = ids[0], ids[1], ids[2]
    for j in range(bt.n_bid_orders):
        slot[j] = bt.bid_slot[j]
        oid[j] = bt.bid_oid[j]
        rec[j] = bt.bid_rec[j]
    for k in range(bt.n_ask_orders):
        slot[nb + k] = bt.ask_slot[k]
        oid[nb + k] = bt.ask_oid[k]
        rec[nb + k] = bt.ask_rec[k]
    m = np.zeros(2, np.int64)  # orders tracked per side after this plan (0 bids, 1 asks)
    n_cancel = 0
    for r in range(n):  # keeps first: they hold their place and their level
        if out[r, 0] == rk.ACT_KEEP:
            j = out[r, 1]
            _track(bt, l_buy[j], m, slot[j], oid[j], t_lvl[out[r, 2]], lad, rec[j])
            bt.n_orders_kept += 1
        elif out[r, 0] == rk.ACT_CANCEL:  # 1. cancels (they free margin)
            matching.cancel_order(va_st, books, orders, updates, slot[out[r, 1]], now)
            records.end(recs, rec[out[r, 1]], bt.now_ns, END_CANCELLED)
            bt.n_orders_cancelled += 1
            pstate[pk.P_REASONS + why[r]] += 1.0
            n_cancel += 1
    _charge(bt, n_cancel)
    # exposure each side may still add: the limit, less the position and what rests
    # (a limit not known, NaN: no room)
    lim = max_pos_sz if max_pos_sz > 0.0 else 0.0
    room = np.array([lim - positions[0, coin].szi, lim + positions[0, coin].szi])
    for k in range(m[0]):
        room[0] -= orders[bt.bid_slot[k]].sz
    for k in range(m[1]):
        room[1] -= orders[bt.ask_slot[k]].sz
    n_mod = 0
    for r in range(n):  # 2. modifies: the venue's rule (cancel + new order at the back)
        if out[r, 0] != rk.ACT_MODIFY:
            continue
        j = out[r, 1]
        i = out[r, 2]
        s = 0 if l_buy[j] else 1
        if m[s] >= MAX_LEVELS:
            continue
        if t_sz[i] > room[s] * (1.0 + 1e-9):  # the pre-trade gate denies it: it rests as it is
            _track(bt, l_buy[j], m, slot[j], oid[j], t_lvl[i], lad, rec[j])
            room[s] -= l_sz[j]
            continue
        code = matching.modify_order(va_st, books, orders, accounts, positions, vfills, updates,
                                     slot[j], 0, coin, 1 - 2 * s, t_px[i], t_sz[i], TIF_ALO, 0,
                                     cloid, 0, now, now, res)
        bt.n_orders_modified += 1
        pstate[pk.P_REASONS + why[r]] += 1.0
        n_mod += 1
        room[s] -= t_sz[i]
        records.end(recs, rec[j], bt.now_ns, END_MODIFIED)
        if code == RES_RESTING:
            o = orders[res[0].slot]
            r_new = records.new(bt, recs, 1 - 2 * s, t_lvl[i], lad, res[0].oid, o.px, o.sz,
                                    bt.now_ns)
            _track(bt, l_buy[j], m, res[0].slot, res[0].oid, t_lvl[i], lad, r_new)
        else:
            bt.n_orders_rejected += 1
    _charge(bt, n_mod)
    n_new = 0
    for r in range(n):  # 3. new post-only orders
        if out[r, 0] != rk.ACT_PLACE:
            continue
        i = out[r, 2]
        s = 0 if t_buy[i] else 1
        if m[s] >= MAX_LEVELS or t_sz[i] > room[s] * (1.0 + 1e-9):
            continue  # fills since the ladder was computed used the room
        room[s] -= t_sz[i]
        code = matching.place_order(va_st, books, orders, accounts, positions, vfills, updates,
                                    0, coin, 1 - 2 * s, t_px[i], t_sz[i], TIF_ALO, 0,
                                    cloid, 0, now, now, res)
        bt.n_orders_placed += 1
        pstate[pk.P_REASONS + why[r]] += 1.0
        n_new += 1
        if code == RES_RESTING:
            o = orders[res[0].slot]
            r_new = records.new(bt, recs, 1 - 2 * s, t_lvl[i], lad, res[0].oid, o.px, o.sz,
                                    bt.now_ns)
            _track(bt, t_buy[i], m, res[0].slot, res[0].oid, t_lvl[i], lad, r_new)
        else:
            bt.n_orders_rejected += 1
    _charge(bt, n_new)
    bt.n_bid_orders = m[0]
    bt.n_ask_orders = m[1]


@njit(cache=True)
def _tracked(bt, oid, side):
    """Index of our tracked order ``oid`` on ``side`` (-1: not tracked)."""
    n = bt.n_bid_orders if side > 0 else bt.n_ask_orders
    oids = bt.bid_oid if side > 0 else bt.ask_oid
    for k in range(n):
        if oids[k] == oid:
            return k
    return -1


@njit(cache=True)
def drain_fills(bt, va_st, vfills, pos, est_state, fills, nf, t_sim, recs, finfo):
    """Move the venue's new fills into ``fills`` (FILL_EVENT) from ``nf``, book them
    into ``pos`` and the estimator, and into their order records (``recs``, with
    ``finfo`` beside ``fills``); empty the venue's output buffers. Returns the count.
    A fill's ``mid_px`` is the market's mid before the event that filled it."""
    mid = bt.last_mid_px
    for j in range(va_st.n_fills):
        v = vfills[j]
        if v.account != 0 or nf >= fills.shape[0]:
            continue
        notional = v.px * v.sz
        paper.apply_fill(pos, v.side, v.px, v.sz,
                         v.fee_usd / notional * 1e4 if notional > 0.0 else 0.0)
        f = fills[nf]
        f.seq = nf + 1
        f.coin = v.coin
        f.side = v.side
        f.is_maker = 0 if v.crossed else 1
        k = _tracked(bt, v.oid, v.side)
        if k >= 0:  # the level's predictions travel with the order onto its fill
            bid = v.side > 0
            f.level = bt.bid_level[k] if bid else bt.ask_level[k]
            f.level_id = bt.bid_pred_id[k] if bid else bt.ask_pred_id[k]
            f.pred_fill_prob = bt.bid_pred_fp[k] if bid else bt.ask_pred_fp[k]
            f.pred_as_bps = bt.bid_pred_as[k] if bid else bt.ask_pred_as[k]
        records.on_fill(bt, recs, k, v.side, finfo[nf], v.sz, t_sim)
        f.ts_ns = v.time_ns
        f.pub_mono_ns = t_sim
        f.oid = v.oid
        f.px = v.px
        f.sz = v.sz
        f.fee_usd = v.fee_usd
        f.mid_px = mid if mid > 0.0 else v.px  # NaN before the first book: not > 0
        f.position_sz = pos.position_sz
        estimator.on_fill(est_state, f)
        nf += 1
    va_st.n_fills = 0
    va_st.n_updates = 0
    return nf


@njit(cache=True)
def our_best(bt, orders, side):
    """Our best open price on a side (NaN if none)."""
    best = math.nan
    if side > 0:
        for k in range(bt.n_bid_orders):
            o = orders[bt.bid_slot[k]]
            if o.oid == bt.bid_oid[k] and o.status == OS_OPEN and not o.px <= best:
                best = o.px
    else:
        for k in range(bt.n_ask_orders):
            o = orders[bt.ask_slot[k]]
            if o.oid == bt.ask_oid[k] and o.status == OS_OPEN and not o.px >= best:
                best = o.px
    return best


@njit(cache=True)
def publish_account(pos, books, accounts, positions, coin, now_ns):
    """Write our simulated account (venue account 0) into the PositionState mirror as
    the gateway publishes the real one from clearinghouseState: account value,
    withdrawable = value - margin used (the venue's formula), margin used, and the
    coin's leverage and liquidation price, which the wire lists only for an open
    position (0 = not known / none otherwise)."""
    value = matching.account_value(books, accounts, positions, 0)
    used = matching.margin_used(books, positions, 0)
    p = positions[0, coin]
    pos.account_value_usd = value
    pos.margin_used_usd = used
    pos.available_margin_usd = max(value - used, 0.0)
    pos.leverage = p.leverage if p.szi != 0.0 else 0.0
    pos.liquidation_px = p.liq_px if p.szi != 0.0 and p.liq_px > 0.0 else 0.0
    pos.account_update_mono_ns = now_ns
