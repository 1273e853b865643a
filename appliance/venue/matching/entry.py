"""Order entry: validation, ALO/IOC/GTC against the displayed book, resting, cancel,
leverage.

Checks, in Hyperliquid's order, each with its real text (``texts.ERROR_TEXTS``):
tick (5 significant figures, ``6 - szDecimals`` decimals, integers allowed), lot,
$10 minimum notional at the limit price, reduce-only (would increase the position),
margin (the exposure the order adds, at ``leverage``, must fit the available
margin: account value - position margin - margin of live orders).

A crossing order takes, level by level at each level's price (taker fee), the
displayed size net of what our takers already took there (depletion), and local
resting orders of other accounts at strictly better prices (they are makers).
Self-trade: a resting order of the same account that the taker's limit crosses is
cancelled (selfTradeCanceled), no fee, no trade. ALO that would cross is rejected;
IOC cancels its remainder (nothing filled: iocCancelRejected); GTC rests the rest.
A resting order queues behind the displayed size at its price (0 ahead on a new
level inside the spread; -1 'unknown' beyond the displayed depth, resolved to the
level's size once it is displayed) and is matched from ``active_ns`` on.
"""

from numba import njit

from appliance.hyperliquid.rules import lot_eps, meets_min_notional, px_valid, round_sz, sz_valid
from shm_layout.venue_records import (
    OS_BAD_ALO_PX_REJECTED,
    OS_CANCELED,
    OS_FILLED,
    OS_IOC_CANCEL_REJECTED,
    OS_OPEN,
    OS_SELF_TRADE_CANCELED,
    RES_ERR_ALO_CROSS,
    RES_ERR_BAD_COIN,
    RES_ERR_FULL,
    RES_ERR_IOC_NO_MATCH,
    RES_ERR_MARGIN,
    RES_ERR_MIN_NOTIONAL,
    RES_ERR_MODIFY_DEAD,
    RES_ERR_NO_ACCOUNT,
    RES_ERR_REDUCE_ONLY,
    RES_ERR_SIZE,
    RES_ERR_TICK,
    RES_FILLED,
    RES_RESTING,
    TIF_ALO,
    TIF_GTC,
    TIF_IOC,
)

from .accounts import apply_fill, available_margin, refresh_liq
from .book import PX_EPS, best_effective, fill_resting, level_sz, taken_at
from .slots import alloc_slot, emit_order_update, finish_order, live_add

RES_ERR_LEVERAGE = 1  # update_leverage codes (0 = ok)
RES_ERR_LEVERAGE_POSITION = 2


@njit(cache=True)
def best_prices(st, books, orders, coin):
    """(best bid, best ask) of the merged book: displayed net of depletion, and live
    local orders. 0.0 when a side is empty."""
    bk = books[coin]
    eps = lot_eps(bk.sz_decimals)
    bid = best_effective(bk.bid_px, bk.bid_sz, bk.n_bids, bk.bid_taken_px, bk.bid_taken_sz,
                         bk.n_bid_taken, eps)
    ask = best_effective(bk.ask_px, bk.ask_sz, bk.n_asks, bk.ask_taken_px, bk.ask_taken_sz,
                         bk.n_ask_taken, eps)
    for k in range(bk.n_live):
        o = orders[bk.live[k]]
        if o.side > 0:
            if bid == 0.0 or o.px > bid:
                bid = o.px
        elif ask == 0.0 or o.px < ask:
            ask = o.px
    return bid, ask


@njit(cache=True)
def _add_taken(tpx, tsz, nt, px, sz) -> int:
    for j in range(nt):
        if abs(tpx[j] - px) <= PX_EPS:
            tsz[j] += sz
            return nt
    if nt < tpx.shape[0]:
        tpx[nt] = px
        tsz[nt] = sz
        return nt + 1
    return nt


@njit(cache=True)
def _take(st, books, orders, accounts, positions, fills, updates, account, coin, oid, side,
          limit_px, sz, now_ns):
    """The taker part of an order. Returns (filled sz, notional)."""
    bk = books[coin]
    eps = lot_eps(bk.sz_decimals)
    # self-trade: expire our own crossed resting orders first
    for k in range(bk.n_live - 1, -1, -1):
        slot = bk.live[k]
        o = orders[slot]
        if o.account == account and o.side == -side and side * (limit_px - o.px) >= -PX_EPS:
            finish_order(st, books, orders, updates, slot, OS_SELF_TRADE_CANCELED, now_ns)
    if side > 0:
        pxs = bk.ask_px
        szs = bk.ask_sz
        n = bk.n_asks
        tpx = bk.ask_taken_px
        tsz = bk.ask_taken_sz
    else:
        pxs = bk.bid_px
        szs = bk.bid_sz
        n = bk.n_bids
        tpx = bk.bid_taken_px
        tsz = bk.bid_taken_sz
    left = sz
    filled = 0.0
    notional = 0.0
    i = 0
    while left > eps:
        nt = bk.n_ask_taken if side > 0 else bk.n_bid_taken
        avail = 0.0
        while i < n:
            avail = szs[i] - taken_at(tpx, tsz, nt, pxs[i])
            if avail > eps:
                break
            i += 1
        dpx = pxs[i] if i < n and side * (limit_px - pxs[i]) >= -PX_EPS else 0.0
        lk = -1
        lpx = 0.0
        for k in range(bk.n_live):
            o = orders[bk.live[k]]
            if (o.side == -side and o.active_ns <= now_ns
                    and side * (limit_px - o.px) >= -PX_EPS
                    and (lk < 0 or side * (lpx - o.px) > PX_EPS)):
                lk = k
                lpx = o.px
        if lk >= 0 and (dpx == 0.0 or side * (dpx - lpx) > PX_EPS):
            slot = bk.live[lk]
            q = fill_resting(st, books, orders, accounts, positions, fills, updates, slot,
                             min(left, orders[slot].sz), now_ns)
            if q <= 0.0:
                continue
            apply_fill(st, books, accounts, positions, fills, account, coin, oid, side, lpx, q,
                       1, 0, now_ns)
            px = lpx
        elif dpx > 0.0:
            q = round_sz(min(left, avail), bk.sz_decimals)
            if q <= eps:
                break
            if side > 0:
                bk.n_ask_taken = _add_taken(tpx, tsz, nt, dpx, q)
            else:
                bk.n_bid_taken = _add_taken(tpx, tsz, nt, dpx, q)
            # local makers queued at this price move up by what we took ahead of them
            for k in range(bk.n_live):
                o = orders[bk.live[k]]
                if o.side == -side and abs(o.px - dpx) <= PX_EPS:
                    o.queue_ahead_sz = max(o.queue_ahead_sz - q, 0.0)
            apply_fill(st, books, accounts, positions, fills, account, coin, oid, side, dpx, q,
                       1, 0, now_ns)
            px = dpx
        else:
            break
        left = round_sz(left - q, bk.sz_decimals)
        filled = round_sz(filled + q, bk.sz_decimals)
        notional += q * px
    return filled, notional


@njit(cache=True)
def place_order(st, books, orders, accounts, positions, fills, updates, account, coin, side,
                px, sz, tif, reduce_only, cloid, has_cloid, now_ns, active_ns, res) -> int:
    """Place one limit order (side +1 buy / -1 sell, tif TIF_*, cloid u1[16]).

    Writes PLACE_RESULT ``res[0]`` and returns its code (RES_*). Rejections before
    the book (tick, size, notional, reduce-only, margin) get no oid and no update;
    ALO and IOC rejections get an oid and a rejected-status update."""
    r = res[0]
    r.oid = 0
    r.slot = -1
    r.filled_sz = 0.0
    r.avg_px = 0.0
    r.bbo_bid_px = 0.0
    r.bbo_ask_px = 0.0
    if coin < 0 or coin >= st.n_coins:
        r.code = RES_ERR_BAD_COIN
        return r.code
    if account < 0 or account >= st.n_accounts or accounts[account].active == 0:
        r.code = RES_ERR_NO_ACCOUNT
        return r.code
    bk = books[coin]
    eps = lot_eps(bk.sz_decimals)
    if not px_valid(px, bk.sz_decimals):
        r.code = RES_ERR_TICK
        return r.code
    if not sz_valid(sz, bk.sz_decimals):
        r.code = RES_ERR_SIZE
        return r.code
    if not meets_min_notional(px, sz, st.min_notional_usd - 1e-9):
        r.code = RES_ERR_MIN_NOTIONAL
        return r.code
    pos = positions[account, coin]
    szi = pos.szi
    if reduce_only:
        if szi == 0.0 or (szi > 0.0) == (side > 0):
            r.code = RES_ERR_REDUCE_ONLY
            return r.code
        sz = min(sz, abs(szi))
    else:
        adds = sz if szi == 0.0 or (szi > 0.0) == (side > 0) else max(sz - abs(szi), 0.0)
        if adds > 0.0 and adds * px / pos.leverage > available_margin(
                books, orders, accounts, positions, account) + 1e-9:
            r.code = RES_ERR_MARGIN
            return r.code
    bid, ask = best_prices(st, books, orders, coin)
    r.bbo_bid_px = bid
    r.bbo_ask_px = ask
    opp = ask if side > 0 else bid
    crosses = opp > 0.0 and side * (px - opp) >= -PX_EPS
    oid = st.next_oid
    st.next_oid = oid + 1
    r.oid = oid
    slot = alloc_slot(st, orders)
    if slot < 0:
        r.code = RES_ERR_FULL
        return r.code
    o = orders[slot]
    o.oid = oid
    o.account = account
    o.coin = coin
    o.side = side
    o.tif = tif
    o.reduce_only = reduce_only
    o.has_cloid = has_cloid
    for j in range(16):
        o.cloid[j] = cloid[j]
    o.px = px
    o.sz = sz
    o.orig_sz = sz
    o.filled_sz = 0.0
    o.queue_ahead_sz = 0.0
    o.level_sz = -1.0
    o.cum_trade_sz = 0.0
    o.placed_ns = now_ns
    o.active_ns = active_ns if active_ns > now_ns else now_ns
    o.status_ns = now_ns
    if tif == TIF_ALO and crosses:
        o.status = OS_BAD_ALO_PX_REJECTED
        emit_order_update(st, updates, orders, slot, now_ns)
        r.code = RES_ERR_ALO_CROSS
        return r.code
    filled = 0.0
    if crosses and (tif == TIF_GTC or tif == TIF_IOC):
        filled, notional = _take(st, books, orders, accounts, positions, fills, updates,
                                 account, coin, oid, side, px, sz, now_ns)
        if filled > 0.0:
            r.filled_sz = filled
            r.avg_px = notional / filled
    o.sz = round_sz(sz - filled, bk.sz_decimals)
    o.filled_sz = filled
    if o.sz <= eps:
        o.sz = 0.0
        o.status = OS_FILLED
        emit_order_update(st, updates, orders, slot, now_ns)
        r.code = RES_FILLED
        return r.code
    if tif == TIF_IOC:
        o.status = OS_CANCELED if filled > 0.0 else OS_IOC_CANCEL_REJECTED
        emit_order_update(st, updates, orders, slot, now_ns)
        r.code = RES_FILLED if filled > 0.0 else RES_ERR_IOC_NO_MATCH
        return r.code
    if not live_add(bk, slot):
        o.status = OS_CANCELED
        emit_order_update(st, updates, orders, slot, now_ns)
        r.code = RES_ERR_FULL
        return r.code
    o.status = OS_OPEN
    if side > 0:
        q = level_sz(bk.bid_px, bk.bid_sz, bk.n_bids, px, 1)
    else:
        q = level_sz(bk.ask_px, bk.ask_sz, bk.n_asks, px, -1)
    o.level_sz = q
    o.queue_ahead_sz = q if q > 0.0 else 0.0
    emit_order_update(st, updates, orders, slot, now_ns)
    r.slot = slot
    r.code = RES_RESTING
    return r.code


@njit(cache=True)
def cancel_order(st, books, orders, updates, slot, now_ns) -> bool:
    """Cancel a live order by slot; False if it is no longer live."""
    if slot < 0 or slot >= orders.shape[0] or orders[slot].status != OS_OPEN:
        return False
    finish_order(st, books, orders, updates, slot, OS_CANCELED, now_ns)
    return True


@njit(cache=True)
def modify_order(st, books, orders, accounts, positions, fills, updates, slot, account, coin,
                 side, px, sz, tif, reduce_only, cloid, has_cloid, now_ns, active_ns, res) -> int:
    """Modify the open order at ``slot`` into a new (px, sz, tif): the one queue rule for
    a modify, used by the local venue (``engine.modify``) and the backtester.

    A modify is a cancel and a new order: the new order gets a new oid and joins the
    back of the queue at its price. Queue priority is never kept, not even for the same
    price and a smaller size (the venue cannot tell a modify from a cancel + place, so
    neither may the backtest). Returns the new order's code (RES_*), or
    ``RES_ERR_MODIFY_DEAD`` when the order is no longer open (nothing placed).
    """
    if not cancel_order(st, books, orders, updates, slot, now_ns):
        r = res[0]
        r.code = RES_ERR_MODIFY_DEAD
        r.oid = 0
        r.slot = -1
        return r.code
    return place_order(st, books, orders, accounts, positions, fills, updates, account, coin,
                       side, px, sz, tif, reduce_only, cloid, has_cloid, now_ns, active_ns, res)


@njit(cache=True)
def update_leverage(st, books, accounts, positions, account, coin, leverage, is_cross) -> int:
    """Set the leverage (1..max_leverage) and margin mode of one coin. Returns 0 or an
    error code (RES_ERR_LEVERAGE out of range, RES_ERR_LEVERAGE_POSITION: the margin
    mode cannot change under an open position)."""
    if coin < 0 or coin >= st.n_coins or leverage < 1.0 or leverage > books[coin].max_leverage:
        return RES_ERR_LEVERAGE
    p = positions[account, coin]
    if p.szi != 0.0 and (p.is_cross != 0) != is_cross:
        return RES_ERR_LEVERAGE_POSITION
    p.leverage = leverage
    p.is_cross = 1 if is_cross else 0
    refresh_liq(books, accounts, positions, account)
    return 0
