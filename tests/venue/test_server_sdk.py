"""Proof of fidelity: the official hyperliquid-python-sdk, with its own signing and
websocket manager, trades against the local venue."""

import queue

import pytest
from venue_server_helpers import start_venue, wait_for

from appliance.hyperliquid.demo_key import DEMO_ADDRESS, DEMO_PRIVATE_KEY_HEX

eth_account = pytest.importorskip("eth_account", reason="the SDK's test dependency eth_account")
hl_info = pytest.importorskip("hyperliquid.info", reason="hyperliquid-python-sdk is a test dependency")
hl_exchange = pytest.importorskip("hyperliquid.exchange")
hl_types = pytest.importorskip("hyperliquid.utils.types")


@pytest.fixture(scope="module")
def venue():
    v = start_venue()
    yield v
    v.stop()


def test_sdk_when_post_only_with_cloid_then_open_update_and_cancel(venue):
    info = hl_info.Info(venue.url, skip_ws=False)
    try:
        meta = info.meta()
        assert meta["universe"][0]["name"] == "BTC"
        assert info.name_to_coin["BTC"] == "BTC" and info.coin_to_asset["BTC"] == 0
        book = info.l2_snapshot("BTC")
        bids, asks = book["levels"]
        assert bids and asks and float(bids[0]["px"]) < float(asks[0]["px"])

        updates: queue.Queue = queue.Queue()
        info.subscribe({"type": "orderUpdates", "user": DEMO_ADDRESS}, updates.put)
        # the SDK sends queued subscriptions once its socket opens: wait until the venue has it
        wait_for(lambda: venue.state.hub.has(("orderUpdates", DEMO_ADDRESS)), 10.0,
                 "the SDK's orderUpdates subscription at the venue")

        wallet = eth_account.Account.from_key(DEMO_PRIVATE_KEY_HEX)
        assert wallet.address.lower() == DEMO_ADDRESS
        exchange = hl_exchange.Exchange(wallet, venue.url)
        cloid = hl_types.Cloid.from_int(20250101)
        px = float(bids[0]["px"]) - 5.0
        resp = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Alo"}}, cloid=cloid)
        assert resp["status"] == "ok", resp
        status = resp["response"]["data"]["statuses"][0]
        oid = status["resting"]["oid"]
        assert status["resting"]["cloid"] == cloid.to_raw()

        open_orders = info.open_orders(DEMO_ADDRESS)
        assert [(o["oid"], o["coin"], o["side"]) for o in open_orders] == [(oid, "BTC", "B")]
        front = info.frontend_open_orders(DEMO_ADDRESS)
        assert front[0]["cloid"] == cloid.to_raw()
        by_cloid = info.query_order_by_cloid(DEMO_ADDRESS, cloid)
        assert by_cloid["order"]["order"]["oid"] == oid

        msg = updates.get(timeout=10)
        assert msg["channel"] == "orderUpdates"
        assert msg["data"][0]["order"]["oid"] == oid and msg["data"][0]["status"] == "open"

        resp = exchange.cancel("BTC", oid)
        assert resp == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
        msg = updates.get(timeout=10)
        assert msg["data"][0]["order"]["oid"] == oid and msg["data"][0]["status"] == "canceled"
        assert info.open_orders(DEMO_ADDRESS) == []
        state = info.user_state(DEMO_ADDRESS)
        assert float(state["marginSummary"]["accountValue"]) > 0
    finally:
        info.disconnect_websocket()


def test_sdk_when_unknown_wallet_then_real_error_text(venue):
    stranger = eth_account.Account.from_key("0x" + "33" * 32)
    exchange = hl_exchange.Exchange(stranger, venue.url)
    resp = exchange.order("BTC", True, 0.001, 50_000.0, {"limit": {"tif": "Gtc"}})
    assert resp == {"status": "err",
                    "response": f"User or API Wallet {stranger.address.lower()} does not exist."}


def test_sdk_when_modify_and_bulk_cancel_then_real_shapes(venue):
    wallet = eth_account.Account.from_key(DEMO_PRIVATE_KEY_HEX)
    exchange = hl_exchange.Exchange(wallet, venue.url)
    info = exchange.info
    px = float(info.l2_snapshot("BTC")["levels"][0][0]["px"]) - 10.0
    oid = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Gtc"}})["response"]["data"][
        "statuses"][0]["resting"]["oid"]
    resp = exchange.modify_order(oid, "BTC", True, 0.002, px - 1, {"limit": {"tif": "Gtc"}})
    new_oid = resp["response"]["data"]["statuses"][0]["resting"]["oid"]
    resp = exchange.bulk_cancel([{"coin": "BTC", "oid": new_oid}])
    assert resp["response"]["data"]["statuses"] == ["success"]
    resp = exchange.update_leverage(10, "BTC")
    assert resp == {"status": "ok", "response": {"type": "default"}}
