"""The life of each order placement, on the ORDER_EVENT ring, for the model scorer.

The risk watchdog's scorer (``appliance/risk/scoring/``) pairs each order's
fill-probability forecast with its outcome: filled within the horizon, rested through
it unfilled, or cut short (cancelled, rejected, replaced) before it: censored. It
needs, per placement, when it left with which forecast, its first fill and its end;
this object publishes exactly that, one 64-byte record per event:

* ``placed``: ``OrderSender`` sends a new order (level, prediction id, predicted fill
  probability, horizon);
* ``modified``: a modify the venue accepted. The venue cancels the old order and rests
  a new one at the back of the queue: the old placement ends (``END_MODIFIED``) and a
  new one starts with the ladder's forecast for its level now;
* ``on_transition``: the ``OrderTracker`` observer; the first fill of a placement
  (``OE_FILLED``) and its end (filled out, cancelled, rejected).

Times are CLOCK_MONOTONIC (the scorer samples MarketParams and the fills ring on it;
immune to venue clock offsets). Orders this gateway did not place since it started
(replayed from the journal, adopted) are not followed. Nothing here may stop the
gateway: a failure is counted and logged once, and the event dropped.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from appliance.gateway.order_state import (
    E_ACK_FILLED,
    E_FILL_FULL,
    E_FILL_PARTIAL,
    S_CANCEL_CONFIRMED,
    S_CANCELLED,
    S_FILLED,
    S_FILLED_DURING_CANCEL,
    S_FILLED_IMMEDIATELY,
    S_REJECTED,
    TrackedOrder,
)
from appliance.ipc import byte_rows, ring
from shm_layout import records
from shm_layout.constants import (
    END_CANCELLED,
    END_FILLED,
    END_MODIFIED,
    END_REJECTED,
    OE_ENDED,
    OE_FILLED,
    OE_PLACED,
)

log = logging.getLogger("gateway")

FILL_EVENTS = (E_FILL_PARTIAL, E_FILL_FULL, E_ACK_FILLED)
END_OF_STATE = {S_FILLED: END_FILLED, S_FILLED_DURING_CANCEL: END_FILLED,
                S_FILLED_IMMEDIATELY: END_FILLED, S_REJECTED: END_REJECTED,
                S_CANCELLED: END_CANCELLED, S_CANCEL_CONFIRMED: END_CANCELLED}
KEEP_ENDED_NS = 60_000_000_000  # an ended placement still takes a late fill report this long
PRUNE_EVERY_NS = 5_000_000_000
MAX_FOLLOWED = 20_000  # placements followed at most (the oldest dropped): bounded memory


class _Placement:
    __slots__ = ("key", "filled", "ended_ns")

    def __init__(self, key: int) -> None:
        self.key = key
        self.filled = False
        self.ended_ns = 0


class OrderLifecycle:
    def __init__(self, mem, horizon_s: float) -> None:
        """``mem``: the instance's shared memory (its ``orders`` ring); ``horizon_s``:
        the horizon of the fill-probability forecasts (scores.fill_horizon_s)."""
        seg = mem.orders
        self.words, self.seqs, self.rows = seg.ring_words, seg.seqs, seg.rows
        self.horizon_ns = int(horizon_s * 1e9)
        self._ev = np.zeros(1, records.ORDER_EVENT)
        self._u8 = byte_rows(self._ev)
        self._key = time.time_ns()  # keys unique across gateway restarts
        self.live: dict[str, _Placement] = {}
        self._next_prune = 0
        self.published = 0
        self.errors = 0

    # --- what the gateway calls ----------------------------------------------------------
    def placed(self, o: TrackedOrder, level: int, pred_id: int, fill_prob: float) -> None:
        try:
            now = time.monotonic_ns()
            self._start(o, level, pred_id, fill_prob, now)
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY_NS
                self._prune(now)
        except Exception:  # noqa: BLE001 - the scorer's input never stops an order
            self._failed()

    def modified(self, o: TrackedOrder, level: int, pred_id: int, fill_prob: float) -> None:
        try:
            now = time.monotonic_ns()
            p = self.live.get(o.cloid)
            if p is not None and not p.ended_ns:
                self._emit(o, OE_ENDED, p.key, now, end_reason=END_MODIFIED)
            self._start(o, level, pred_id, fill_prob, now)
        except Exception:  # noqa: BLE001
            self._failed()

    def on_transition(self, o: TrackedOrder, old_state: int, event: int) -> None:
        """``OrderTracker.observer``: called after every legal transition."""
        try:
            p = self.live.get(o.cloid)
            if p is None:
                return
            now = time.monotonic_ns()
            if event in FILL_EVENTS and not p.filled:
                p.filled = True
                self._emit(o, OE_FILLED, p.key, now)
            reason = END_OF_STATE.get(o.state, 0)
            if reason and not p.ended_ns:
                p.ended_ns = now
                self._emit(o, OE_ENDED, p.key, now, end_reason=reason)
        except Exception:  # noqa: BLE001
            self._failed()

    # --- inside ----------------------------------------------------------------------------
    def _start(self, o: TrackedOrder, level: int, pred_id: int, fill_prob: float, now: int) -> None:
        self._key += 1
        self.live[o.cloid] = _Placement(self._key)
        self._emit(o, OE_PLACED, self._key, now, level=level, pred_id=pred_id, fill_prob=fill_prob)

    def _emit(self, o: TrackedOrder, kind: int, key: int, now: int, level: int = 0,
              pred_id: int = 0, fill_prob: float = 0.0, end_reason: int = 0) -> None:
        e = self._ev[0]
        e["coin"], e["side"], e["kind"] = o.coin, 1 if o.is_buy else -1, kind
        e["level"], e["end_reason"] = min(max(level, 0), 255), end_reason
        e["mono_ns"], e["key"], e["pred_id"] = now, key, pred_id
        e["pred_fill_prob"], e["horizon_ns"], e["px"] = fill_prob, self.horizon_ns, o.px
        ring.publish(self.words, self.seqs, self.rows, self._u8[0], now)
        self.published += 1

    def _prune(self, now: int) -> None:
        gone = [c for c, p in self.live.items() if p.ended_ns and now - p.ended_ns > KEEP_ENDED_NS]
        for c in gone:
            del self.live[c]
        if len(self.live) > MAX_FOLLOWED:  # orders that left without an end we saw
            for c in sorted(self.live, key=lambda c: self.live[c].key)[:len(self.live) - MAX_FOLLOWED]:
                del self.live[c]

    def _failed(self) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            log.exception("order lifecycle for the model scorer failed (%d so far); trading "
                          "goes on", self.errors)
