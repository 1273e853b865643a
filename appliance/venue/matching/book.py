"""Market events against our resting orders: queue position, maker fills, mark,
funding boundaries and liquidations.

Per event only the coin's live list is walked (backwards, so a filled order can be
swap-removed in place); an order is matched only once ``active_ns`` has passed.

* EV_BOOK: the displayed book is stored; each live order updates its queue from the
  displayed size at its price (``queue.queue_on_depth``); book-through: a displayed
  best opposite price at or through our price (net of the size our taker orders
  took) fills the whole remaining order at our price, as maker.
* EV_BBO: the same for orders at or crossed by the best prices; depth is kept.
* EV_TRADE: trade-through (the trade printed beyond our price) fills the whole
  remaining order at our price; a trade at our price consumes the queue ahead
  first, then fills us for what is left of it (partial fills).
* EV_ASSET_CTX: mark = px, funding per hour = aux0, oracle = aux1. Sources without
  it: mark = oracle = mid, funding 0.
"""

from numba import njit

from appliance.hyperliquid.rules import lot_eps, round_sz
from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.venue_records import HOUR_NS, OS_FILLED, OS_REDUCE_ONLY_CANCELED

from .accounts import apply_fill, check_liquidations, pay_funding
from .queue import queue_on_depth, queue_on_trade
from .slots import finish_order

PX_EPS = 1e-9


@njit(cache=True)
def level_sz(pxs, szs, n, px, side) -> float:
    """Displayed size at ``px`` on one side (bids side=+1, descending; asks -1), 0 if the
    price is inside the displayed range but absent, -1 if beyond the deepest level."""
    if n == 0 or side * (pxs[n - 1] - px) > PX_EPS:
        return -1.0  # deeper than the displayed window
    for i in range(n):
        d = side * (pxs[i] - px)
        if d <= PX_EPS:
            if d >= -PX_EPS:
                return szs[i]
            return 0.0
    return -1.0


@njit(cache=True)
def taken_at(tpx, tsz, nt, px) -> float:
    for j in range(nt):
        if abs(tpx[j] - px) <= PX_EPS:
            return tsz[j]
    return 0.0


@njit(cache=True)
def best_effective(pxs, szs, n, tpx, tsz, nt, eps) -> float:
    """Best displayed price with size left after our takers' depletion (0 if none)."""
    for i in range(n):
        left = szs[i] - (taken_at(tpx, tsz, nt, pxs[i]) if nt > 0 else 0.0)
        if left > eps:
            return pxs[i]
    return 0.0


@njit(cache=True)
def _remap_taken(tpx, tsz, nt, pxs, szs, n, side) -> int:
    """Keep a depletion entry while its price is still displayed, capped at the size."""
    m = 0
    for j in range(nt):
        q = level_sz(pxs, szs, n, tpx[j], side)
        if q > 0.0:
            tpx[m] = tpx[j]
            tsz[m] = min(tsz[j], q)
            m += 1
    return m


@njit(cache=True)
def fill_resting(st, books, orders, accounts, positions, fills, updates, slot, sz, now_ns):
    """Maker fill of a resting order at its own price; finishes it when done.
    Returns the size filled (0 when a reduce-only order was cancelled instead)."""
    o = orders[slot]
    coin = o.coin
    eps = lot_eps(books[coin].sz_decimals)
    if o.reduce_only:
        szi = positions[o.account, coin].szi
        if szi == 0.0 or (szi > 0.0) == (o.side > 0):
            finish_order(st, books, orders, updates, slot, OS_REDUCE_ONLY_CANCELED, now_ns)
            return 0.0
        sz = min(sz, abs(szi))
    sz = round_sz(min(sz, o.sz), books[coin].sz_decimals)
    if sz <= eps:
        return 0.0
    apply_fill(st, books, accounts, positions, fills, o.account, coin, o.oid, o.side, o.px,
               sz, 0, 0, now_ns)
    o.sz = round_sz(o.sz - sz, books[coin].sz_decimals)
    o.filled_sz = round_sz(o.filled_sz + sz, books[coin].sz_decimals)
    if o.sz <= eps:
        o.sz = 0.0
        finish_order(st, books, orders, updates, slot, OS_FILLED, now_ns)
    return sz


@njit(cache=True)
def _observe_level(st, o, new_sz) -> None:
    o.queue_ahead_sz = queue_on_depth(st.queue_model, st.queue_power, o.queue_ahead_sz,
                                      o.level_sz, new_sz, o.cum_trade_sz)
    if new_sz >= 0.0:
        o.level_sz = new_sz
        o.cum_trade_sz = 0.0


@njit(cache=True, inline="always")
def _on_book(st, books, orders, accounts, positions, fills, updates, ev, now_ns, full):
    c = ev.coin
    bk = books[c]
    nb = min(ev.n_bids, bk.bid_px.shape[0])
    na = min(ev.n_asks, bk.ask_px.shape[0])
    if full:
        for i in range(nb):
            bk.bid_px[i] = ev.lv.bid_px[i]
            bk.bid_sz[i] = ev.lv.bid_sz[i]
            bk.bid_n[i] = ev.lv.bid_n[i]
        for i in range(na):
            bk.ask_px[i] = ev.lv.ask_px[i]
            bk.ask_sz[i] = ev.lv.ask_sz[i]
            bk.ask_n[i] = ev.lv.ask_n[i]
        bk.n_bids = nb
        bk.n_asks = na
        bk.book_ns = now_ns
        if bk.n_bid_taken > 0:
            bk.n_bid_taken = _remap_taken(bk.bid_taken_px, bk.bid_taken_sz, bk.n_bid_taken,
                                          bk.bid_px, bk.bid_sz, nb, 1)
        if bk.n_ask_taken > 0:
            bk.n_ask_taken = _remap_taken(bk.ask_taken_px, bk.ask_taken_sz, bk.n_ask_taken,
                                          bk.ask_px, bk.ask_sz, na, -1)
    if bk.has_ctx == 0 and nb > 0 and na > 0:
        mid = 0.5 * (ev.lv.bid_px[0] + ev.lv.ask_px[0])
        bk.mark_px = mid
        bk.oracle_px = mid
    if bk.n_live == 0:
        return
    eps = lot_eps(bk.sz_decimals)
    best_ask = best_effective(ev.lv.ask_px, ev.lv.ask_sz, na, bk.ask_taken_px, bk.ask_taken_sz,
                              bk.n_ask_taken, eps) if na > 0 else 0.0
    best_bid = best_effective(ev.lv.bid_px, ev.lv.bid_sz, nb, bk.bid_taken_px, bk.bid_taken_sz,
                              bk.n_bid_taken, eps) if nb > 0 else 0.0
    bpx = ev.lv.bid_px
    bsz = ev.lv.bid_sz
    apx = ev.lv.ask_px
    asz = ev.lv.ask_sz
    live = bk.live
    for k in range(bk.n_live - 1, -1, -1):
        slot = live[k]
        o = orders[slot]
        if o.active_ns > now_ns:
            continue
        if o.side > 0:
            if best_ask > 0.0 and best_ask <= o.px + PX_EPS:
                fill_resting(st, books, orders, accounts, positions, fills, updates, slot,
                             o.sz, now_ns)
                continue
            if full:
                _observe_level(st, o, level_sz(bpx, bsz, nb, o.px, 1))
            elif nb > 0 and abs(bpx[0] - o.px) <= PX_EPS:
                _observe_level(st, o, bsz[0])
        else:
            if best_bid > 0.0 and best_bid >= o.px - PX_EPS:
                fill_resting(st, books, orders, accounts, positions, fills, updates, slot,
                             o.sz, now_ns)
                continue
            if full:
                _observe_level(st, o, level_sz(apx, asz, na, o.px, -1))
            elif na > 0 and abs(apx[0] - o.px) <= PX_EPS:
                _observe_level(st, o, asz[0])


@njit(cache=True, inline="always")
def _on_trade(st, books, orders, accounts, positions, fills, updates, ev, now_ns):
    bk = books[ev.coin]
    bk.last_trade_ns = now_ns
    bk.last_trade_px = ev.px
    maker_side = -ev.side  # our orders on the passive side can fill
    live = bk.live
    for k in range(bk.n_live - 1, -1, -1):
        slot = live[k]
        o = orders[slot]
        if o.side != maker_side or o.active_ns > now_ns:
            continue
        d = maker_side * (o.px - ev.px)  # > 0: the trade printed through our price
        if d > PX_EPS:
            fill_resting(st, books, orders, accounts, positions, fills, updates, slot,
                         o.sz, now_ns)
        elif d >= -PX_EPS:
            front, left = queue_on_trade(o.queue_ahead_sz, ev.sz)
            o.queue_ahead_sz = front
            o.cum_trade_sz += ev.sz
            if left > 0.0:
                fill_resting(st, books, orders, accounts, positions, fills, updates, slot,
                             left, now_ns)


@njit(cache=True)
def _on_ctx(books, ev):
    bk = books[ev.coin]
    bk.has_ctx = 1
    if ev.px > 0.0:
        bk.mark_px = ev.px
    bk.funding_rate_per_h = ev.aux0
    bk.oracle_px = ev.aux1 if ev.aux1 > 0.0 else bk.mark_px
    bk.open_interest = ev.sz


@njit(cache=True, inline="always")
def on_market_event(st, books, orders, accounts, positions, fills, updates, ev) -> None:
    """Apply one MD_EVENT to the venue (see the module docstring)."""
    c = ev.coin
    if c >= st.n_coins:
        return
    t = ev.exch_ts_ns if ev.exch_ts_ns > 0 else ev.recv_ts_ns
    if t > st.now_ns:
        st.now_ns = t  # venue clock never runs backwards
    now_ns = st.now_ns
    st.n_events += 1
    bk = books[c]
    if now_ns >= bk.next_funding_ns:
        if bk.next_funding_ns > 0:
            pay_funding(st, books, accounts, positions, updates, c, bk.next_funding_ns)
        bk.next_funding_ns = (now_ns // HOUR_NS + 1) * HOUR_NS
    kind = ev.kind
    if kind == EV_TRADE:
        _on_trade(st, books, orders, accounts, positions, fills, updates, ev, now_ns)
    elif kind == EV_BOOK:
        _on_book(st, books, orders, accounts, positions, fills, updates, ev, now_ns, True)
    elif kind == EV_BBO:
        _on_book(st, books, orders, accounts, positions, fills, updates, ev, now_ns, False)
    elif kind == EV_ASSET_CTX:
        _on_ctx(books, ev)
    else:
        return
    if bk.n_positions > 0 and kind != EV_TRADE:
        check_liquidations(st, books, orders, accounts, positions, fills, updates, c, now_ns)


@njit(cache=True)
def on_market_events(st, books, orders, accounts, positions, fills, updates, evs) -> None:
    """All events of a chunk, in order (the engine's and the benchmark's entry)."""
    for i in range(evs.shape[0]):
        on_market_event(st, books, orders, accounts, positions, fills, updates, evs[i])

