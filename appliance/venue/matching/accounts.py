"""Accounts, one-way positions, fees, margin, funding and liquidation.

* A fill of ``sz`` at ``px`` (side +1 buy) books into ``positions[account, coin]``:
  average entry on increase, realized ``closed_pnl = closed * (px - entry) * sign``
  on decrease, a flip re-opens the rest at ``px``. Cash ``usdc_usd`` moves by
  ``closed_pnl - fee``; ``fee = px * sz * bps * 1e-4`` (maker bps negative = rebate).
* Margin used = |szi| * mark / leverage. Maintenance margin = half the initial margin
  at max leverage: ``mm = |szi| * mark / (2 * max_leverage)``.
* Liquidation price (Hyperliquid's formula): ``liq = mark - side * avail / |szi| /
  (1 - l * side)``, ``l = 1 / (2 * max_leverage)``, ``avail`` = account value minus
  maintenance margin (cross: all cross positions; isolated: the position's margin
  ``|szi| * entry / leverage`` plus its unrealized pnl). The account is liquidated in
  that coin when the mark reaches it: its orders there are cancelled
  (liquidatedCanceled) and the position is closed at the mark as a taker.
* Funding at each hour boundary: ``payment_usd = -szi * oracle_px * rate_per_h``.
"""

from numba import njit

from appliance.hyperliquid.rules import lot_eps
from shm_layout.venue_records import (
    DIR_CLOSE_LONG,
    DIR_CLOSE_SHORT,
    DIR_LONG_TO_SHORT,
    DIR_OPEN_LONG,
    DIR_OPEN_SHORT,
    DIR_SHORT_TO_LONG,
    OS_LIQUIDATED_CANCELED,
    UPD_FUNDING,
    UPD_LIQUIDATION,
)

from .slots import emit_update, finish_order


@njit(cache=True)
def mark_of(book) -> float:
    if book.mark_px > 0.0:
        return book.mark_px
    if book.n_bids > 0 and book.n_asks > 0:
        return 0.5 * (book.bid_px[0] + book.ask_px[0])
    return book.last_trade_px


@njit(cache=True)
def fill_dir(start: float, side: int, sz: float, eps: float) -> int:
    if abs(start) <= eps:
        return DIR_OPEN_LONG if side > 0 else DIR_OPEN_SHORT
    if start > 0.0:
        if side > 0:
            return DIR_OPEN_LONG
        return DIR_LONG_TO_SHORT if sz > start + eps else DIR_CLOSE_LONG
    if side < 0:
        return DIR_OPEN_SHORT
    return DIR_SHORT_TO_LONG if sz > -start + eps else DIR_CLOSE_SHORT


@njit(cache=True)
def refresh_liq(books, accounts, positions, account) -> None:
    """Recompute the liquidation price of every position of one account."""
    n_coins = positions.shape[1]
    cross_val = accounts[account].usdc_usd
    cross_mm = 0.0
    for c in range(n_coins):
        p = positions[account, c]
        if p.szi == 0.0:
            continue
        mark = mark_of(books[c])
        if p.is_cross:
            cross_val += p.szi * (mark - p.entry_px)
            cross_mm += abs(p.szi) * mark / (2.0 * books[c].max_leverage)
        else:
            cross_val -= abs(p.szi) * p.entry_px / p.leverage
    for c in range(n_coins):
        p = positions[account, c]
        if p.szi == 0.0:
            p.liq_px = 0.0
            continue
        mark = mark_of(books[c])
        side = 1.0 if p.szi > 0.0 else -1.0
        lm = 1.0 / (2.0 * books[c].max_leverage)
        if p.is_cross:
            avail = cross_val - cross_mm
        else:
            avail = (abs(p.szi) * p.entry_px / p.leverage + p.szi * (mark - p.entry_px)
                     - abs(p.szi) * mark * lm)
        liq = mark - side * avail / abs(p.szi) / (1.0 - lm * side)
        p.liq_px = liq if liq > 0.0 else 0.0


@njit(cache=True)
def apply_fill(st, books, accounts, positions, fills, account, coin, oid, side, px, sz,
               crossed, liquidation, now_ns) -> float:
    """Book one fill and append it to ``fills``. Returns the fee in USD."""
    bk = books[coin]
    p = positions[account, coin]
    a = accounts[account]
    eps = lot_eps(bk.sz_decimals) * 1e-3
    start = p.szi
    d = fill_dir(start, side, sz, eps)
    closed_pnl = 0.0
    if start == 0.0 or (start > 0.0) == (side > 0):
        p.entry_px = (abs(start) * p.entry_px + sz * px) / (abs(start) + sz)
        if start == 0.0:
            p.cum_funding_open_usd = 0.0
            bk.n_positions += 1
    else:
        closed = min(sz, abs(start))
        closed_pnl = closed * (px - p.entry_px) * (1.0 if start > 0.0 else -1.0)
        if sz > abs(start) + eps:
            p.entry_px = px  # flipped: the rest opens at this price
            p.cum_funding_open_usd = 0.0
    p.szi = start + side * sz
    p.cum_funding_change_usd = 0.0
    if abs(p.szi) <= eps:
        p.szi = 0.0
        p.entry_px = 0.0
        bk.n_positions -= 1
    notional = px * sz
    bps = st.taker_bps if crossed else st.maker_bps
    fee = notional * bps * 1e-4
    a.usdc_usd += closed_pnl - fee
    a.realized_pnl_usd += closed_pnl
    a.fees_usd += fee
    a.volume_usd += notional
    a.n_fills += 1
    tid = st.next_tid
    st.next_tid = tid + 1
    n = st.n_fills
    if n < fills.shape[0]:
        f = fills[n]
        f.tid = tid
        f.oid = oid
        f.account = account
        f.coin = coin
        f.side = side
        f.crossed = crossed
        f.dir = d
        f.liquidation = liquidation
        f.px = px
        f.sz = sz
        f.fee_usd = fee
        f.time_ns = now_ns
        f.start_position = start
        f.closed_pnl_usd = closed_pnl
        f.hash_seed = tid  # the engine hashes (salt, tid, oid) into the 0x hash
        st.n_fills = n + 1
    else:
        st.fills_lost += 1
    refresh_liq(books, accounts, positions, account)
    return fee


@njit(cache=True)
def account_value(books, accounts, positions, account) -> float:
    v = accounts[account].usdc_usd
    for c in range(positions.shape[1]):
        p = positions[account, c]
        if p.szi != 0.0:
            v += p.szi * (mark_of(books[c]) - p.entry_px)
    return v


@njit(cache=True)
def margin_used(books, positions, account) -> float:
    m = 0.0
    for c in range(positions.shape[1]):
        p = positions[account, c]
        if p.szi != 0.0:
            m += abs(p.szi) * mark_of(books[c]) / p.leverage
    return m


@njit(cache=True)
def order_margin(books, orders, positions, account) -> float:
    """Initial margin reserved by the account's live orders that add exposure."""
    m = 0.0
    for c in range(books.shape[0]):
        bk = books[c]
        lev = positions[account, c].leverage
        for k in range(bk.n_live):
            o = orders[bk.live[k]]
            if o.account == account and not o.reduce_only:
                m += o.px * o.sz / lev
    return m


@njit(cache=True)
def available_margin(books, orders, accounts, positions, account) -> float:
    return (account_value(books, accounts, positions, account)
            - margin_used(books, positions, account)
            - order_margin(books, orders, positions, account))


@njit(cache=True)
def pay_funding(st, books, accounts, positions, updates, coin, now_ns) -> None:
    """The hourly payment on every open position of ``coin``."""
    bk = books[coin]
    rate = bk.funding_rate_per_h
    px = bk.oracle_px if bk.oracle_px > 0.0 else mark_of(bk)
    if bk.n_positions == 0 or rate == 0.0 or not px > 0.0:
        return
    for a in range(st.n_accounts):
        p = positions[a, coin]
        if p.szi == 0.0:
            continue
        pay = -p.szi * px * rate
        acc = accounts[a]
        acc.usdc_usd += pay
        acc.funding_usd += pay
        p.cum_funding_all_usd += pay
        p.cum_funding_open_usd += pay
        p.cum_funding_change_usd += pay
        emit_update(st, updates, UPD_FUNDING, a, coin, 0, 0, -1, now_ns, pay, p.szi, rate)
        refresh_liq(books, accounts, positions, a)


@njit(cache=True, inline="always")
def check_liquidations(st, books, orders, accounts, positions, fills, updates, coin,
                       now_ns) -> None:
    """Liquidate every position of ``coin`` whose liquidation price the mark reached."""
    bk = books[coin]
    if bk.n_positions == 0:
        return
    mark = mark_of(bk)
    if not mark > 0.0:
        return
    for a in range(st.n_accounts):
        p = positions[a, coin]
        if p.szi == 0.0 or p.liq_px <= 0.0:
            continue
        if (p.szi > 0.0 and mark <= p.liq_px) or (p.szi < 0.0 and mark >= p.liq_px):
            value = account_value(books, accounts, positions, a)
            ntl = abs(p.szi) * mark
            for k in range(bk.n_live - 1, -1, -1):
                slot = bk.live[k]
                if orders[slot].account == a:
                    finish_order(st, books, orders, updates, slot, OS_LIQUIDATED_CANCELED, now_ns)
            side = -1 if p.szi > 0.0 else 1
            apply_fill(st, books, accounts, positions, fills, a, coin, 0, side, mark,
                       abs(p.szi), 1, 1, now_ns)
            emit_update(st, updates, UPD_LIQUIDATION, a, coin, 0, 0, -1, now_ns, ntl, value, mark)
