"""The gateway's order state machine: every legal transition, and illegal ones
refused, logged and counted."""

from __future__ import annotations

import logging

import pytest

from appliance.gateway import order_state as osm
from appliance.gateway.order_state import (
    E_ACK_FILLED,
    E_ACK_REJECTED,
    E_ACK_RESTING,
    E_CANCEL_FAILED,
    E_CANCEL_OK,
    E_CANCEL_SENT,
    E_FILL_FULL,
    E_FILL_PARTIAL,
    E_VENUE_CANCELED,
    E_VENUE_REJECTED,
    N_EVENTS,
    N_STATES,
    NEXT_STATE,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_CANCELLED,
    S_FILLED,
    S_FILLED_DURING_CANCEL,
    S_FILLED_IMMEDIATELY,
    S_PARTIAL_FILLED,
    S_PENDING_NEW,
    S_REJECTED,
    S_RESTING,
    IllegalTransition,
    OrderTracker,
    TrackedOrder,
    is_active,
    is_terminal,
    next_state,
)

LEGAL = [
    (S_PENDING_NEW, E_ACK_RESTING, S_RESTING),
    (S_PENDING_NEW, E_ACK_FILLED, S_FILLED_IMMEDIATELY),
    (S_PENDING_NEW, E_ACK_REJECTED, S_REJECTED),
    (S_PENDING_NEW, E_FILL_PARTIAL, S_PARTIAL_FILLED),
    (S_RESTING, E_FILL_PARTIAL, S_PARTIAL_FILLED),
    (S_RESTING, E_FILL_FULL, S_FILLED),
    (S_PARTIAL_FILLED, E_FILL_PARTIAL, S_PARTIAL_FILLED),
    (S_PARTIAL_FILLED, E_FILL_FULL, S_FILLED),
    (S_RESTING, E_CANCEL_SENT, S_CANCEL_PENDING),
    (S_PARTIAL_FILLED, E_CANCEL_SENT, S_CANCEL_PENDING),
    (S_CANCEL_PENDING, E_CANCEL_OK, S_CANCEL_CONFIRMED),
    (S_CANCEL_PENDING, E_FILL_FULL, S_FILLED_DURING_CANCEL),
    (S_CANCEL_PENDING, E_CANCEL_FAILED, S_CANCEL_PENDING),
    (S_CANCEL_CONFIRMED, E_VENUE_CANCELED, S_CANCELLED),
    (S_RESTING, E_VENUE_CANCELED, S_CANCELLED),
    (S_FILLED_IMMEDIATELY, E_FILL_FULL, S_FILLED_IMMEDIATELY),
    (S_FILLED_DURING_CANCEL, E_CANCEL_FAILED, S_FILLED_DURING_CANCEL),
    (S_PENDING_NEW, E_VENUE_REJECTED, S_REJECTED),
]

ILLEGAL = [
    (S_FILLED, E_FILL_PARTIAL),  # an overfill
    (S_FILLED, E_CANCEL_SENT),  # cancelling what is done
    (S_CANCELLED, E_ACK_RESTING),  # resurrection
    (S_REJECTED, E_FILL_FULL),
    (S_CANCEL_CONFIRMED, E_FILL_FULL),  # a confirmed cancel cannot have filled whole
    (S_RESTING, E_CANCEL_OK),  # a cancel we never sent
    (S_RESTING, E_ACK_RESTING),  # a second ack
    (S_FILLED_IMMEDIATELY, E_CANCEL_SENT),
    (S_CANCEL_PENDING, E_CANCEL_SENT),  # never resend a cancel in flight
]


def _order(state: int) -> TrackedOrder:
    return TrackedOrder(cloid="0x" + "0" * 31 + "1", coin=0, is_buy=True, px=100.0, sz=1.0,
                        oid=7, state=state)


@pytest.mark.parametrize(("state", "event", "after"), LEGAL)
def test_transition_when_legal_then_state_moves(state, event, after):
    tr = OrderTracker()
    o = tr.add(_order(state))
    assert tr.apply(o, event) is True
    assert o.state == after and tr.illegal == 0


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_transition_when_illegal_then_refused_logged_and_counted(state, event, caplog):
    caplog.set_level(logging.ERROR)
    tr = OrderTracker()
    o = tr.add(_order(state))
    assert tr.apply(o, event) is False
    assert o.state == state, "an illegal transition leaves the order as it was"
    assert tr.illegal == 1 and osm.STATE_NAMES[state] in tr.last_illegal
    assert any("illegal order transition" in r.getMessage() for r in caplog.records)
    strict = OrderTracker(strict=True)
    o2 = strict.add(_order(state))
    with pytest.raises(IllegalTransition):
        strict.apply(o2, event)


def test_is_active_when_any_state_then_only_resting_and_partial():
    assert [s for s in range(N_STATES) if is_active(s)] == [S_RESTING, S_PARTIAL_FILLED]
    for s in (S_FILLED_IMMEDIATELY, S_FILLED, S_CANCELLED, S_REJECTED, S_FILLED_DURING_CANCEL):
        assert is_terminal(s) and not is_active(s)


def test_table_when_terminal_state_then_no_event_makes_it_active_again():
    for s in range(N_STATES):
        if not is_terminal(s):
            continue
        for e in range(N_EVENTS):
            n = int(next_state(NEXT_STATE, s, e))
            assert n == -1 or not is_active(n), (osm.STATE_NAMES[s], osm.EVENT_NAMES[e])
    assert next_state(NEXT_STATE, 99, 0) == -1 and next_state(NEXT_STATE, 0, 99) == -1


def test_tracker_when_order_lives_then_found_by_cloid_and_oid_and_listed_active():
    tr = OrderTracker()
    o = tr.add(TrackedOrder(cloid="0xabc", coin=1, is_buy=False, px=10.0, sz=2.0))
    tr.apply(o, E_ACK_RESTING)
    tr.bind_oid("0xabc", 55)
    assert tr.get(oid=55) is o and tr.get(cloid="0xabc") is o
    assert tr.active(coin=1) == [o] and tr.active(coin=0) == []
    tr.apply(o, E_CANCEL_SENT)
    assert tr.active() == []
    tr.apply(o, E_CANCEL_OK)
    tr.apply(o, E_VENUE_CANCELED)
    assert o.state == S_CANCELLED and tr.forget_terminal() == 1 and tr.get(oid=55) is None
