"""Order slots, per-coin live lists and the update output buffer."""

from numba import njit

from shm_layout.venue_records import OS_OPEN, UPD_ORDER


@njit(cache=True)
def emit_update(st, updates, kind, account, coin, status, oid, slot, time_ns, v0, v1, v2):
    n = st.n_updates
    if n >= updates.shape[0]:
        st.updates_lost += 1
        return
    u = updates[n]
    u.kind = kind
    u.account = account
    u.coin = coin
    u.status = status
    u.oid = oid
    u.slot = slot
    u.time_ns = time_ns
    u.v0 = v0
    u.v1 = v1
    u.v2 = v2
    st.n_updates = n + 1


@njit(cache=True)
def emit_order_update(st, updates, orders, slot, time_ns):
    """UPD_ORDER for the slot's current status: v0 remaining sz, v1 filled sz, v2 px."""
    o = orders[slot]
    emit_update(st, updates, UPD_ORDER, o.account, o.coin, o.status, o.oid, slot, time_ns,
                o.sz, o.filled_sz, o.px)


@njit(cache=True)
def alloc_slot(st, orders) -> int:
    """A slot that holds no live order, or -1 if all are live."""
    cap = orders.shape[0]
    k = st.slot_cursor
    for _ in range(cap):
        if k >= cap:
            k = 0
        if orders[k].status != OS_OPEN:
            st.slot_cursor = k + 1
            return k
        k += 1
    return -1


@njit(cache=True)
def live_add(book, slot) -> bool:
    n = book.n_live
    if n >= book.live.shape[0]:
        return False
    book.live[n] = slot
    book.n_live = n + 1
    return True


@njit(cache=True)
def live_remove(book, slot) -> None:
    """Swap-remove: callers walking the list backwards may remove the current entry."""
    n = book.n_live
    for k in range(n):
        if book.live[k] == slot:
            book.live[k] = book.live[n - 1]
            book.n_live = n - 1
            return


@njit(cache=True)
def finish_order(st, books, orders, updates, slot, status, now_ns) -> None:
    """Take a live order out of its book with a final status, and report it."""
    o = orders[slot]
    live_remove(books[o.coin], slot)
    o.status = status
    o.status_ns = now_ns
    emit_order_update(st, updates, orders, slot, now_ns)
