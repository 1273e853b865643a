"""OrderSender, alone over a scripted venue: a flush sends cancels first, then post-only
modifies and orders apart from the others; each answer shape moves the order where it
belongs (resting, filled at once, rejected, fate unknown) and asks for a replan or a
reconcile when the venue must be asked. (The pre-trade gate and a failing journal:
``tests/gateway/test_pretrade.py``, ``tests/runtime/test_journal.py``.)"""

from __future__ import annotations

from gateway_fakes import GatewayParts

from appliance.gateway.order_state import (
    S_CANCEL_PENDING,
    S_FILLED_IMMEDIATELY,
    S_PENDING_NEW,
    S_REJECTED,
    S_RESTING,
)
from appliance.gateway.reconcile_plan import LiveOrder, Modify, NewOrder, Plan
from appliance.hyperliquid.http_transport import Reply

MID = 100_000.0


def _new(px, level=0, tif="Alo", is_buy=True, sz=0.001):
    return NewOrder(0, is_buy, px, sz, level, tif)


def _live(ex):
    return [LiveOrder(o.cloid, o.oid, 0, o.is_buy, o.px, o.open_sz, o.tif) for o in ex.tracker.active(0)]


def _statuses(*st):
    return Reply(200, {"status": "ok", "response": {"type": "order", "data": {"statuses": list(st)}}})


def test_flush_when_plans_mix_actions_then_cancels_then_alo_then_others(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders([_new(MID - 10), _new(MID - 20, 1)], 0)
    a, b = _live(ex)
    plan = Plan(0, cancel=[a], modify=[Modify(b, MID - 30, 0.001, 1, "Alo")],
                place=[_new(MID - 40, 2, "Gtc"), _new(MID - 50, 3)])
    ex.venue.actions.clear()
    assert ex.sender.flush([plan], 0) == 4
    kinds = [(x["type"], x.get("orders", [{}])[0].get("t")) for x in ex.venue.actions]
    assert kinds == [("cancel", None), ("batchModify", None), ("order", {"limit": {"tif": "Alo"}}),
                     ("order", {"limit": {"tif": "Gtc"}})]


def test_send_orders_when_resting_then_bound_and_counted(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.ladder[0]["bid_pred_id"][0] = 42
    assert ex.sender.send_orders([_new(MID - 10)], 0) == 1
    (o,) = ex.tracker.active(0)
    assert o.state == S_RESTING and o.oid in ex.venue.resting and ex.tracker.get(oid=o.oid) is o
    assert ex.booking.meta[o.cloid][:2] == (0, 42)  # the ladder's prediction goes with its fills
    assert int(ex.positions.pos[0]["orders_placed"]) == 1 and ex.sender.stats["orders_sent"] == 1


def test_send_orders_when_no_answer_then_pending_and_reconcile_asked(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.venue.script = [Reply(0, error="TimeoutError")]
    ex.sender.send_orders([_new(MID - 10)], 0)
    (o,) = ex.tracker.by_cloid.values()
    assert o.state == S_PENDING_NEW  # it may rest: never resent blindly
    assert ex.follow.need_reconcile


def test_send_orders_when_refused_as_a_whole_then_rejected_and_coin_replanned_later(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.venue.script = [Reply(200, {"status": "err", "response": "Order has invalid price."})]
    ex.sender.send_orders([_new(MID - 10)], 0)
    (o,) = ex.tracker.by_cloid.values()
    assert o.state == S_REJECTED and ex.sender.stats["rejects"] == 1 and not ex.follow.need_reconcile
    # nothing rests: the ladder is planned again, after a pause (the same ladder would
    # otherwise never be planned again: it is within tolerance of what was sent)
    follow, due = ex.follow, ex.follow.replan_at[0]
    assert due > 0.0
    follow.replan[0] = False
    follow.take_replan_due(0, due - 0.01)
    assert not follow.replan[0]
    follow.take_replan_due(0, due)
    assert follow.replan[0] and follow.replan_at[0] == 0.0


def test_send_orders_when_post_only_rejected_then_counted_and_coin_replanned(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.follow.replan[0] = False
    ex.venue.script = [_statuses({"error": "Post only order would have immediately matched"})]
    ex.sender.send_orders([_new(MID + 10)], 0)
    (o,) = ex.tracker.by_cloid.values()
    assert o.state == S_REJECTED and ex.sender.stats["alo_rejects"] == 1 and ex.follow.replan == [True]


def test_send_orders_when_filled_at_once_then_booked_with_the_taker_fee(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.venue.script = [_statuses({"filled": {"oid": 9, "totalSz": "0.001", "avgPx": "100000"}})]
    ex.sender.send_orders([_new(MID + 10, tif="Ioc")], 0)
    (o,) = ex.tracker.by_cloid.values()
    assert o.state == S_FILLED_IMMEDIATELY and o.oid == 9
    assert abs(float(ex.positions.pos[0]["position_sz"]) - 0.001) < 1e-12
    fee = 100_000.0 * 0.001 * ex.cfg.gateway.taker_fee_bps * 1e-4
    assert abs(float(ex.positions.pos[0]["fees_usd"]) - fee) < 1e-12
    assert len(ex.positions.published) == 1


def test_send_modifies_when_the_order_is_gone_then_cancel_pending_and_reconcile(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders([_new(MID - 10)], 0)
    (live,) = _live(ex)
    ex.venue.script = [_statuses({"error": "Cannot modify canceled or filled order"})]
    ex.sender.send_modifies([Modify(live, MID - 20, 0.001, 0, "Alo")], 0)
    o = ex.tracker.get(cloid=live.cloid)
    assert o.state == S_CANCEL_PENDING and ex.sender.stats["modify_gone"] == 1
    assert ex.follow.need_reconcile and ex.follow.replan == [True]


def test_send_modifies_when_resting_then_moved_to_the_new_oid_and_price(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders([_new(MID - 10)], 0)
    (live,) = _live(ex)
    ex.sender.send_modifies([Modify(live, MID - 20, 0.002, 0, "Alo")], 0)
    o = ex.tracker.get(cloid=live.cloid)
    assert o.state == S_RESTING and o.oid != live.oid and ex.tracker.get(oid=o.oid) is o
    assert ex.tracker.get(oid=live.oid) is None and (o.px, o.sz) == (MID - 20, 0.002)


def test_cancel_raw_when_unknown_orders_then_cancelled_and_ours_closed(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders([_new(MID - 10)], 0)
    (live,) = _live(ex)
    ex.venue.resting[5] = {}
    assert ex.sender.cancel_raw([(0, live.oid), (0, 5)])
    assert ex.venue.resting == {} and not ex.tracker.active(0)
