"""Helpers for the venue server tests: a live venue on a free loopback port, a raw
signed client (the appliance's own signer), and websocket reading with deadlines."""

from __future__ import annotations

import dataclasses
import json
import time

import requests
import websocket

from appliance.hyperliquid.demo_key import DEMO_ADDRESS, DEMO_PRIVATE_KEY_HEX
from appliance.hyperliquid.keys import SigningKey
from appliance.hyperliquid.nonces import NonceManager
from appliance.hyperliquid.signing import exchange_body, sign_l1_action
from appliance.venue.server import VenueSettings, VenueThread

DEMO_KEY = SigningKey.from_hex(DEMO_PRIVATE_KEY_HEX)


def venue_settings(**kw) -> VenueSettings:
    s = VenueSettings(port=0, source="synthetic", seed=3, funded=(f"{DEMO_ADDRESS}:1000000",),
                      l2book_min_interval_ms=0.0, speed=1.0,
                      synthetic_kw={"start_px": 100_000.0, "tick_px": 1.0, "events_per_s": 50.0,
                                    "sigma_bps_per_sqrt_s": 0.2})
    return dataclasses.replace(s, **kw)


def start_venue(**kw) -> VenueThread:
    v = VenueThread(venue_settings(**kw)).start()
    wait_for(lambda: post_info(v, {"type": "allMids"}).json().get("BTC"), 10.0, "a first book")
    return v


def wait_for(pred, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = pred()
        if out:
            return out
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def post_info(v, payload) -> requests.Response:
    return requests.post(v.url + "/info", json=payload, timeout=10)


class RawClient:
    """Signs with the appliance's own signer (testnet source: the venue's default)."""

    def __init__(self, v, key: SigningKey = DEMO_KEY, vault: str | None = None) -> None:
        self.v, self.key, self.vault = v, key, vault
        self.nonces = NonceManager()

    def body(self, action: dict, nonce: int | None = None, expires_after: int | None = None) -> dict:
        nonce = self.nonces.next() if nonce is None else nonce
        sig = sign_l1_action(self.key, action, self.vault, nonce, expires_after, False)
        return exchange_body(action, nonce, sig, self.vault, expires_after)

    def send(self, action: dict, **kw) -> requests.Response:
        return requests.post(self.v.url + "/exchange", json=self.body(action, **kw), timeout=10)

    def act(self, action: dict, **kw) -> dict:
        r = self.send(action, **kw)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


def mid(v) -> float:
    return float(post_info(v, {"type": "allMids"}).json()["BTC"])


def order_action(px: float, sz: float, tif: str = "Alo", is_buy: bool = True, cloid: str | None = None,
                 reduce_only: bool = False) -> dict:
    from appliance.hyperliquid.wire import float_to_wire

    o = {"a": 0, "b": is_buy, "p": float_to_wire(px), "s": float_to_wire(sz), "r": reduce_only,
         "t": {"limit": {"tif": tif}}}
    if cloid:
        o["c"] = cloid
    return {"type": "order", "orders": [o], "grouping": "na"}


class Ws:
    def __init__(self, v) -> None:
        self.conn = websocket.create_connection(v.url.replace("http", "ws", 1) + "/ws", timeout=10)
        self.greeting = self.conn.recv()

    def send(self, obj) -> None:
        self.conn.send(obj if isinstance(obj, str) else json.dumps(obj))

    def recv_json(self, timeout_s: float = 5.0):
        self.conn.settimeout(timeout_s)
        return json.loads(self.conn.recv())

    def until(self, pred, timeout_s: float = 10.0, what: str = "a message"):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.conn.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                raw = self.conn.recv()
            except websocket.WebSocketTimeoutException:
                break
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if pred(msg):
                return msg
        raise AssertionError(f"timed out waiting for {what}")

    def close(self) -> None:
        self.conn.close()
