"""Actions over websocket ``post`` against the local venue (a real server process on
127.0.0.1): per-request ids, the same Reply the HTTP transport gives, timeouts."""

import time

import pytest
from venue_process import faults, venue_process

from appliance.hyperliquid.demo_key import DEMO_ADDRESS, DEMO_PRIVATE_KEY_HEX
from appliance.hyperliquid.http_transport import HttpTransport
from appliance.hyperliquid.signing import L1Signer
from appliance.hyperliquid.transports import make_transport
from appliance.hyperliquid.wire import cancel_action, order_action, order_wire
from appliance.hyperliquid.ws_post_transport import WsPostTransport, reply_from_post


@pytest.fixture(scope="module")
def venue():
    with venue_process() as url:
        yield url



def _mid(http: HttpTransport) -> float:
    for _ in range(100):
        mids = http.info({"type": "allMids"}).body
        if isinstance(mids, dict) and "BTC" in mids:
            return float(mids["BTC"])
        time.sleep(0.1)
    raise AssertionError("no BTC mid from the venue")


def test_order_when_sent_over_ws_post_then_rests_and_cancels_like_http(venue):
    signer = L1Signer(DEMO_PRIVATE_KEY_HEX, is_mainnet=False)
    t = make_transport("ws_post", venue, 5.0)
    assert isinstance(t, WsPostTransport)
    try:
        px = round(_mid(t.http) * 0.9)  # far below the touch: rests
        cloid = "0x" + "42" * 16
        r = t.exchange(signer.body(order_action([order_wire(0, True, px, 0.001, False, "Alo", cloid)])))
        assert r.ok and r.wire_ns > 0 and r.body["status"] == "ok"
        oid = r.body["response"]["data"]["statuses"][0]["resting"]["oid"]
        opens = t.info({"type": "openOrders", "user": DEMO_ADDRESS}).body
        assert [o["oid"] for o in opens] == [oid]
        # a per-order error comes back as a status, exactly as over HTTP
        r2 = t.exchange(signer.body(cancel_action([(0, oid), (0, oid + 10_000)])))
        st = r2.body["response"]["data"]["statuses"]
        assert st[0] == "success" and "error" in st[1]
        assert t.info({"type": "openOrders", "user": DEMO_ADDRESS}).body == []
        assert t._next_id == 2 and t.reconnects == 1  # one id per request, one connection
    finally:
        t.close()


def test_post_when_venue_answers_late_then_timeout_and_late_answer_dropped(venue):
    signer = L1Signer(DEMO_PRIVATE_KEY_HEX, is_mainnet=False)
    t = WsPostTransport(venue, timeout_s=0.3)
    try:
        faults(venue, response_delay_ms=800)
        r = t.exchange(signer.body({"type": "noop"}))
        assert r.status == 0 and "Timeout" in r.error  # fate unknown: the gateway reconciles
        faults(venue, clear=True)
        t.timeout_s = 5.0
        r = t.exchange(signer.body({"type": "noop"}))
        assert r.ok and r.body["status"] == "ok"
        assert t.stale_answers == 1  # the late answer to the first id was skipped
    finally:
        faults(venue, clear=True)
        t.close()


def test_post_error_when_rate_limited_then_same_reply_as_http_429():
    assert reply_from_post({"type": "error", "payload": "429 null"}, 5).status == 429
    r = reply_from_post({"type": "action", "payload": {"status": "err", "response": "x"}}, 5)
    assert r.status == 200 and r.body["status"] == "err"
    assert reply_from_post({"type": "error", "payload": "400 bad"}, 5).status == 400
