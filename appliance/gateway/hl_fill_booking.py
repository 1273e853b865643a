"""Booking fills exactly once and publishing them (the executor's fill path).

Every report of a fill (websocket, userFills snapshot, info request, the
``filled`` status of an order response) goes through the FillProcessor (dedup by
(tid, oid), immediate fills by amount); a new one is journaled, then booked into
the position, then published on the FILL_EVENT ring with the ladder's predictions.
"""

from __future__ import annotations

import time

from .fills import EPS_SZ, Fill
from .order_state import E_ACK_FILLED, E_FILL_FULL, E_FILL_PARTIAL, S_FILLED_IMMEDIATELY, TrackedOrder


def fill_from_wire(ex, f: dict, is_snapshot: bool = False) -> Fill | None:
    c = ex.coin_index.get(f.get("coin"))
    if c is None:
        return None
    return Fill(coin=c, oid=int(f["oid"]), tid=int(f.get("tid", 0)), px=float(f["px"]),
                sz=float(f["sz"]), side=1 if f["side"] == "B" else -1, time_ms=int(f["time"]),
                fee=float(f.get("fee", 0.0)), hash=f.get("hash", "") or "",
                cloid=(f.get("cloid") or "").lower(), crossed=bool(f.get("crossed")),
                is_snapshot=is_snapshot)


def on_fill(ex, fill: Fill, journal: bool = True, applied: float | None = None,
            book: bool = True) -> float:
    """Book one fill report exactly once; returns the size booked.
    ``book=False``: remember it as seen only (a fresh start adopts the venue position)."""
    if ex.fills.seen(fill):
        ex.fills.on_fill(fill)  # counts the duplicate
        return 0.0
    sz = ex.fills.on_fill(fill)
    if applied is not None:  # replay: what the last run booked is the truth
        sz = applied
    if not book:
        sz = 0.0
    if journal:
        ex.journal.append("fill", applied=sz, **fill.to_record())
    o = ex.tracker.get(cloid=fill.cloid or None, oid=fill.oid)
    if o is not None:
        if o.state != S_FILLED_IMMEDIATELY:  # its size was counted from the response
            o.filled_sz += fill.sz
        ex.tracker.apply(o, E_FILL_FULL if o.filled_sz >= o.sz - EPS_SZ else E_FILL_PARTIAL)
    if sz > 0.0:
        fee = fill.fee * sz / fill.sz if fill.sz > 0 else 0.0
        ex.positions.apply_fill(fill.coin, fill.side, fill.px, sz, fee)
        ex.last_fill_mono = time.monotonic()
        ex.replan[fill.coin] = True
        if journal:  # not on replay: the last run published it
            meta = ex.order_meta.get(o.cloid if o is not None else "", (0, 0, 0.0, 0.0))
            ex.positions.publish_fill(fill.coin, fill.side, fill.px, sz, fee,
                                      fill.time_ms * 1_000_000, fill.oid, not fill.crossed,
                                      meta[0], meta[1], ex.mid(fill.coin), meta[2], meta[3])
    return sz


def on_immediate(ex, o: TrackedOrder, oid: int, total_sz: float, avg_px: float,
                 journal: bool = True) -> None:
    """An order response said ``filled``: book it now (the ws copies are skipped by amount)."""
    if journal:
        ex.journal.append("imm", cloid=o.cloid, oid=oid, total_sz=total_sz, avg_px=avg_px)
    bind(ex, o, oid)
    ex.tracker.apply(o, E_ACK_FILLED)
    o.filled_sz = total_sz
    sz = ex.fills.record_immediate(oid, total_sz, o.cloid)
    fee = avg_px * sz * ex.cfg.gateway.taker_fee_bps * 1e-4  # an immediate fill took liquidity
    ex.positions.apply_fill(o.coin, 1 if o.is_buy else -1, avg_px, sz, fee)
    ex.last_fill_mono = time.monotonic()
    if journal:
        meta = ex.order_meta.get(o.cloid, (0, 0, 0.0, 0.0))
        ex.positions.publish_fill(o.coin, 1 if o.is_buy else -1, avg_px, sz, fee, time.time_ns(),
                                  oid, False, meta[0], meta[1], ex.mid(o.coin), meta[2], meta[3])


def bind(ex, o: TrackedOrder, oid: int) -> None:
    if o.oid and o.oid != oid and ex.tracker.by_oid.get(o.oid) is o:
        del ex.tracker.by_oid[o.oid]  # a modify moved the order to a new oid
    ex.tracker.bind_oid(o.cloid, oid)
    ex.fills.cloids.bind(o.cloid, oid)
