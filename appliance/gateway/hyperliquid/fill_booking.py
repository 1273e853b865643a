"""Booking fills and fundings exactly once, and publishing the fills.

Every report of a fill (websocket, userFills snapshot, info request, the ``filled``
status of an order response) goes through the FillProcessor (dedup by (tid, oid),
immediate fills by amount); a new one is journaled, then booked into the position,
then published on the FILL_EVENT ring with the ladder's predictions for its order
(``meta``, written when the order is placed). Fundings come on two channels and are
paired by the FundingBook.

``FillBooking`` is given the order tracker, the positions, the journal, the mid
price and the follow-ups (a fill makes its coin plan again); nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from appliance.gateway.fills import EPS_SZ, Fill, FillProcessor
from appliance.gateway.fundings import FundingBook
from appliance.gateway.order_state import (
    E_ACK_FILLED,
    E_FILL_FULL,
    E_FILL_PARTIAL,
    S_FILLED_IMMEDIATELY,
    OrderTracker,
    TrackedOrder,
)
from appliance.runtime.journal import Journal

from .follow_ups import FollowUps
from .order_log import OrderLog
from .positions import Positions

NO_META = (0, 0, 0.0, 0.0)  # (level, pred id, fill prob, AS bps) of an order not ours to know


class FillBooking:
    def __init__(self, tracker: OrderTracker, positions: Positions, journal: Journal,
                 follow: FollowUps, coin_index: dict[str, int], mid: Callable[[int], float],
                 taker_fee_bps: float, order_log: OrderLog) -> None:
        self.tracker = tracker
        self.positions = positions
        self.journal = journal
        self.follow = follow
        self.coin_index = coin_index
        self.mid = mid
        self.taker_fee_bps = taker_fee_bps
        self.order_log = order_log  # a line per fill booked (not on replay)
        self.fills = FillProcessor()
        self.fundings = FundingBook()
        self.meta: dict[str, tuple] = {}  # cloid -> (level, pred id, fill prob, AS bps)
        self.last_fill_mono = 0.0  # time.monotonic() of the last fill booked

    def from_wire(self, f: dict, is_snapshot: bool = False) -> Fill | None:
        """A fill object of the venue's JSON (None for a coin we do not trade)."""
        c = self.coin_index.get(f.get("coin"))
        if c is None:
            return None
        return Fill(coin=c, oid=int(f["oid"]), tid=int(f.get("tid", 0)), px=float(f["px"]),
                    sz=float(f["sz"]), side=1 if f["side"] == "B" else -1, time_ms=int(f["time"]),
                    fee=float(f.get("fee", 0.0)), hash=f.get("hash", "") or "",
                    cloid=(f.get("cloid") or "").lower(), crossed=bool(f.get("crossed")),
                    is_snapshot=is_snapshot)

    def on_fill(self, fill: Fill, journal: bool = True, applied: float | None = None,
                book: bool = True) -> float:
        """Book one fill report exactly once; returns the size booked.
        ``book=False``: remember it as seen only (a fresh start adopts the venue position)."""
        if self.fills.seen(fill):
            self.fills.on_fill(fill)  # counts the duplicate
            return 0.0
        sz = self.fills.on_fill(fill)
        if applied is not None:  # replay: what the last run booked is the truth
            sz = applied
        if not book:
            sz = 0.0
        if journal:
            self.journal.append("fill", applied=sz, **fill.to_record())
        o = self.tracker.get(cloid=fill.cloid or None, oid=fill.oid)
        if o is not None:
            if o.state != S_FILLED_IMMEDIATELY:  # its size was counted from the response
                o.filled_sz += fill.sz
            self.tracker.apply(o, E_FILL_FULL if o.filled_sz >= o.sz - EPS_SZ else E_FILL_PARTIAL)
        if sz > 0.0:
            fee = fill.fee * sz / fill.sz if fill.sz > 0 else 0.0
            self.positions.apply_fill(fill.coin, fill.side, fill.px, sz, fee)
            self.last_fill_mono = time.monotonic()
            self.follow.replan_coin(fill.coin)
            if journal:  # not on replay: the last run published it
                meta = self.meta.get(o.cloid if o is not None else "", NO_META)
                self.positions.publish_fill(fill.coin, fill.side, fill.px, sz, fee,
                                           fill.time_ms * 1_000_000, fill.oid, not fill.crossed,
                                           meta[0], meta[1], self.mid(fill.coin), meta[2], meta[3])
                self.order_log.filled(fill.coin, fill.oid, o.cloid if o is not None else fill.cloid,
                                      meta[1], fill.side, fill.px, sz, fee, not fill.crossed,
                                      float(self.positions.pos[fill.coin]["position_sz"]), fill.tid)
        return sz

    def on_immediate(self, o: TrackedOrder, oid: int, total_sz: float, avg_px: float,
                     journal: bool = True) -> None:
        """An order response said ``filled``: book it now (the ws copies are skipped by amount)."""
        if journal:
            self.journal.append("imm", cloid=o.cloid, oid=oid, total_sz=total_sz, avg_px=avg_px)
        self.bind(o, oid)
        self.tracker.apply(o, E_ACK_FILLED)
        o.filled_sz = total_sz
        sz = self.fills.record_immediate(oid, total_sz, o.cloid)
        fee = avg_px * sz * self.taker_fee_bps * 1e-4  # an immediate fill took liquidity
        self.positions.apply_fill(o.coin, 1 if o.is_buy else -1, avg_px, sz, fee)
        self.last_fill_mono = time.monotonic()
        if journal:
            meta = self.meta.get(o.cloid, NO_META)
            self.positions.publish_fill(o.coin, 1 if o.is_buy else -1, avg_px, sz, fee, time.time_ns(),
                                       oid, False, meta[0], meta[1], self.mid(o.coin), meta[2], meta[3])
            self.order_log.filled(o.coin, oid, o.cloid, meta[1], 1 if o.is_buy else -1, avg_px, sz, fee,
                                  False, float(self.positions.pos[o.coin]["position_sz"]))

    def on_funding(self, coin: int, usdc: float, szi: float, rate: float, time_ms: int, recv_ms: int,
                   journal: bool = True) -> bool:
        """Book a funding payment once: ``userFundings`` (timed) and ``user`` (untimed) both
        report it; ``FundingBook`` pairs the copies."""
        if not self.fundings.accept(coin, usdc, szi, rate, time_ms, recv_ms):
            return False
        if journal:
            self.journal.append("funding", coin=coin, time_ms=time_ms, usdc=usdc, szi=szi, rate=rate,
                                recv_ms=recv_ms)
        self.positions.add_funding(coin, usdc)
        return True

    def bind(self, o: TrackedOrder, oid: int) -> None:
        """The venue's oid of our order (a modify moves it to a new one), in the tracker
        and in the fill dedup's cloid map."""
        if o.oid and o.oid != oid and self.tracker.by_oid.get(o.oid) is o:
            del self.tracker.by_oid[o.oid]
        self.tracker.bind_oid(o.cloid, oid)
        self.fills.cloids.bind(o.cloid, oid)
