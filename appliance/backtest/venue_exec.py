"""Our orders at the local venue's matching core, from the njit loop.

The venue kernels (``appliance.venue.matching``: queue position, maker fills,
accounts) are called as they are; this module only does what the gateway does for
them: reconcile a ladder into cancels and post-only (ALO) places, round prices to
the venue's rules, and turn the venue's fills into FILL_EVENT records booked into
the PositionState mirror the quote kernel reads, and publish the simulated account's
margin there (``publish_account``, as the gateway does from clearinghouseState).

Reconcile, per side (as the gateway's ``reconcile_plan``): an open order whose price
is within ``tol_bps`` of a target level and whose remaining size is within
``sz_tol_frac`` of the level's keeps its place in the queue (a ladder whose sizes
shift a little every requote does not churn);
every other open order is cancelled; every level not served is placed. Cancels go
first (they free margin). A level is not placed when it would let the side's resting
size carry the position past the maximum: fills during the order latency may have
used the room the ladder was computed with.
"""

import math

from numba import njit

from appliance.estimator import kernel as estimator
from appliance.gateway import paper
from appliance.venue import matching
from shm_layout.constants import MAX_LEVELS
from shm_layout.venue_records import OS_OPEN, RES_RESTING, TIF_ALO

PX_REL_EPS = 1e-9
MAX_DECIMALS_PERP = 6
SIG_FIGS = 5


@njit(cache=True)
def venue_px(px, sz_decimals, side):
    """The nearest valid venue price on the passive side (bids down, asks up):
    5 significant figures, at most ``6 - sz_decimals`` decimals, integers allowed."""
    if not (px > 0.0 and math.isfinite(px)):
        return 0.0
    e = math.floor(math.log10(px))
    q = max(10.0 ** (e - (SIG_FIGS - 1)), 10.0 ** (-(MAX_DECIMALS_PERP - sz_decimals)))
    q = min(q, 1.0)
    k = px / q
    kr = round(k)
    if abs(k - kr) <= PX_REL_EPS * max(1.0, abs(k)):
        k = kr
    elif side > 0:
        k = math.floor(k)
    else:
        k = math.ceil(k)
    return k * q


@njit(cache=True)
def _move(k, m, slots, oids, lvl, pid, pfp, pas):
    """Tracked order k moves to index m (compaction)."""
    slots[m] = slots[k]
    oids[m] = oids[k]
    lvl[m] = lvl[k]
    pid[m] = pid[k]
    pfp[m] = pfp[k]
    pas[m] = pas[k]


@njit(cache=True)
def _live(orders, slots, oids, lvl, pid, pfp, pas, n):
    """Compact the tracked orders to those still open; returns how many."""
    m = 0
    for k in range(n):
        o = orders[slots[k]]
        if o.oid == oids[k] and o.status == OS_OPEN:
            _move(k, m, slots, oids, lvl, pid, pfp, pas)
            m += 1
    return m


@njit(cache=True)
def _predict(k, i, lvl, pid, pfp, pas, tgt_id, tgt_fp, tgt_as):
    """Tracked order k serves ladder level i: it carries that level's predictions."""
    lvl[k] = i
    pid[k] = tgt_id[i]
    pfp[k] = tgt_fp[i]
    pas[k] = tgt_as[i]


@njit(cache=True)
def _reconcile_side(bt, va_st, books, orders, accounts, positions, vfills, updates, res,
                    slots, oids, lvl, pid, pfp, pas, n, side, tgt_px, tgt_sz, tgt_id, tgt_fp,
                    tgt_as, n_tgt, tol_bps, sz_tol_frac, coin, now_ns, cloid, max_pos_sz):
    n = _live(orders, slots, oids, lvl, pid, pfp, pas, n)
    szd = books[coin].sz_decimals
    keep = 0  # bit k: tracked order k serves a level
    served = 0  # bit i: level i has an order
    for i in range(n_tgt):
        px = venue_px(tgt_px[i], szd, side)
        for k in range(n):
            if keep & (1 << k):
                continue
            o = orders[slots[k]]
            if (abs(o.px - px) <= px * tol_bps * 1e-4
                    and abs(o.sz - tgt_sz[i]) <= tgt_sz[i] * sz_tol_frac + 1e-12):
                keep |= 1 << k
                served |= 1 << i
                bt.n_orders_kept += 1
                _predict(k, i, lvl, pid, pfp, pas, tgt_id, tgt_fp, tgt_as)  # it serves level i now
                break
    m = 0
    for k in range(n):
        if keep & (1 << k):
            _move(k, m, slots, oids, lvl, pid, pfp, pas)
            m += 1
        else:
            matching.cancel_order(va_st, books, orders, updates, slots[k], now_ns)
            bt.n_orders_cancelled += 1
    # Exposure this side may still add: the limit, less the position and what rests.
    room = max_pos_sz - side * positions[0, coin].szi
    for k in range(m):
        room -= orders[slots[k]].sz
    for i in range(n_tgt):
        if served & (1 << i) or m >= MAX_LEVELS:
            continue
        if tgt_sz[i] > room * (1.0 + 1e-9):
            continue  # fills since the ladder was computed used the room
        room -= tgt_sz[i]
        px = venue_px(tgt_px[i], szd, side)
        code = matching.place_order(va_st, books, orders, accounts, positions, vfills, updates,
                                    0, coin, side, px, tgt_sz[i], TIF_ALO, 0, cloid, 0,
                                    now_ns, now_ns, res)
        bt.n_orders_placed += 1
        if code == RES_RESTING:
            slots[m] = res[0].slot
            oids[m] = res[0].oid
            _predict(m, i, lvl, pid, pfp, pas, tgt_id, tgt_fp, tgt_as)
            m += 1
        else:
            bt.n_orders_rejected += 1
    return m


@njit(cache=True)
def reconcile(bt, va_st, books, orders, accounts, positions, vfills, updates, res, lad,
              tol_bps, sz_tol_frac, coin, cloid, max_pos_sz):
    """Bring our venue orders in line with the ladder ``lad`` (a TARGET_LADDER), now.
    No side ever rests more than ``max_pos_sz`` beyond the venue position."""
    now = va_st.now_ns
    nb = min(lad.n_bids, MAX_LEVELS)
    na = min(lad.n_asks, MAX_LEVELS)
    for i in range(nb):
        if not (math.isfinite(lad.bid_px[i]) and lad.bid_px[i] > 0.0 and lad.bid_sz[i] > 0.0):
            nb = i
            break
    for i in range(na):
        if not (math.isfinite(lad.ask_px[i]) and lad.ask_px[i] > 0.0 and lad.ask_sz[i] > 0.0):
            na = i
            break
    bt.n_bid_orders = _reconcile_side(bt, va_st, books, orders, accounts, positions, vfills,
                                      updates, res, bt.bid_slot, bt.bid_oid, bt.bid_level,
                                      bt.bid_pred_id, bt.bid_pred_fp, bt.bid_pred_as,
                                      bt.n_bid_orders, 1, lad.bid_px, lad.bid_sz, lad.bid_pred_id,
                                      lad.bid_fill_prob, lad.bid_as_bps, nb, tol_bps, sz_tol_frac,
                                      coin, now, cloid, max_pos_sz)
    bt.n_ask_orders = _reconcile_side(bt, va_st, books, orders, accounts, positions, vfills,
                                      updates, res, bt.ask_slot, bt.ask_oid, bt.ask_level,
                                      bt.ask_pred_id, bt.ask_pred_fp, bt.ask_pred_as,
                                      bt.n_ask_orders, -1, lad.ask_px, lad.ask_sz, lad.ask_pred_id,
                                      lad.ask_fill_prob, lad.ask_as_bps, na, tol_bps, sz_tol_frac,
                                      coin, now, cloid, max_pos_sz)


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
def drain_fills(bt, va_st, vfills, pos, est_state, fills, nf, t_sim):
    """Move the venue's new fills into ``fills`` (FILL_EVENT) from ``nf``, book them
    into ``pos`` and the estimator; empty the venue's output buffers. Returns the count.
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
