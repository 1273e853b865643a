"""OrderLifecycle: what the model scorer learns of each order placement, through the
real OrderSender, FillBooking and OrderTracker over the scripted venue: placed with its
level's forecast, first fill once, the end and why; a modify ends the old placement
and starts a new one with the ladder's forecast now; a failure never reaches trading."""

from __future__ import annotations

import numpy as np
import pytest
from gateway_fakes import GatewayParts
from risk_helpers import fresh_segments

from appliance.gateway.fills import Fill
from appliance.gateway.hyperliquid.order_lifecycle import OrderLifecycle
from appliance.gateway.order_state import S_FILLED, S_RESTING
from appliance.gateway.reconcile_plan import LiveOrder, Modify, NewOrder
from appliance.hyperliquid.http_transport import Reply
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

MID = 100_000.0


@pytest.fixture
def mem():
    with fresh_segments("olc") as m:
        yield m


@pytest.fixture
def ex(tmp_path, mem):
    parts = GatewayParts(tmp_path / "j.jsonl")
    lad = parts.ladder[0]
    lad["bid_pred_id"][:3] = (11, 12, 13)
    lad["bid_fill_prob"][:3] = (0.6, 0.3, 0.1)
    lad["bid_as_bps"][:3] = (2.0, 1.0, 0.5)
    life = OrderLifecycle(mem, horizon_s=8.0)
    parts.sender.lifecycle = life
    parts.tracker.observer = life.on_transition
    parts.life = life
    parts.cursor = np.array([1, 0], np.int64)  # the first event on
    return parts


def events(ex, mem) -> list[dict]:
    out = []
    buf = np.zeros(1, records.ORDER_EVENT)
    seg = mem.orders
    while ring.read_next(seg.ring_words, seg.seqs, seg.rows, ex.cursor, 0, byte_rows(buf)[0]):
        e = buf[0]
        out.append({k: e[k].item() for k in ("kind", "key", "coin", "side", "level", "end_reason",
                                              "pred_id", "pred_fill_prob", "horizon_ns", "mono_ns")})
    return out


def _place(ex, level=0):
    ex.sender.send_orders([NewOrder(0, True, MID - 10 * (level + 1), 0.002, level, "Alo")], 0)
    return ex.tracker.active(0)[-1]


def _fill(o, sz, tid):
    return Fill(0, o.oid, tid, o.px, sz, 1, 1_800_000_000_000, 0.01, "0xh", o.cloid, False)


def test_place_when_sent_then_placed_event_carries_the_levels_forecast_and_horizon(ex, mem):
    _place(ex, level=1)
    (e,) = events(ex, mem)
    assert e["kind"] == OE_PLACED and e["level"] == 1 and e["pred_id"] == 12 and e["side"] == 1
    assert e["pred_fill_prob"] == pytest.approx(0.3) and e["horizon_ns"] == 8_000_000_000
    assert e["mono_ns"] > 0 and e["key"] > 0


def test_fills_when_partial_then_full_then_one_first_fill_and_an_end_filled(ex, mem):
    o = _place(ex)
    ex.booking.on_fill(_fill(o, 0.001, 1))
    ex.booking.on_fill(_fill(o, 0.001, 2))
    placed, filled, ended = events(ex, mem)
    assert filled["kind"] == OE_FILLED and filled["key"] == placed["key"]
    assert ended["kind"] == OE_ENDED and ended["end_reason"] == END_FILLED
    assert placed["mono_ns"] <= filled["mono_ns"] <= ended["mono_ns"]


def test_cancel_when_acknowledged_then_ended_cancelled(ex, mem):
    o = _place(ex)
    ex.sender.send_cancels([LiveOrder(o.cloid, o.oid, 0, True, o.px, o.open_sz, "Alo")])
    placed, ended = events(ex, mem)
    assert ended["kind"] == OE_ENDED and ended["end_reason"] == END_CANCELLED
    assert ended["key"] == placed["key"]


def test_modify_when_accepted_then_old_placement_ends_and_new_one_starts_with_todays_forecast(ex, mem):
    o = _place(ex, level=0)
    ex.ladder[0]["bid_pred_id"][2] = 99
    ex.ladder[0]["bid_fill_prob"][2] = 0.05
    ex.sender.send_modifies([Modify(LiveOrder(o.cloid, o.oid, 0, True, o.px, o.open_sz, "Alo"),
                                    MID - 30, 0.002, 2, "Alo")], 0)
    placed, ended, again = events(ex, mem)
    assert ended["kind"] == OE_ENDED and ended["key"] == placed["key"]
    assert ended["end_reason"] == END_MODIFIED
    assert again["kind"] == OE_PLACED and again["key"] != placed["key"]
    assert again["level"] == 2 and again["pred_id"] == 99
    assert again["pred_fill_prob"] == pytest.approx(0.05)
    # the fills of the modified order carry the forecast it rests under now
    assert ex.booking.meta[o.cloid][:3] == (2, 99, pytest.approx(0.05))
    ex.booking.on_fill(_fill(o, 0.002, 7))
    filled, end = events(ex, mem)
    assert filled["key"] == again["key"] and end["end_reason"] == END_FILLED


def test_reject_when_venue_refuses_then_ended_rejected(ex, mem):
    ex.venue.script = [Reply(200, {"status": "ok", "response": {"type": "order", "data": {
        "statuses": [{"error": "Order has invalid price."}]}}})]
    ex.sender.send_orders([NewOrder(0, True, MID - 10, 0.002, 0, "Alo")], 0)
    placed, ended = events(ex, mem)
    assert ended["kind"] == OE_ENDED and ended["end_reason"] == END_REJECTED


def test_orders_not_placed_here_when_they_change_then_nothing_published(ex, mem):
    o = _place(ex)
    events(ex, mem)
    ex.life.live.clear()  # as for an order replayed from the journal
    ex.booking.on_fill(_fill(o, 0.002, 1))
    assert events(ex, mem) == []


def test_lifecycle_when_it_fails_then_counted_and_trading_goes_on(ex, mem):
    ex.life.rows = None  # every publish now raises
    o = _place(ex)
    assert o.state == S_RESTING and o.oid  # the order went out
    ex.booking.on_fill(_fill(o, 0.002, 1))
    assert ex.life.errors >= 2 and o.state == S_FILLED  # booked
