"""The venue's REST side: /info shapes, /exchange orders and errors, signatures,
nonces, both rate limits, malformed input, REST faults, the admin endpoint."""

import time

import pytest
import requests
from venue_server_helpers import (
    DEMO_ADDRESS,
    RawClient,
    mid,
    order_action,
    post_info,
    start_venue,
)

from appliance.hyperliquid.keys import SigningKey
from appliance.hyperliquid.wire import cloid_from_int

OK_DEFAULT = {"status": "ok", "response": {"type": "default"}}
OTHER_KEY = SigningKey.from_hex("0x" + "11" * 32)


@pytest.fixture(scope="module")
def venue():
    v = start_venue()
    yield v
    v.stop()


def _statuses(resp: dict) -> list:
    assert resp["status"] == "ok", resp
    return resp["response"]["data"]["statuses"]


def test_info_when_meta_and_spot_meta_then_sdk_shapes(venue):
    meta = post_info(venue, {"type": "meta", "dex": ""}).json()
    assert meta["universe"][0] == {"szDecimals": 5, "name": "BTC", "maxLeverage": 40, "marginTableId": 40}
    spot = post_info(venue, {"type": "spotMeta"}).json()
    assert spot["universe"] == [] and spot["tokens"][0]["name"] == "USDC"
    mac = post_info(venue, {"type": "metaAndAssetCtxs"}).json()
    assert mac[0] == meta and len(mac[1]) == 1
    assert {"funding", "openInterest", "oraclePx", "markPx", "midPx", "impactPxs", "premium",
            "prevDayPx", "dayNtlVlm", "dayBaseVlm"} == set(mac[1][0])
    assert isinstance(mac[1][0]["markPx"], str)


def test_info_when_book_mids_user_queries_then_real_shapes(venue):
    book = post_info(venue, {"type": "l2Book", "coin": "BTC"}).json()
    assert book["coin"] == "BTC" and len(book["levels"]) == 2
    assert set(book["levels"][0][0]) == {"px", "sz", "n"}
    mids = post_info(venue, {"type": "allMids"}).json()
    assert set(mids) == {"BTC"} and isinstance(mids["BTC"], str)
    chs = post_info(venue, {"type": "clearinghouseState", "user": DEMO_ADDRESS}).json()
    assert {"assetPositions", "marginSummary", "crossMarginSummary", "withdrawable", "time",
            "crossMaintenanceMarginUsed"} <= set(chs)
    assert float(chs["marginSummary"]["accountValue"]) == pytest.approx(1_000_000.0)
    for typ in ("openOrders", "frontendOpenOrders", "userFills"):
        assert isinstance(post_info(venue, {"type": typ, "user": DEMO_ADDRESS}).json(), list)
    rl = post_info(venue, {"type": "userRateLimit", "user": DEMO_ADDRESS}).json()
    assert set(rl) >= {"cumVlm", "nRequestsUsed", "nRequestsCap"} and rl["nRequestsCap"] >= 10_000
    fh = post_info(venue, {"type": "fundingHistory", "coin": "BTC", "startTime": 0}).json()
    assert isinstance(fh, list)
    st = post_info(venue, {"type": "orderStatus", "user": DEMO_ADDRESS, "oid": 123456789}).json()
    assert st == {"status": "unknownOid"}


def test_order_when_alo_rests_then_open_orders_status_and_cancel(venue):
    c = RawClient(venue)
    cloid = cloid_from_int(99)
    best_bid = float(post_info(venue, {"type": "l2Book", "coin": "BTC"}).json()["levels"][0][0]["px"])
    px = best_bid - 8.0  # inside the 20 displayed levels, unlikely to trade
    st = _statuses(c.act(order_action(px, 0.001, "Alo", cloid=cloid)))
    assert st == [{"resting": {"oid": st[0]["resting"]["oid"], "cloid": cloid}}]
    oid = st[0]["resting"]["oid"]
    oo = post_info(venue, {"type": "openOrders", "user": DEMO_ADDRESS}).json()
    assert [o["oid"] for o in oo] == [oid]
    assert oo[0]["limitPx"] == f"{px:.1f}" and oo[0]["sz"] == "0.001" and oo[0]["side"] == "B"
    fo = post_info(venue, {"type": "frontendOpenOrders", "user": DEMO_ADDRESS}).json()
    assert fo[0]["tif"] == "Alo" and fo[0]["cloid"] == cloid and fo[0]["orderType"] == "Limit"
    by_cloid = post_info(venue, {"type": "orderStatus", "user": DEMO_ADDRESS, "oid": cloid}).json()
    assert by_cloid["status"] == "order" and by_cloid["order"]["status"] == "open"
    assert by_cloid["order"]["order"]["oid"] == oid
    book = post_info(venue, {"type": "l2Book", "coin": "BTC"}).json()
    assert any(lv["px"] == f"{px:.1f}" for lv in book["levels"][0])  # merged into the book
    resp = c.act({"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": cloid}]})
    assert resp == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    resp = c.act({"type": "cancel", "cancels": [{"a": 0, "o": oid}]})
    assert _statuses(resp) == [{"error": "Order was never placed, already canceled, or filled."}]
    assert post_info(venue, {"type": "openOrders", "user": DEMO_ADDRESS}).json() == []
    st = post_info(venue, {"type": "orderStatus", "user": DEMO_ADDRESS, "oid": oid}).json()
    assert st["order"]["status"] == "canceled"


def test_order_when_alo_would_cross_then_post_only_reject(venue):
    c = RawClient(venue)
    px = float(round(mid(venue) * 1.02))
    st = _statuses(c.act(order_action(px, 0.001, "Alo")))
    assert st[0]["error"].startswith("Post only order would have immediately matched, bbo was ")


def test_order_when_bad_tick_size_or_notional_then_per_order_errors(venue):
    c = RawClient(venue)
    m = mid(venue)
    resp = c.act({"type": "order", "grouping": "na", "orders": [
        order_action(12345.67, 0.001)["orders"][0],
        order_action(float(round(m * 0.95)), 0.00001)["orders"][0],
        order_action(float(round(m * 0.95)), 0.0000011)["orders"][0],
    ]})
    st = _statuses(resp)
    assert st[0] == {"error": "Price must be divisible by tick size."}
    assert st[1] == {"error": "Order must have minimum value of $10."}
    assert st[2] == {"error": "Order has invalid size."}


def test_modify_when_order_canceled_then_cannot_modify(venue):
    c = RawClient(venue)
    px = float(round(mid(venue) * 0.96))
    oid = _statuses(c.act(order_action(px, 0.001, "Gtc")))[0]["resting"]["oid"]
    new = order_action(px - 1, 0.002, "Gtc")["orders"][0]
    st = _statuses(c.act({"type": "batchModify", "modifies": [{"oid": oid, "order": new}]}))
    new_oid = st[0]["resting"]["oid"]
    oo = post_info(venue, {"type": "openOrders", "user": DEMO_ADDRESS}).json()
    assert [(o["oid"], o["sz"]) for o in oo] == [(new_oid, "0.002")]
    _statuses(c.act({"type": "cancel", "cancels": [{"a": 0, "o": new_oid}]}))
    st = _statuses(c.act({"type": "batchModify", "modifies": [{"oid": new_oid, "order": new}]}))
    assert st == [{"error": "Cannot modify canceled or filled order"}]
    resp = c.act({"type": "modify", "oid": new_oid, "order": new})
    assert resp == {"status": "err", "response": "Cannot modify canceled or filled order"}


def test_ioc_when_crossing_then_filled_and_user_fills(venue):
    c = RawClient(venue)
    px = float(round(mid(venue) * 1.01))
    st = _statuses(c.act(order_action(px, 0.001, "Ioc")))
    assert "filled" in st[0], st
    assert st[0]["filled"]["totalSz"] == "0.001"
    fills = post_info(venue, {"type": "userFills", "user": DEMO_ADDRESS}).json()
    assert fills[0]["oid"] == st[0]["filled"]["oid"] and fills[0]["crossed"] is True
    assert {"coin", "px", "sz", "side", "time", "startPosition", "dir", "closedPnl", "hash", "oid",
            "crossed", "fee", "tid", "feeToken"} <= set(fills[0])
    chs = post_info(venue, {"type": "clearinghouseState", "user": DEMO_ADDRESS}).json()
    assert chs["assetPositions"][0]["position"]["szi"] == "0.001"
    rl = post_info(venue, {"type": "userRateLimit", "user": DEMO_ADDRESS}).json()
    assert float(rl["cumVlm"]) > 0
    c.act(order_action(float(round(mid(venue) * 0.99)), 0.001, "Ioc", is_buy=False, reduce_only=True))


def test_signature_when_unknown_key_then_user_does_not_exist(venue):
    resp = RawClient(venue, key=OTHER_KEY).act({"type": "noop"})
    assert resp == {"status": "err", "response": f"User or API Wallet {OTHER_KEY.address} does not exist."}


def test_signature_when_action_tampered_then_other_signer_rejected(venue):
    c = RawClient(venue)
    body = c.body(order_action(float(round(mid(venue) * 0.9)), 0.001))
    body["action"]["orders"][0]["s"] = "0.002"
    resp = requests.post(venue.url + "/exchange", json=body).json()
    assert resp["status"] == "err"
    assert resp["response"].startswith("User or API Wallet 0x")
    assert resp["response"].endswith(" does not exist.")


def test_nonce_when_duplicate_or_too_low_then_real_errors(venue):
    c = RawClient(venue)
    n = int(time.time() * 1000)
    assert c.act({"type": "noop"}, nonce=n)["status"] == "ok"
    assert c.act({"type": "noop"}, nonce=n) == {"status": "err",
                                                 "response": f"Invalid nonce: duplicate nonce {n}"}
    for i in range(1, 101):
        assert c.act({"type": "noop"}, nonce=n + i)["status"] == "ok"
    resp = c.act({"type": "noop"}, nonce=n - 5)
    assert resp["status"] == "err" and resp["response"].startswith(f"Invalid nonce: nonce too low {n - 5} < ")
    far = c.act({"type": "noop"}, nonce=n - 3 * 86_400_000)
    assert far["status"] == "err" and far["response"].startswith("Invalid nonce")


def test_expires_after_when_past_then_rejected(venue):
    c = RawClient(venue)
    resp = c.act({"type": "noop"}, expires_after=int(time.time() * 1000) - 1000)
    assert resp["status"] == "err" and "expired" in resp["response"]
    assert c.act({"type": "noop"}, expires_after=int(time.time() * 1000) + 60_000)["status"] == "ok"


def test_agent_when_approved_then_signs_for_master(venue):
    agent = SigningKey.from_hex("0x" + "22" * 32)
    assert RawClient(venue, key=agent).act({"type": "noop"})["status"] == "err"
    requests.post(venue.url + "/_fund", json={"address": DEMO_ADDRESS, "usdc": 1, "agent": agent.address})
    assert RawClient(venue, key=agent).act({"type": "noop"}) == OK_DEFAULT


def test_schedule_cancel_when_low_volume_then_refused_with_real_text(venue):
    c = RawClient(venue)
    resp = c.act({"type": "scheduleCancel", "time": int(time.time() * 1000) + 60_000})
    assert resp["status"] == "err"
    assert resp["response"].startswith(
        "Cannot set scheduled cancel time until enough volume traded. Required: $1000000. Traded: $")


def test_schedule_cancel_when_threshold_met_then_orders_canceled_on_time():
    v = start_venue(schedule_cancel_min_volume_usd=0.0)
    try:
        c = RawClient(v)
        px = float(round(mid(v) * 0.95))
        oid = _statuses(c.act(order_action(px, 0.001, "Gtc")))[0]["resting"]["oid"]
        t = int(time.time() * 1000) + 5_200
        assert c.act({"type": "scheduleCancel", "time": t}) == OK_DEFAULT
        deadline = time.monotonic() + 15
        open_query = {"type": "openOrders", "user": DEMO_ADDRESS}
        while time.monotonic() < deadline and post_info(v, open_query).json():
            time.sleep(0.1)
        st = post_info(v, {"type": "orderStatus", "user": DEMO_ADDRESS, "oid": oid}).json()
        assert st["order"]["status"] == "scheduledCancel"
    finally:
        v.stop()


def test_malformed_when_bad_json_or_types_then_real_errors(venue):
    url = venue.url
    r = requests.post(url + "/info", data=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.text.startswith("Failed to parse the request body as JSON")
    r = requests.post(url + "/info", data=b'{"type":"meta"}')  # no content type
    assert r.status_code == 415
    r = requests.post(url + "/info", json={"type": "nope"})
    assert r.status_code == 422
    assert r.text.startswith(
        "Failed to deserialize the JSON body into the target type: unknown variant `nope`")
    r = requests.post(url + "/info", json={"type": "clearinghouseState"})
    assert r.status_code == 422 and "missing field `user`" in r.text
    r = requests.post(url + "/info", json={"type": "clearinghouseState", "user": 5})
    assert r.status_code == 422
    r = requests.post(url + "/info", json=[1, 2])
    assert r.status_code == 422
    r = requests.post(url + "/exchange", json={"action": {"type": "noop"}})
    assert r.status_code == 422 and "missing field `nonce`" in r.text
    body = RawClient(venue).body({"type": "order", "orders": [{"a": "x"}], "grouping": "na"})
    r = requests.post(url + "/exchange", json=body)
    assert r.status_code == 422
    body = RawClient(venue).body({"type": "teleport"})
    r = requests.post(url + "/exchange", json=body)
    assert r.status_code == 422 and "unknown variant `teleport`" in r.text
    body = RawClient(venue).body({"type": "noop"})
    body["signature"] = {"r": "0x1", "s": "0x2", "v": 99}
    r = requests.post(url + "/exchange", json=body)
    assert r.status_code == 200 and r.json()["status"] == "err"
    assert post_info(venue, {"type": "meta"}).status_code == 200  # still serving


def test_ip_limit_when_budget_spent_then_429_null():
    v = start_venue(ip_weight_per_min=100)
    try:
        codes = [post_info(v, {"type": "meta"}) for _ in range(8)]  # weight 20 each
        n_ok = next(i for i, r in enumerate(codes) if r.status_code != 200)
        assert 3 <= n_ok <= 5  # 100 per minute, a little spent by the startup polls
        assert codes[n_ok].status_code == 429 and codes[n_ok].text == "null"
        assert all(r.status_code == 429 for r in codes[n_ok:])
    finally:
        v.stop()


def test_address_cap_when_exceeded_then_cumulative_requests_text():
    v = start_venue(address_base_cap=3)
    try:
        c = RawClient(v)
        for _ in range(3):
            assert c.act({"type": "noop"})["status"] == "ok"
        resp = c.act({"type": "noop"})
        assert resp == {"status": "err", "response": (
            "Too many cumulative requests sent (4 > 3) for cumulative volume traded $0. "
            "Place taker orders to free up 1 request per USDC traded.")}
    finally:
        v.stop()


def test_faults_when_429_burst_and_reject_share_then_applied(venue):
    admin = venue.url + "/_faults"
    requests.post(admin, json={"http_429_burst": 2})
    assert [post_info(venue, {"type": "allMids"}).status_code for _ in range(3)] == [429, 429, 200]
    requests.post(admin, json={"order_reject_share": 1.0})
    try:
        c = RawClient(venue)
        st = _statuses(c.act(order_action(float(round(mid(venue) * 0.9)), 0.001)))
        assert st == [{"error": "Insufficient margin to place order."}]
    finally:
        requests.post(admin, json={"clear": True})
    r = requests.post(admin, json={"no_such_fault": 1})
    assert r.status_code == 400
