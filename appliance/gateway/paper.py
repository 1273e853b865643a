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
"""

import math

import numpy as np
from numba import njit

from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE, MAX_LEVELS

C_MAKER_FEE_BPS = 0
C_TOLERANCE_BPS = 1
N_CONFIG = 2


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
        best_bid = ev.bid_px[0]
        best_ask = ev.ask_px[0]
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
def _reconcile_side(open_px, open_sz, n_open, tgt_px, tgt_sz, n_tgt, tol_bps):
    """Make one side's open orders equal the target levels; an open order within
    ``tol_bps`` of its target keeps its price (its queue place).
    Returns (n_open, placed, cancelled)."""
    placed = 0
    cancelled = 0
    for i in range(n_tgt):
        if i < n_open:
            keep = open_sz[i] == tgt_sz[i] and abs(open_px[i] - tgt_px[i]) <= tgt_px[i] * tol_bps * 1e-4
            if keep:
                continue
            cancelled += 1
        open_px[i] = tgt_px[i]
        open_sz[i] = tgt_sz[i]
        placed += 1
    for i in range(n_tgt, n_open):
        open_px[i] = 0.0
        open_sz[i] = 0.0
        cancelled += 1
    return n_tgt, placed, cancelled


@njit(cache=True)
def reconcile(pos, ladder, kill, cfg):
    """Bring the open orders in line with the ladder; everything cancelled under
    the kill flag. Returns orders placed + cancelled."""
    nb_t = 0 if kill else min(ladder.n_bids, MAX_LEVELS)
    na_t = 0 if kill else min(ladder.n_asks, MAX_LEVELS)
    for i in range(nb_t):
        if not (math.isfinite(ladder.bid_px[i]) and ladder.bid_px[i] > 0.0 and ladder.bid_sz[i] > 0.0):
            nb_t = i
            break
    for i in range(na_t):
        if not (math.isfinite(ladder.ask_px[i]) and ladder.ask_px[i] > 0.0 and ladder.ask_sz[i] > 0.0):
            na_t = i
            break
    tol = cfg[C_TOLERANCE_BPS]
    nb, pb, cb = _reconcile_side(pos.open_bid_px, pos.open_bid_sz, pos.n_open_bids,
                                 ladder.bid_px, ladder.bid_sz, nb_t, tol)
    na, pa, ca = _reconcile_side(pos.open_ask_px, pos.open_ask_sz, pos.n_open_asks,
                                 ladder.ask_px, ladder.ask_sz, na_t, tol)
    pos.n_open_bids = nb
    pos.n_open_asks = na
    pos.orders_placed += pb + pa
    pos.orders_cancelled += cb + ca
    pos.kill_active = 1 if kill else 0
    pos.last_ladder_id = ladder.ladder_id
    return pb + pa + cb + ca


def config_vector(gateway_cfg) -> np.ndarray:
    c = np.zeros(N_CONFIG)
    c[C_MAKER_FEE_BPS] = gateway_cfg.maker_fee_bps
    c[C_TOLERANCE_BPS] = gateway_cfg.requote_tolerance_bps
    return c
