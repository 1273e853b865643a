"""Paper executor kernels: resting orders, fills, position and PnL, in numba.

The open orders of a coin live in its PositionState record (``open_bid_px`` ...),
level by level, so they are published with the position and survive a restart.

Fills (maker, at our price) happen when the market goes through our price:
* a trade whose aggressor sells below our bid (or buys above our ask), for up
  to the trade's size, level by level from the touch;
* a book whose best ask is at or below our bid (best bid at or above our ask):
  the market moved through the order, which fills whole.
A trade at exactly our price does not fill: without a queue model we assume we
are last in the queue (the local venue issue brings the queue model).

Reconcile is the one reconciler (``reconcile_kernel.plan``), as the live gateway
and the backtester run it.
"""

import numpy as np
from numba import njit

from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE, MAX_LEVELS

from . import reconcile_kernel as rk
from .reconcile_plan import kernel_config, plan_config_of

C_MAKER_FEE_BPS = 0
C_PLAN = 1  # from here: the reconcile kernel's config vector
C_TOLERANCE_BPS = C_PLAN + rk.C_PX_TOLERANCE_BPS


@njit(cache=True)
def apply_fill(pos, side, px, sz, fee_bps):
    """Book a fill of ``sz`` at ``px`` (side +1 buy, -1 sell) into the position."""
    q = pos.position_sz
    if q == 0.0 or (q > 0.0) == (side > 0):
        pos.avg_entry_px = (abs(q) * pos.avg_entry_px + sz * px) / (abs(q) + sz)
    else:
        closed = min(sz, abs(q))
        pos.realized_pnl_usd += closed * (px - pos.avg_entry_px) * (1.0 if q > 0.0 else -1.0)
        if sz > abs(q):
            pos.avg_entry_px = px  # flipped: the rest opens at this price
        elif sz == abs(q):
            pos.avg_entry_px = 0.0
    pos.position_sz = q + side * sz
    if abs(pos.position_sz) < 1e-12:
        pos.position_sz = 0.0
        pos.avg_entry_px = 0.0
    fee = px * sz * fee_bps * 1e-4
    pos.fees_usd += fee
    pos.volume_usd += px * sz
    pos.n_fills += 1
    return fee


@njit(cache=True)
def add_funding(pos, usdc):
    """A funding payment received (negative: paid), as ``Positions.add_funding`` books it."""
    pos.funding_usd += usdc
    pos.realized_pnl_usd += usdc
    mark(pos, pos.mark_px)


@njit(cache=True)
def mark(pos, mid):
    pos.mark_px = mid
    pos.unrealized_pnl_usd = pos.position_sz * (mid - pos.avg_entry_px) if pos.position_sz != 0.0 else 0.0
    pos.total_pnl_usd = pos.realized_pnl_usd + pos.unrealized_pnl_usd - pos.fees_usd


@njit(cache=True)
def _remove(pxs, szs, n, i):
    for j in range(i, n - 1):
        pxs[j] = pxs[j + 1]
        szs[j] = szs[j + 1]
    pxs[n - 1] = 0.0
    szs[n - 1] = 0.0


@njit(cache=True)
def _emit(fills, nf, side, px, sz, fee, level, ts_ns, mid, pos_after, coin):
    if nf >= fills.shape[0]:
        return nf  # caller drains before this can happen
    f = fills[nf]
    f.coin = coin
    f.side = side
    f.is_maker = 1
    f.level = level
    f.ts_ns = ts_ns
    f.px = px
    f.sz = sz
    f.fee_usd = fee
    f.mid_px = mid
    f.position_sz = pos_after
    return nf + 1


@njit(cache=True)
def match_event(pos, ev, cfg, fills, nf):
    """Fill our resting orders against one md event; append fills to ``fills``
    (FILL_EVENT records) from index ``nf``. Returns the new count."""
    fee_bps = cfg[C_MAKER_FEE_BPS]
    kind = ev.kind
    if kind == EV_BOOK or kind == EV_BBO:
        if ev.n_bids < 1 or ev.n_asks < 1:
            return nf
        best_bid = ev.lv.bid_px[0]
        best_ask = ev.lv.ask_px[0]
        mid = 0.5 * (best_bid + best_ask)
        while pos.n_open_bids > 0 and best_ask <= pos.open_bid_px[0]:
            px = pos.open_bid_px[0]
            sz = pos.open_bid_sz[0]
            fee = apply_fill(pos, 1, px, sz, fee_bps)
            nf = _emit(fills, nf, 1, px, sz, fee, 0, ev.exch_ts_ns, mid, pos.position_sz, ev.coin)
            _remove(pos.open_bid_px, pos.open_bid_sz, pos.n_open_bids, 0)
            pos.n_open_bids -= 1
        while pos.n_open_asks > 0 and best_bid >= pos.open_ask_px[0]:
            px = pos.open_ask_px[0]
            sz = pos.open_ask_sz[0]
            fee = apply_fill(pos, -1, px, sz, fee_bps)
            nf = _emit(fills, nf, -1, px, sz, fee, 0, ev.exch_ts_ns, mid, pos.position_sz, ev.coin)
            _remove(pos.open_ask_px, pos.open_ask_sz, pos.n_open_asks, 0)
            pos.n_open_asks -= 1
        mark(pos, mid)
    elif kind == EV_TRADE:
        left = ev.sz
        mid = pos.mark_px if pos.mark_px > 0.0 else ev.px
        if ev.side < 0:
            while left > 0.0 and pos.n_open_bids > 0 and ev.px < pos.open_bid_px[0]:
                px = pos.open_bid_px[0]
                sz = min(pos.open_bid_sz[0], left)
                left -= sz
                fee = apply_fill(pos, 1, px, sz, fee_bps)
                nf = _emit(fills, nf, 1, px, sz, fee, 0, ev.exch_ts_ns, mid, pos.position_sz, ev.coin)
                pos.open_bid_sz[0] -= sz
                if pos.open_bid_sz[0] <= 1e-12:
                    _remove(pos.open_bid_px, pos.open_bid_sz, pos.n_open_bids, 0)
                    pos.n_open_bids -= 1
        elif ev.side > 0:
            while left > 0.0 and pos.n_open_asks > 0 and ev.px > pos.open_ask_px[0]:
                px = pos.open_ask_px[0]
                sz = min(pos.open_ask_sz[0], left)
                left -= sz
                fee = apply_fill(pos, -1, px, sz, fee_bps)
                nf = _emit(fills, nf, -1, px, sz, fee, 0, ev.exch_ts_ns, mid, pos.position_sz, ev.coin)
                pos.open_ask_sz[0] -= sz
                if pos.open_ask_sz[0] <= 1e-12:
                    _remove(pos.open_ask_px, pos.open_ask_sz, pos.n_open_asks, 0)
                    pos.n_open_asks -= 1
        if pos.mark_px > 0.0:
            mark(pos, pos.mark_px)
    return nf


@njit(cache=True)
def _store(open_px, open_sz, px, sz, n, best_first_sign):
    """Write ``n`` orders into a side's open arrays, best price first."""
    order = np.argsort(-best_first_sign * px[:n], kind="mergesort")
    for k in range(MAX_LEVELS):
        if k < n:
            open_px[k] = px[order[k]]
            open_sz[k] = sz[order[k]]
        else:
            open_px[k] = 0.0
            open_sz[k] = 0.0


@njit(cache=True)
def reconcile(pos, ladder, kill, cfg):
    """Bring the open orders in line with the ladder with the one reconciler
    (``reconcile_kernel.plan``: keep within tolerance, modify, cancel, place); a modify
    counts as a cancel and a place (it loses the queue place, as at the venue).
    Everything is cancelled under the kill flag. Returns orders placed + cancelled."""
    n_max = 2 * MAX_LEVELS
    l_buy = np.zeros(n_max, np.bool_)
    l_px = np.zeros(n_max)
    l_sz = np.zeros(n_max)
    nb = min(pos.n_open_bids, MAX_LEVELS)
    na = min(pos.n_open_asks, MAX_LEVELS)
    for k in range(nb):
        l_buy[k] = True
        l_px[k] = pos.open_bid_px[k]
        l_sz[k] = pos.open_bid_sz[k]
    for k in range(na):
        l_px[nb + k] = pos.open_ask_px[k]
        l_sz[nb + k] = pos.open_ask_sz[k]
    t_buy = np.zeros(n_max, np.bool_)
    t_px = np.zeros(n_max)
    t_sz = np.zeros(n_max)
    t_lvl = np.zeros(n_max, np.int64)
    t_edge = np.zeros(n_max)
    t_value = np.zeros(n_max)
    nt = 0 if kill else rk.ladder_targets(ladder, -1, t_buy, t_px, t_sz, t_lvl, t_edge, t_value)
    out = np.zeros((2 * n_max + 2, 3), np.int64)
    n, _ = rk.plan(l_buy, l_px, l_sz, nb + na, t_buy, t_px, t_sz, t_edge, t_value, nt, True, True,
                   cfg[C_PLAN:], out)
    b_px = np.zeros(n_max)
    b_sz = np.zeros(n_max)
    a_px = np.zeros(n_max)
    a_sz = np.zeros(n_max)
    mb = 0
    ma = 0
    placed = 0
    cancelled = 0
    n_requests = 0  # a modify is one request (placed + cancelled count it twice)
    for r in range(n):
        kind = out[r, 0]
        if kind != rk.ACT_KEEP:
            n_requests += 1
        if kind == rk.ACT_CANCEL:
            cancelled += 1
            continue
        if kind == rk.ACT_KEEP:
            j = out[r, 1]
            buy, px, sz = l_buy[j], l_px[j], l_sz[j]
        else:  # modify or place: the target's price and size
            i = out[r, 2]
            buy, px, sz = t_buy[i], t_px[i], t_sz[i]
            placed += 1
            if kind == rk.ACT_MODIFY:
                cancelled += 1
        if buy and mb < MAX_LEVELS:
            b_px[mb] = px
            b_sz[mb] = sz
            mb += 1
        elif not buy and ma < MAX_LEVELS:
            a_px[ma] = px
            a_sz[ma] = sz
            ma += 1
    _store(pos.open_bid_px, pos.open_bid_sz, b_px, b_sz, mb, 1.0)
    _store(pos.open_ask_px, pos.open_ask_sz, a_px, a_sz, ma, -1.0)
    pos.n_open_bids = mb
    pos.n_open_asks = ma
    pos.orders_placed += placed
    pos.orders_cancelled += cancelled
    pos.requests_sent += n_requests
    pos.kill_active = 1 if kill else 0
    pos.last_ladder_id = ladder.ladder_id
    return placed + cancelled


def config_vector(gateway_cfg, min_notional_usd: float = 0.0) -> np.ndarray:
    """Maker fee, then the reconciler's settings (no pacing: paper orders cost nothing)."""
    # the gateway's own reconciler settings (``plan_config_of``); the plan runs without a
    # request price: paper orders spend no address budget
    plan = kernel_config(plan_config_of(gateway_cfg, min_notional_usd))
    c = np.zeros(C_PLAN + plan.shape[0])
    c[C_MAKER_FEE_BPS] = gateway_cfg.maker_fee_bps
    c[C_PLAN:] = plan
    return c
