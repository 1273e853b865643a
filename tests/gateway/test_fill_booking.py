"""FillBooking, alone: a fill reported on several channels is booked once (journaled,
into the position, published with its order's ladder prediction); a fresh start only
remembers fills; an immediate fill's websocket copies are skipped by amount; a
funding is booked once; a modify's new oid is bound in the tracker and the dedup map."""

from __future__ import annotations

from gateway_fakes import GatewayParts

from appliance.gateway.fills import Fill
from appliance.gateway.order_state import E_ACK_RESTING, S_FILLED, S_PARTIAL_FILLED, TrackedOrder
from appliance.runtime.journal import read_journal

CLOID = "0x" + "33" * 16


def _resting(ex, oid=11, sz=0.01):
    o = ex.tracker.add(TrackedOrder(CLOID, 0, True, 100_000.0, sz))
    ex.booking.bind(o, oid)
    ex.tracker.apply(o, E_ACK_RESTING)
    ex.booking.meta[CLOID] = (2, 77, 0.3, 1.5)
    return o


def _fill(sz, tid=1, oid=11, crossed=False):
    return Fill(0, oid, tid, 100_000.0, sz, 1, 1_800_000_000_000, 0.02, "0xh", CLOID, crossed)


def test_fill_when_reported_twice_then_booked_once_and_published_with_its_prediction(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    o = _resting(ex)
    ex.follow.replan[0] = False
    assert ex.booking.on_fill(_fill(0.004)) == 0.004
    assert ex.booking.on_fill(_fill(0.004)) == 0.0  # the snapshot copy
    assert o.state == S_PARTIAL_FILLED and abs(o.filled_sz - 0.004) < 1e-12
    assert abs(float(ex.positions.pos[0]["position_sz"]) - 0.004) < 1e-12
    assert ex.booking.fills.duplicates == 1 and ex.follow.replan == [True]
    (pub,) = ex.positions.published
    assert pub[8:10] == (2, 77) and pub[10] == 100_000.0 and pub[11:] == (0.3, 1.5)
    ex.journal.sync()
    assert [(r["k"], r["applied"]) for r in read_journal(ex.journal.path)[0]] == [("fill", 0.004)]


def test_fill_when_not_booked_on_a_fresh_start_then_remembered_only(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    o = _resting(ex)
    assert ex.booking.on_fill(_fill(0.01), book=False) == 0.0
    assert o.state == S_FILLED and float(ex.positions.pos[0]["position_sz"]) == 0.0
    assert ex.booking.on_fill(_fill(0.01)) == 0.0  # seen


def test_immediate_fill_when_websocket_copies_follow_then_not_booked_again(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    o = ex.tracker.add(TrackedOrder(CLOID, 0, True, 100_000.0, 0.01, "Ioc"))
    ex.booking.on_immediate(o, 12, 0.01, 100_000.0)
    assert ex.booking.last_fill_mono > 0.0
    assert ex.booking.on_fill(_fill(0.006, 1, 12, crossed=True)) == 0.0
    assert ex.booking.on_fill(_fill(0.004, 2, 12, crossed=True)) == 0.0
    assert abs(float(ex.positions.pos[0]["position_sz"]) - 0.01) < 1e-12
    assert len(ex.positions.published) == 1


def test_funding_when_both_channels_report_it_then_booked_once(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    hour = 1_800_000_000_000 // 3_600_000 * 3_600_000
    assert ex.booking.on_funding(0, -0.25, 0.01, 1e-5, hour, hour + 40)
    assert not ex.booking.on_funding(0, -0.25, 0.01, 1e-5, 0, hour + 90)
    assert float(ex.positions.pos[0]["realized_pnl_usd"]) == -0.25


def test_bind_when_a_modify_moves_the_order_then_the_old_oid_is_forgotten(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    o = _resting(ex, oid=11)
    ex.booking.bind(o, 12)
    assert ex.tracker.get(oid=12) is o and ex.tracker.get(oid=11) is None
    assert ex.booking.fills.cloids.oid(CLOID) == 12
    assert ex.booking.from_wire({"coin": "ETH", "oid": 1, "px": "1", "sz": "1", "side": "B",
                                 "time": 1}) is None  # a coin we do not trade
