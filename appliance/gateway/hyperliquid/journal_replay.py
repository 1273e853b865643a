"""Rebuilding the gateway's state from the last run's journal, record by record: the
order tracker, the fill and funding de-duplication, the ladder metadata of each
order and the position. Compacted journals start with ``snap_*`` records
(``journal_compaction``). A malformed record is logged and skipped.
"""

from __future__ import annotations

import logging

from appliance.gateway.fills import Fill
from appliance.gateway.order_state import (
    E_ACK_REJECTED,
    E_ACK_RESTING,
    E_CANCEL_FAILED,
    E_CANCEL_OK,
    E_CANCEL_SENT,
    E_VENUE_CANCELED,
    S_RESTING,
    OrderTracker,
    TrackedOrder,
)

from . import journal_compaction
from .fill_booking import FillBooking
from .positions import Positions

log = logging.getLogger("gateway")


def replay(records: list[dict], tracker: OrderTracker, booking: FillBooking, positions: Positions) -> int:
    """Apply ``records`` (nothing is journaled or published again); returns how many."""
    tr = tracker
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
                        booking.bind(o, o.oid)
                booking.meta[o.cloid] = (r.get("level", 0), r.get("pred_id", 0), 0.0, 0.0)
            elif k == "ack":
                o = tr.get(cloid=r["cloid"])
                if o is None:
                    continue
                if r.get("oid"):
                    booking.bind(o, r["oid"])
                tr.apply(o, E_ACK_RESTING if r.get("st") == "resting" else E_ACK_REJECTED)
            elif k == "imm":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    booking.on_immediate(o, r["oid"], r["total_sz"], r["avg_px"], journal=False)
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
                        booking.bind(o, r["oid"])
                        o.px, o.sz = r["px"], o.filled_sz + r["sz"]
                    else:
                        tr.apply(o, E_CANCEL_SENT)
            elif k == "ou" or k == "gone":
                o = tr.get(cloid=r["cloid"])
                if o is not None:
                    tr.apply(o, r.get("ev", E_VENUE_CANCELED))
            elif k == "fill":
                booking.on_fill(Fill.from_record(r), journal=False, applied=r.get("applied", 0.0))
            elif k == "funding":
                booking.on_funding(r["coin"], r["usdc"], r.get("szi", 0.0), r.get("rate", 0.0), r["time_ms"],
                                   r.get("recv_ms", r["time_ms"]), journal=False)
            elif k.startswith("snap_"):
                journal_compaction.apply(r, positions, tracker, booking)
            elif k == "venue_pos":
                positions.set_position(r["coin"], r["szi"], r.get("entry_px", 0.0))
        except (KeyError, TypeError, ValueError) as e:
            log.error("journal record %s skipped: %s", r.get("n"), e)
    tr.illegal = 0  # replaying old duplicates is not news
    return len(records)
