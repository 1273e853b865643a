"""Market-data latency at the venue server: ws market frames leave md latency after
the engine saw the events, in order; the user side (pong here) is not held back."""

import time

import pytest
from venue_server_helpers import Ws, start_venue

from appliance.config import load_config
from appliance.venue.server.settings import settings_from_config

LATENCY_MS = 300.0


@pytest.fixture(scope="module")
def venue():
    v = start_venue(md_latency_ms=LATENCY_MS)
    yield v
    v.stop()


def test_l2book_when_md_latency_then_frames_in_order_and_latency_behind_engine_time(venue):
    ws = Ws(venue)
    ws.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
    ws.send({"method": "ping"})
    first = ws.until(lambda m: m["channel"] in ("pong", "l2Book"), what="pong or book")
    assert first["channel"] == "pong"  # not behind the book snapshot's 300 ms
    books = []  # (engine time ms, receive time ms)
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline and len(books) < 15:
        m = ws.recv_json(5)
        if m["channel"] == "l2Book":
            books.append((m["data"]["time"], time.time_ns() // 1_000_000))
    ws.close()
    assert len(books) >= 5
    engine_ms = [b[0] for b in books]
    assert engine_ms == sorted(engine_ms)  # order kept
    delays = [recv - eng for eng, recv in books]
    # a lower bound only (the time field is the engine's wall ms, floored)
    assert min(delays) >= LATENCY_MS - 2, delays


def test_settings_when_venue_md_latency_in_config_then_carried():
    cfg = load_config(overrides={"venue": {"md_latency_ms": 12.5, "md_latency_jitter_ms": 3.0,
                                           "md_latency_sigma": 0.5}})
    s = settings_from_config(cfg)
    assert (s.md_latency_ms, s.md_latency_jitter_ms, s.md_latency_sigma) == (12.5, 3.0, 0.5)
