"""Every order-lifecycle line of the gateway (place, modify, cancel, fill, reject) names
its coin, oid, cloid and pred_id, as one JSON object: the order path runs over a
scripted venue (``GatewayParts``), the gateway's records go through the appliance's
own JSON formatter."""

from __future__ import annotations

import json
import logging

import pytest
from gateway_fakes import GatewayParts

from appliance.gateway.fills import Fill
from appliance.gateway.reconcile_plan import LiveOrder, Modify, NewOrder
from appliance.hyperliquid.http_transport import Reply
from appliance.runtime.logs import LineFormatter

MID = 100_000.0
LIFECYCLE_KEYS = {"event", "coin", "oid", "cloid", "pred_id"}


class Lines(logging.Handler):
    """The gateway's records as the appliance writes them: JSON objects."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(LineFormatter("gateway", "t"))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def events(self, kind: str) -> list[dict]:
        return [x for x in self.lines if x.get("event") == kind]


@pytest.fixture
def lines():
    h = Lines()
    log = logging.getLogger("gateway")
    old = log.level
    log.addHandler(h)
    log.setLevel(logging.DEBUG)
    yield h
    log.removeHandler(h)
    log.setLevel(old)


def _parts(tmp_path, pred_id=42):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.ladder[0]["bid_pred_id"][0] = pred_id
    ex.ladder[0]["ask_pred_id"][0] = pred_id + 1
    return ex


def _live(ex):
    return [LiveOrder(o.cloid, o.oid, 0, o.is_buy, o.px, o.open_sz, o.tif) for o in ex.tracker.active(0)]


def _statuses(*st):
    return Reply(200, {"status": "ok", "response": {"type": "order", "data": {"statuses": list(st)}}})


def test_place_modify_cancel_when_answered_then_each_line_names_coin_oid_cloid_pred_id(tmp_path, lines):
    ex = _parts(tmp_path)
    ex.sender.send_orders([NewOrder(0, True, MID - 10, 0.001, 0, "Alo")], 0)
    (live,) = _live(ex)
    ex.ladder[0]["bid_pred_id"][0] = 77  # the modify is made on a newer ladder
    ex.sender.send_modifies([Modify(live, MID - 20, 0.002, 0, "Alo")], 0)
    (moved,) = _live(ex)
    ex.sender.send_cancels([moved])

    (place,) = lines.events("place")
    assert place.keys() >= LIFECYCLE_KEYS
    assert (place["coin"], place["oid"], place["cloid"], place["pred_id"], place["status"]) == (
        "BTC", live.oid, live.cloid, 42, "resting")
    assert (place["process"], place["instance"], place["level"]) == ("gateway", "t", "INFO")
    (modify,) = lines.events("modify")
    assert (modify["oid"], modify["old_oid"], modify["cloid"], modify["pred_id"]) == (
        moved.oid, live.oid, live.cloid, 77)
    (cancel,) = lines.events("cancel")
    assert (cancel["coin"], cancel["oid"], cancel["cloid"], cancel["pred_id"], cancel["status"]) == (
        "BTC", moved.oid, live.cloid, 77, "cancelled")


def test_fills_when_booked_then_one_line_each_with_the_order_s_prediction(tmp_path, lines):
    ex = _parts(tmp_path)
    ex.sender.send_orders([NewOrder(0, True, MID - 10, 0.002, 0, "Alo")], 0)
    (live,) = _live(ex)
    for tid in (1, 2, 2):  # the third is a duplicate report: booked once, logged once
        ex.booking.on_fill(Fill(coin=0, oid=live.oid, tid=tid, px=MID - 10, sz=0.001, side=1,
                                time_ms=1_700_000_000_000 + tid, fee=0.01))
    fills = lines.events("fill")
    assert len(fills) == 2
    for f, tid in zip(fills, (1, 2), strict=True):
        assert f.keys() >= LIFECYCLE_KEYS
        assert (f["coin"], f["oid"], f["cloid"], f["pred_id"], f["tid"], f["side"]) == (
            "BTC", live.oid, live.cloid, 42, tid, "buy")
    assert [f["position_sz"] for f in fills] == pytest.approx([0.001, 0.002])


def test_immediate_fill_and_rejects_then_lines_with_their_ids(tmp_path, lines):
    ex = _parts(tmp_path)
    ex.venue.script = [_statuses({"filled": {"oid": 9, "totalSz": "0.001", "avgPx": "100000"}}),
                       _statuses({"error": "Order has invalid price."})]
    ex.sender.send_orders([NewOrder(0, False, MID - 10, 0.001, 0, "Ioc")], 0)
    ex.sender.send_orders([NewOrder(0, True, MID - 20, 0.001, 0, "Alo")], 0)

    (place,) = lines.events("place")
    (fill,) = lines.events("fill")
    (reject,) = lines.events("reject")
    assert (place["oid"], place["status"], place["pred_id"]) == (9, "filled", 43)
    assert (fill["oid"], fill["cloid"], fill["pred_id"], fill["side"]) == (9, place["cloid"], 43, "sell")
    assert reject.keys() >= LIFECYCLE_KEYS and reject["oid"] is None  # never rested: no oid
    assert (reject["pred_id"], reject["reason"], reject["level"]) == (42, "Order has invalid price.",
                                                                      "WARNING")
    assert reject["cloid"] != place["cloid"] and ex.order_log.counts["reject"] == 1
