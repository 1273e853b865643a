"""The order state machine of the live gateway.

States (the seed's list, plus PendingNew for "sent, no response yet": websocket
fills can arrive before the HTTP response, and the journal records the intent
before the request leaves):

    PendingNew -> Resting | FilledImmediately | Rejected | PartialFilled | Filled
    Resting / PartialFilled -> PartialFilled | Filled | CancelPending | Cancelled
    CancelPending -> CancelConfirmed | FilledDuringCancel | Cancelled
    CancelConfirmed -> Cancelled

``is_active`` is true for Resting and PartialFilled only: the orders the
reconciler may keep, modify or cancel. Every transition comes from the table
``NEXT_STATE[state, event]``; a pair not in it is illegal: the tracker logs it,
counts it and leaves the order as it was (``strict=True`` raises instead).
Legal no-op pairs are listed explicitly (a late duplicate signal is normal on
this venue, e.g. the websocket echo of an immediate fill).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

log = logging.getLogger(__name__)

# --- states ------------------------------------------------------------------------
S_PENDING_NEW = 0
S_RESTING = 1
S_PARTIAL_FILLED = 2
S_FILLED_IMMEDIATELY = 3
S_CANCEL_PENDING = 4
S_CANCEL_CONFIRMED = 5
S_FILLED_DURING_CANCEL = 6
S_FILLED = 7
S_CANCELLED = 8
S_REJECTED = 9
N_STATES = 10
STATE_NAMES = ("PendingNew", "Resting", "PartialFilled", "FilledImmediately", "CancelPending",
               "CancelConfirmed", "FilledDuringCancel", "Filled", "Cancelled", "Rejected")

# --- events --------------------------------------------------------------------------
E_ACK_RESTING = 0  # order response {"resting": {"oid"}}
E_ACK_FILLED = 1  # order response {"filled": {...}} for the whole size
E_ACK_REJECTED = 2  # order response {"error": ...} or a whole-batch error
E_FILL_PARTIAL = 3  # a fill that leaves some size open
E_FILL_FULL = 4  # a fill that completes the order
E_CANCEL_SENT = 5  # we sent cancel / cancelByCloid
E_CANCEL_OK = 6  # cancel response "success"
E_CANCEL_FAILED = 7  # cancel response error: never placed, already canceled, or filled
E_VENUE_CANCELED = 8  # orderUpdates canceled / *Canceled / scheduledCancel, nonUserCancel
E_VENUE_REJECTED = 9  # orderUpdates *Rejected
N_EVENTS = 10
EVENT_NAMES = ("ack_resting", "ack_filled", "ack_rejected", "fill_partial", "fill_full",
               "cancel_sent", "cancel_ok", "cancel_failed", "venue_canceled", "venue_rejected")

_LEGAL: dict[tuple[int, int], int] = {
    # the response to our order
    (S_PENDING_NEW, E_ACK_RESTING): S_RESTING,
    (S_PENDING_NEW, E_ACK_FILLED): S_FILLED_IMMEDIATELY,
    (S_PENDING_NEW, E_ACK_REJECTED): S_REJECTED,
    (S_PENDING_NEW, E_VENUE_REJECTED): S_REJECTED,
    (S_PENDING_NEW, E_VENUE_CANCELED): S_CANCELLED,  # e.g. an Ioc remainder
    # websocket fills that beat the response
    (S_PENDING_NEW, E_FILL_PARTIAL): S_PARTIAL_FILLED,
    (S_PENDING_NEW, E_FILL_FULL): S_FILLED,
    (S_PARTIAL_FILLED, E_ACK_RESTING): S_PARTIAL_FILLED,
    (S_FILLED, E_ACK_FILLED): S_FILLED,
    (S_FILLED, E_ACK_RESTING): S_FILLED,  # rested, then filled before the response came
    # resting life
    (S_RESTING, E_FILL_PARTIAL): S_PARTIAL_FILLED,
    (S_RESTING, E_FILL_FULL): S_FILLED,
    (S_PARTIAL_FILLED, E_FILL_PARTIAL): S_PARTIAL_FILLED,
    (S_PARTIAL_FILLED, E_FILL_FULL): S_FILLED,
    (S_RESTING, E_VENUE_CANCELED): S_CANCELLED,  # margin, self-trade, scheduledCancel ...
    (S_PARTIAL_FILLED, E_VENUE_CANCELED): S_CANCELLED,
    # the websocket echo of an immediate fill (its amount is de-duplicated in fills.py)
    (S_FILLED_IMMEDIATELY, E_FILL_PARTIAL): S_FILLED_IMMEDIATELY,
    (S_FILLED_IMMEDIATELY, E_FILL_FULL): S_FILLED_IMMEDIATELY,
    # cancelling
    (S_PENDING_NEW, E_CANCEL_SENT): S_CANCEL_PENDING,  # cancel by cloid before the ack
    (S_RESTING, E_CANCEL_SENT): S_CANCEL_PENDING,
    (S_PARTIAL_FILLED, E_CANCEL_SENT): S_CANCEL_PENDING,
    (S_CANCEL_PENDING, E_ACK_RESTING): S_CANCEL_PENDING,
    (S_CANCEL_PENDING, E_CANCEL_OK): S_CANCEL_CONFIRMED,
    (S_CANCEL_PENDING, E_CANCEL_FAILED): S_CANCEL_PENDING,  # the websocket says why
    (S_CANCEL_PENDING, E_FILL_PARTIAL): S_CANCEL_PENDING,
    (S_CANCEL_PENDING, E_FILL_FULL): S_FILLED_DURING_CANCEL,
    (S_CANCEL_PENDING, E_ACK_FILLED): S_FILLED_DURING_CANCEL,
    (S_CANCEL_PENDING, E_VENUE_CANCELED): S_CANCELLED,
    (S_CANCEL_PENDING, E_ACK_REJECTED): S_REJECTED,
    (S_CANCEL_CONFIRMED, E_VENUE_CANCELED): S_CANCELLED,
    # a fill that happened before the cancel, reported after it
    (S_CANCEL_CONFIRMED, E_FILL_PARTIAL): S_CANCEL_CONFIRMED,
    (S_CANCELLED, E_FILL_PARTIAL): S_CANCELLED,
    (S_FILLED_DURING_CANCEL, E_CANCEL_FAILED): S_FILLED_DURING_CANCEL,
    (S_FILLED_DURING_CANCEL, E_FILL_PARTIAL): S_FILLED_DURING_CANCEL,
    (S_FILLED, E_CANCEL_FAILED): S_FILLED,
    (S_CANCELLED, E_CANCEL_OK): S_CANCELLED,  # the websocket beat the cancel response
    (S_CANCELLED, E_CANCEL_FAILED): S_CANCELLED,
    (S_CANCELLED, E_VENUE_CANCELED): S_CANCELLED,
    (S_REJECTED, E_VENUE_REJECTED): S_REJECTED,
}

NEXT_STATE = np.full((N_STATES, N_EVENTS), -1, np.int8)
for (_s, _e), _n in _LEGAL.items():
    NEXT_STATE[_s, _e] = _n


@njit(cache=True)
def next_state(table, state, event):
    """The state after ``event``, or -1 when the pair is illegal."""
    if state < 0 or state >= table.shape[0] or event < 0 or event >= table.shape[1]:
        return -1
    return table[state, event]


def is_active(state: int) -> bool:
    return state == S_RESTING or state == S_PARTIAL_FILLED


def is_terminal(state: int) -> bool:
    return state in (S_FILLED_IMMEDIATELY, S_FILLED_DURING_CANCEL, S_FILLED, S_CANCELLED,
                     S_REJECTED)


class IllegalTransition(RuntimeError):
    pass


@dataclass
class TrackedOrder:
    cloid: str
    coin: int
    is_buy: bool
    px: float
    sz: float  # original size
    tif: str = "Alo"
    oid: int = 0  # 0 until the venue gives one
    state: int = S_PENDING_NEW
    filled_sz: float = 0.0
    level: int = 0  # ladder level it quotes
    created_ms: int = 0

    @property
    def open_sz(self) -> float:
        return max(0.0, self.sz - self.filled_sz)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]


class OrderTracker:
    """Our orders by cloid (and oid once known), moved only through ``apply``."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.by_cloid: dict[str, TrackedOrder] = {}
        self.by_oid: dict[int, TrackedOrder] = {}
        self.illegal = 0  # metric: illegal transitions seen
        self.last_illegal = ""
        # called (order, old state, event) after every legal transition; must not raise
        self.observer: Callable[[TrackedOrder, int, int], None] | None = None

    def add(self, order: TrackedOrder) -> TrackedOrder:
        if order.cloid in self.by_cloid:
            raise ValueError(f"cloid {order.cloid} already tracked")
        self.by_cloid[order.cloid] = order
        if order.oid:
            self.by_oid[order.oid] = order
        return order

    def bind_oid(self, cloid: str, oid: int) -> None:
        o = self.by_cloid[cloid]
        o.oid = oid
        self.by_oid[oid] = o

    def get(self, cloid: str | None = None, oid: int | None = None) -> TrackedOrder | None:
        if cloid is not None and cloid in self.by_cloid:
            return self.by_cloid[cloid]
        if oid:
            return self.by_oid.get(oid)
        return None

    def apply(self, order: TrackedOrder, event: int) -> bool:
        """Move ``order`` on ``event``; False (logged, counted) if illegal."""
        new = int(next_state(NEXT_STATE, order.state, event))
        if new < 0:
            self.illegal += 1
            ev = EVENT_NAMES[event] if 0 <= event < N_EVENTS else str(event)
            self.last_illegal = f"{order.cloid} oid={order.oid}: {order.state_name} + {ev}"
            log.error("illegal order transition %s", self.last_illegal)
            if self.strict:
                raise IllegalTransition(self.last_illegal)
            return False
        old, order.state = order.state, new
        if self.observer is not None:
            self.observer(order, old, event)
        return True

    def active(self, coin: int | None = None) -> list[TrackedOrder]:
        return [o for o in self.by_cloid.values()
                if is_active(o.state) and (coin is None or o.coin == coin)]

    def forget_terminal(self) -> int:
        """Drop finished orders (the journal keeps them); returns how many."""
        dead = [c for c, o in self.by_cloid.items() if is_terminal(o.state)]
        for c in dead:
            o = self.by_cloid.pop(c)
            if o.oid and self.by_oid.get(o.oid) is o:
                del self.by_oid[o.oid]
        return len(dead)
