"""Keeping the gateway's orders and position in step with the venue.

* fills are booked by ``hl_fill_booking`` (``on_fill``, ``on_immediate``, ``bind``
  and ``fill_from_wire`` are re-exported here).
* ``on_user_event``: fills, orderUpdates, nonUserCancel, fundings, resync.
* ``replay``: the journal of the last run, record by record, rebuilds the
  order tracker, the fill dedup state, the cloid map and the position.
* ``reconcile``: start-up and after every websocket (re)connection:
  ``frontendOpenOrders`` (bind cloids, unknown orders cancelled or adopted,
  vanished orders closed), ``userFills`` (missed fills applied once) and
  ``clearinghouseState`` (the position: adopted on a fresh start, checked later;
  the account's margin into PositionState: ``hl_account``).
* ``check_position``: the position against ``clearinghouseState``; a mismatch
  seen twice in a row with no fill in between is corrected (counted, logged).
"""

from __future__ import annotations

import logging
import time

from shm_layout.constants import (
    COIN_UNKNOWN,
    UE_FILL,
    UE_FUNDING,
    UE_LIQUIDATION,
    UE_NON_USER_CANCEL,
    UE_ORDER,
    UE_RESYNC,
    order_status_is_cancel,
    order_status_is_reject,
)

from . import hl_account, hl_compact
from .fills import Fill
from .hl_fill_booking import bind, fill_from_wire, on_fill, on_immediate  # noqa: F401 - re-exported
from .order_state import (
    E_ACK_REJECTED,
    E_ACK_RESTING,
    E_CANCEL_FAILED,
    E_CANCEL_OK,
    E_CANCEL_SENT,
    E_VENUE_CANCELED,
    E_VENUE_REJECTED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PARTIAL_FILLED,
    S_PENDING_NEW,
    S_RESTING,
    TrackedOrder,
)

log = logging.getLogger("gateway")

OPEN_STATES = (S_PENDING_NEW, S_RESTING, S_PARTIAL_FILLED, S_CANCEL_PENDING, S_CANCEL_CONFIRMED)


# --- websocket user events ------------------------------------------------------------

def on_user_event(ex, ev) -> None:
    kind = int(ev["kind"])
    if kind == UE_RESYNC:
        log.info("websocket (re)connected (connection %d): reconciling", int(ev["tid"]))
        ex.request_reconcile()
        return
    if int(ev["coin"]) == COIN_UNKNOWN and kind != UE_LIQUIDATION:
        return
    if kind == UE_FILL:
        on_fill(ex, Fill.from_user_event(ev))
    elif kind == UE_ORDER:
        code = int(ev["status"])
        o = ex.tracker.get(oid=int(ev["oid"]))
        if o is None:
            return
        if order_status_is_cancel(code):
            ex.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
            ex.tracker.apply(o, E_VENUE_CANCELED)
            ex.replan[o.coin] = True
        elif order_status_is_reject(code):
            ex.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_REJECTED)
            ex.tracker.apply(o, E_VENUE_REJECTED)
    elif kind == UE_NON_USER_CANCEL:
        o = ex.tracker.get(oid=int(ev["oid"]))
        if o is not None:
            ex.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
            ex.tracker.apply(o, E_VENUE_CANCELED)
            ex.replan[o.coin] = True
    elif kind == UE_FUNDING:
        on_funding(ex, int(ev["coin"]), float(ev["usdc"]), float(ev["szi"]), float(ev["funding_rate"]),
                   int(ev["time_ms"]), int(ev["recv_ts_ns"]) // 1_000_000)
    elif kind == UE_LIQUIDATION:
        log.error("liquidation event on our account: reconciling")
        ex.request_reconcile()


def on_funding(ex, coin: int, usdc: float, szi: float, rate: float, time_ms: int, recv_ms: int,
               journal: bool = True) -> bool:
    """Book a funding payment once: ``userFundings`` (timed) and ``user`` (untimed) both
    report it; ``FundingBook`` pairs the copies."""
    if not ex.fundings.accept(coin, usdc, szi, rate, time_ms, recv_ms):
        return False
    if journal:
        ex.journal.append("funding", coin=coin, time_ms=time_ms, usdc=usdc, szi=szi, rate=rate,
                          recv_ms=recv_ms)
    ex.positions.add_funding(coin, usdc)
    return True


# --- journal replay ----------------------------------------------------------------------

def replay(ex, records: list[dict]) -> int:
    """Rebuild orders, fill dedup and position from the last run's journal."""
    tr = ex.tracker
    for r in records:
        k = r.get("k")
        try:
            if k == "place" or k == "adopt":
                o = TrackedOrder(r["cloid"], r["coin"], r["is_buy"], r["px"], r["sz"], r.get("tif", "Alo"),
                                 oid=r.get("oid", 0), level=r.get("level", 0))
                if o.cloid not in tr.by_cloid:
                    tr.add(o)
                    if k == "adopt":
                        o.state = S_RESTING
                    if o.oid:
                        bind(ex, o, o.oid)
                ex.order_meta[o.cloid] = (r.get("level", 0), r.get("pred_id", 0), 0.0, 0.0)
            elif k == "ack":
                o = tr.get(cloid=r["cloid"])
                if o is None:
                    continue
                if r.get("oid"):
                    bind(ex, o, r["oid"])
                tr.apply(o, E_ACK_RESTING if r.get("st") == "resting" else E_ACK_REJECTED)
            elif k == "imm":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    on_immediate(ex, o, r["oid"], r["total_sz"], r["avg_px"], journal=False)
            elif k == "cancel":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    tr.apply(o, E_CANCEL_SENT)
            elif k == "cancel_ack":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    tr.apply(o, E_CANCEL_OK if r.get("ok") else E_CANCEL_FAILED)
            elif k == "modify_ack":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    if r.get("oid"):
                        bind(ex, o, r["oid"])
                        o.px, o.sz = r["px"], o.filled_sz + r["sz"]
                    else:
                        tr.apply(o, E_CANCEL_SENT)
            elif k == "ou" or k == "gone":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    tr.apply(o, r.get("ev", E_VENUE_CANCELED))
            elif k == "fill":
                on_fill(ex, Fill.from_record(r), journal=False, applied=r.get("applied", 0.0))
            elif k == "funding":
                on_funding(ex, r["coin"], r["usdc"], r.get("szi", 0.0), r.get("rate", 0.0), r["time_ms"],
                           r.get("recv_ms", r["time_ms"]), journal=False)
            elif k.startswith("snap_"):
                hl_compact.apply(ex, r)
            elif k == "venue_pos":
                ex.positions.set_position(r["coin"], r["szi"], r.get("entry_px", 0.0))
        except (KeyError, TypeError, ValueError) as e:
            log.error("journal record %s skipped: %s", r.get("n"), e)
    tr.illegal = 0  # replaying old duplicates is not news
    return len(records)


# --- reconciliation with the venue --------------------------------------------------------

def reconcile(ex, fresh: bool) -> bool:
    """Make orders and position agree with the venue; False if the venue did not answer."""
    t0 = time.monotonic()
    # Open orders first, then fills: a fill that lands between the two requests is in the
    # fills list (booked once here; its websocket copy is a duplicate), and an order missing
    # from the open orders that filled before the snapshot is found filled below, not taken
    # for cancelled. Fills timed after the snapshot request ("late") are not yet reflected
    # in the open sizes it shows.
    t_opens_ms = time.time_ns() // 1_000_000
    opens = ex.info({"type": "frontendOpenOrders", "user": ex.user})
    if not isinstance(opens, list):
        return False
    fills = ex.info({"type": "userFills", "user": ex.user})
    missed = 0
    late: dict[str, float] = {}  # cloid -> size filled after the open-orders snapshot
    if isinstance(fills, list):
        for f in reversed(fills):  # the venue lists newest first
            fill = fill_from_wire(ex, f)
            if fill is None:
                continue
            new = not ex.fills.seen(fill)
            missed += on_fill(ex, fill, book=not fresh) > 0.0
            o = ex.tracker.get(cloid=fill.cloid or None, oid=fill.oid) if new else None
            if o is not None and fill.time_ms >= t_opens_ms:
                late[o.cloid] = late.get(o.cloid, 0.0) + fill.sz
    ex.fills.cloids.update_from_open_orders(opens)
    tr = ex.tracker
    present: set[str] = set()
    to_cancel: list[tuple[int, int]] = []
    adopted = unknown = 0
    for v in opens:
        c = ex.coin_index.get(v.get("coin"))
        if c is None:
            continue
        oid = int(v["oid"])
        cloid = (v.get("cloid") or "").lower()
        px, open_sz = float(v["limitPx"]), float(v["sz"])
        o = tr.get(cloid=cloid or None, oid=oid)
        if o is None:
            if ex.cfg.gateway.unknown_orders == "adopt":
                cl = cloid or ex.new_cloid()
                o = TrackedOrder(cl, c, v["side"] == "B", px, open_sz, v.get("tif") or "Alo", oid=oid,
                                 state=S_RESTING)
                ex.journal.append("adopt", cloid=cl, coin=c, is_buy=o.is_buy, px=px, sz=open_sz,
                                  tif=o.tif, oid=oid)
                tr.add(o)
                bind(ex, o, oid)
                present.add(cl)
                adopted += 1
            else:
                to_cancel.append((ex.asset[c], oid))
                unknown += 1
            continue
        present.add(o.cloid)
        if o.oid != oid:
            bind(ex, o, oid)
        o.px, o.sz = px, o.filled_sz - late.get(o.cloid, 0.0) + open_sz
        if o.state == S_PENDING_NEW:
            ex.journal.append("ack", cloid=o.cloid, oid=oid, st="resting")
            tr.apply(o, E_ACK_RESTING)
        elif o.state in (S_CANCEL_PENDING, S_CANCEL_CONFIRMED):
            to_cancel.append((ex.asset[c], oid))  # still resting: the cancel did not land
    gone = 0
    for o in list(tr.by_cloid.values()):
        if o.cloid not in present and o.state in OPEN_STATES:
            ex.journal.append("gone", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
            tr.apply(o, E_VENUE_CANCELED)
            gone += 1
    if to_cancel:
        ex.cancel_raw(to_cancel)
    ch = ex.info({"type": "clearinghouseState", "user": ex.user})
    hl_account.apply(ex.positions, ex.coin_index, ch)  # margin, leverage, liquidation px
    venue_pos = positions_of(ex, ch)
    if fresh and venue_pos is not None:
        for c, (szi, entry) in venue_pos.items():
            ex.journal.append("venue_pos", coin=c, szi=szi, entry_px=entry)
            ex.positions.set_position(c, szi, entry)
    for c in range(ex.n_coins):
        ex.replan[c] = True
    log.info("reconciled with the venue in %.0f ms: %d open there, %d unknown cancelled, %d adopted, "
             "%d ours gone, %d missed fills applied%s", (time.monotonic() - t0) * 1e3, len(opens),
             unknown, adopted, gone, missed, ", position adopted" if fresh else "")
    ex.stats["reconciles"] += 1
    ex.stats["unknown_cancelled"] += unknown
    ex.stats["missed_fills_applied"] += missed
    return True


def positions_of(ex, ch) -> dict[int, tuple[float, float]] | None:
    """{coin: (szi, entry px)} from a clearinghouseState body (0 for coins not listed)."""
    if not isinstance(ch, dict) or "assetPositions" not in ch:
        return None
    out = {c: (0.0, 0.0) for c in range(ex.n_coins)}
    for c, p in hl_account.our_positions(ch, ex.coin_index):
        out[c] = (float(p.get("szi", 0.0)), float(p.get("entryPx") or 0.0))
    return out


def check_position(ex) -> None:
    asked = time.monotonic()
    ch = ex.info({"type": "clearinghouseState", "user": ex.user})
    # Fills the websocket delivered while we waited (a slow venue) are booked first, and a
    # fill booked since shortly before the question makes the comparison meaningless.
    ex._drain_user()
    hl_account.apply(ex.positions, ex.coin_index, ch)
    venue_pos = positions_of(ex, ch)
    if venue_pos is None:
        return
    quiet = asked - ex.last_fill_mono > 2.0
    for c, (szi, entry) in venue_pos.items():
        ours = float(ex.positions.pos[c]["position_sz"])
        pending = any(o.state == S_PENDING_NEW and o.coin == c for o in ex.tracker.by_cloid.values())
        if abs(szi - ours) <= 1e-9 or not quiet or pending:
            ex.pos_mismatch[c] = 0
            continue
        ex.pos_mismatch[c] += 1
        if ex.pos_mismatch[c] >= 2:
            log.warning("%s: position %g differs from the venue's %g twice in a row: adopting the "
                        "venue's", ex.coins[c], ours, szi)
            ex.journal.append("venue_pos", coin=c, szi=szi, entry_px=entry)
            ex.positions.set_position(c, szi, entry)
            ex.stats["position_corrections"] += 1
            ex.pos_mismatch[c] = 0
