"""The venue's websocket: greeting, subscriptions, data, ping, post, errors, idle
close, and websocket faults. A real server on a free loopback port."""

import json
import time

import pytest
import requests
import websocket
from venue_server_helpers import DEMO_ADDRESS, RawClient, Ws, mid, order_action, start_venue

from appliance.hyperliquid.wire import cloid_from_int


@pytest.fixture(scope="module")
def venue():
    v = start_venue()
    yield v
    v.stop()


def test_connect_when_opened_then_greeting_text(venue):
    ws = Ws(venue)
    assert ws.greeting == "Websocket connection established."
    ws.close()


def test_subscribe_when_l2book_then_ack_and_books_then_unsubscribe_ack(venue):
    ws = Ws(venue)
    sub = {"type": "l2Book", "coin": "BTC"}
    ws.send({"method": "subscribe", "subscription": sub})
    ack = ws.until(lambda m: m["channel"] == "subscriptionResponse", what="ack")
    assert ack["data"] == {"method": "subscribe", "subscription": {
        "type": "l2Book", "coin": "BTC", "nSigFigs": None, "mantissa": None}}
    book = ws.until(lambda m: m["channel"] == "l2Book", what="a book")["data"]
    assert book["coin"] == "BTC" and isinstance(book["time"], int)
    bids, asks = book["levels"]
    assert 0 < len(bids) <= 20 and 0 < len(asks) <= 20
    assert set(bids[0]) == {"px", "sz", "n"} and isinstance(bids[0]["px"], str)
    assert float(bids[0]["px"]) < float(asks[0]["px"])
    ws.send({"method": "subscribe", "subscription": sub})
    err = ws.until(lambda m: m["channel"] == "error", what="error")
    assert err["data"].startswith("Already subscribed: ")
    ws.send({"method": "unsubscribe", "subscription": sub})
    ack = ws.until(lambda m: m["channel"] == "subscriptionResponse", what="unsubscribe ack")
    assert ack["data"]["method"] == "unsubscribe"
    ws.send({"method": "unsubscribe", "subscription": sub})
    err = ws.until(lambda m: m["channel"] == "error", what="error")
    assert err["data"].startswith("Already unsubscribed: ")
    ws.close()


def test_subscribe_when_market_channels_then_trades_bbo_mids_ctx(venue):
    ws = Ws(venue)
    for sub in ({"type": "trades", "coin": "BTC"}, {"type": "bbo", "coin": "BTC"},
                {"type": "allMids"}, {"type": "activeAssetCtx", "coin": "BTC"}):
        ws.send({"method": "subscribe", "subscription": sub})
    seen = {}
    deadline = time.monotonic() + 20
    while len(seen) < 4 and time.monotonic() < deadline:
        m = ws.recv_json(10)
        if m["channel"] in ("trades", "bbo", "allMids", "activeAssetCtx"):
            seen.setdefault(m["channel"], m["data"])
    assert set(seen) == {"trades", "bbo", "allMids", "activeAssetCtx"}
    t = seen["trades"][0]
    assert set(t) >= {"coin", "side", "px", "sz", "hash", "time", "tid", "users"} and t["side"] in "BA"
    assert seen["bbo"]["coin"] == "BTC" and len(seen["bbo"]["bbo"]) == 2
    assert "BTC" in seen["allMids"]["mids"]
    ctx = seen["activeAssetCtx"]
    assert ctx["coin"] == "BTC" and {"funding", "markPx", "oraclePx", "openInterest"} <= set(ctx["ctx"])
    ws.close()


def test_ping_when_sent_then_pong(venue):
    ws = Ws(venue)
    ws.send({"method": "ping"})
    assert ws.until(lambda m: m["channel"] == "pong", what="pong") == {"channel": "pong"}
    ws.close()


def test_bad_frames_when_sent_then_real_error_texts(venue):
    ws = Ws(venue)
    for raw in ("{not json", json.dumps({"method": "subscribe", "subscription": {"type": "nope"}}),
                json.dumps({"method": "subscribe", "subscription": {"type": "l2Book", "coin": 5}}),
                json.dumps({"method": "dance"}), "[]"):
        ws.send(raw)
        err = ws.until(lambda m: m["channel"] == "error", what="error")
        assert err["data"] == f"Error parsing JSON into valid websocket request: {raw}"
    ws.send({"method": "ping"})  # the connection survives
    ws.until(lambda m: m["channel"] == "pong", what="pong")
    ws.close()


def test_post_when_info_and_action_then_answers_on_post_channel(venue):
    ws = Ws(venue)
    ws.send({"method": "post", "id": 7, "request": {"type": "info",
                                                   "payload": {"type": "l2Book", "coin": "BTC"}}})
    r = ws.until(lambda m: m["channel"] == "post", what="post reply")
    assert r["data"]["id"] == 7
    assert r["data"]["response"]["type"] == "info"
    assert r["data"]["response"]["payload"]["type"] == "l2Book"
    assert r["data"]["response"]["payload"]["data"]["coin"] == "BTC"
    body = RawClient(venue).body({"type": "noop"})
    ws.send({"method": "post", "id": 8, "request": {"type": "action", "payload": body}})
    r = ws.until(lambda m: m["channel"] == "post", what="post reply")
    assert r["data"] == {"id": 8, "response": {"type": "action", "payload": {
        "status": "ok", "response": {"type": "default"}}}}
    ws.close()


def test_user_channels_when_order_placed_and_canceled_then_updates(venue):
    ws = Ws(venue)
    ws.send({"method": "subscribe", "subscription": {"type": "userFills", "user": DEMO_ADDRESS}})
    snap = ws.until(lambda m: m["channel"] == "userFills", what="fills snapshot")
    assert snap["data"]["isSnapshot"] is True and snap["data"]["user"] == DEMO_ADDRESS
    ws.send({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": DEMO_ADDRESS}})
    ws.send({"method": "subscribe", "subscription": {"type": "userEvents", "user": DEMO_ADDRESS}})
    ws.send({"method": "subscribe", "subscription": {"type": "userFundings", "user": DEMO_ADDRESS}})
    ws.until(lambda m: m["channel"] == "userFundings" and m["data"].get("isSnapshot"), what="fundings")
    c = RawClient(venue)
    cloid = cloid_from_int(4242)
    px = float(round(mid(venue) * 0.98))
    st = c.act(order_action(px, 0.001, "Alo", cloid=cloid))["response"]["data"]["statuses"][0]
    oid = st["resting"]["oid"]
    upd = ws.until(lambda m: m["channel"] == "orderUpdates", what="orderUpdates")["data"]
    assert upd[0]["status"] == "open" and upd[0]["order"]["oid"] == oid
    assert upd[0]["order"]["cloid"] == cloid and upd[0]["order"]["side"] == "B"
    c.act({"type": "cancel", "cancels": [{"a": 0, "o": oid}]})
    upd = ws.until(lambda m: m["channel"] == "orderUpdates", what="cancel update")["data"]
    assert upd[0]["status"] == "canceled" and upd[0]["order"]["oid"] == oid
    ws.close()


def test_silence_when_idle_past_timeout_then_server_closes():
    v = start_venue(ws_idle_timeout_s=1.0)
    try:
        ws = Ws(v)
        ws.conn.settimeout(10)
        t0 = time.monotonic()
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            while time.monotonic() - t0 < 10:
                ws.conn.recv()
                if not ws.conn.connected:
                    raise websocket.WebSocketConnectionClosedException("closed")
        # A client that pings is kept.
        ws2 = Ws(v)
        for _ in range(4):
            ws2.send({"method": "ping"})
            ws2.until(lambda m: m["channel"] == "pong", what="pong")
            time.sleep(0.5)
        assert ws2.conn.connected
        ws2.close()
    finally:
        v.stop()


def test_faults_when_drop_corrupt_duplicate_then_client_sees_them():
    v = start_venue()
    try:
        admin = v.url + "/_faults"
        ws = Ws(v)
        ws.send({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})
        ws.until(lambda m: m["channel"] == "subscriptionResponse", what="ack")
        assert requests.post(admin, json={"ws_corrupt_share": 1.0}).status_code == 200
        ws.conn.settimeout(10)
        bad = 0
        for _ in range(20):  # frames already on the wire before the fault arrive intact
            try:
                json.loads(ws.conn.recv())
            except ValueError:
                bad += 1
                break
        assert bad == 1
        requests.post(admin, json={"clear": True, "ws_duplicate_share": 1.0})
        ws.send({"method": "ping"})
        frames = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(frames) < 6:
            raw = ws.conn.recv()
            frames.append(raw)
        assert any(frames[i] == frames[i + 1] for i in range(len(frames) - 1))
        requests.post(admin, json={"clear": True, "ws_drop": True})
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                ws.conn.recv()
                if not ws.conn.connected:
                    raise websocket.WebSocketConnectionClosedException("closed")
        state = requests.get(admin).json()
        assert state["counters"]["ws_corrupt"] >= 1 and state["counters"]["ws_duplicate"] >= 1
    finally:
        v.stop()
