"""VenueClient, alone over a scripted transport: per-item statuses, no answer, whole-
batch errors, the 429 backoff (doubling, capped, reset by an answer, info refused
while it lasts), the address-cap text, an unknown signer (fatal, once), a refused
scheduleCancel, and tick-to-wire samples."""

from __future__ import annotations

import orjson
import pytest

from appliance.gateway.hyperliquid.kill_switch import FatalStop
from appliance.gateway.hyperliquid.venue_client import VenueClient
from appliance.gateway.rate_budget import RateBudget
from appliance.hyperliquid.http_transport import Reply


class ScriptedTransport:
    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.sent: list[dict] = []

    def _next(self) -> Reply:
        return self.replies.pop(0) if self.replies else Reply(200, {"status": "ok",
                                                                    "response": {"type": "default"}})

    def exchange(self, body: bytes) -> Reply:
        self.sent.append(orjson.loads(body))
        return self._next()

    def info(self, req: dict) -> Reply:
        self.sent.append(req)
        return self._next()

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


class Signer:
    def body(self, action: dict) -> dict:
        return {"action": action, "signature": "sig"}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _client(*replies: Reply, on_wire=None):
    t = ScriptedTransport(*replies)
    kills: list[str] = []
    fatal = FatalStop(kills.append)
    clock = Clock()
    c = VenueClient(t, Signer(), "0xsigner", RateBudget(), 0.5, 4.0, on_fatal=fatal.declare,
                    on_wire=on_wire, clock=clock)
    return c, t, fatal, kills, clock


def _ok(statuses):
    return Reply(200, {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}})


def test_exchange_when_statuses_come_back_then_returned_and_the_action_signed():
    c, t, *_ = _client(_ok([{"resting": {"oid": 1}}, {"error": "Post only"}]))
    statuses, err = c.exchange({"type": "order", "orders": [1, 2]}, 2)
    assert statuses == [{"resting": {"oid": 1}}, {"error": "Post only"}] and err == ""
    assert t.sent[0] == {"action": {"type": "order", "orders": [1, 2]}, "signature": "sig"}
    assert c.stats["batches"] == 1


def test_exchange_when_no_answer_then_none_and_empty_text():
    c, *_ = _client(Reply(0, error="TimeoutError"))
    assert c.exchange({"type": "cancel"}, 1) == (None, "")
    assert c.stats["transport_errors"] == 1


def test_exchange_when_status_count_differs_then_whole_batch_error():
    c, *_ = _client(_ok(["success"]))
    assert c.exchange({"type": "cancel"}, 2) == (None, "status count")
    assert c.stats["whole_batch_errors"] == 1


def test_429_when_repeated_then_backoff_doubles_capped_and_info_refused_meanwhile():
    c, t, _, _, clock = _client(Reply(429), Reply(429), Reply(429), Reply(429), Reply(429), Reply(200, []))
    waits = []
    for _ in range(5):
        assert c.exchange({"type": "order"}, 1) == (None, "429")
        waits.append(c.backoff_s)
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0] and c.stats["http_429"] == 5
    assert c.backing_off(clock.t) and c.info({"type": "openOrders"}) is None
    assert len(t.sent) == 5  # the info request never left
    clock.t += 4.0
    assert not c.backing_off(clock.t)
    assert c.info({"type": "openOrders"}) == []
    assert c.backoff_s == 0.0  # it answered: the next 429 starts small again


def test_unknown_signer_when_refused_then_fatal_once_with_the_signer_named():
    text = "User or API Wallet 0xsigner does not exist."
    c, _, fatal, kills, _ = _client(Reply(200, {"status": "err", "response": text}),
                                    Reply(200, {"status": "err", "response": text}))
    assert c.exchange({"type": "noop"}, 1) == (None, text)
    c.exchange({"type": "noop"}, 1)
    assert fatal and "0xsigner" in fatal.reason and kills == [f"gateway: {text}"]


def test_address_cap_text_when_refused_then_counted_not_fatal():
    text = "Too many cumulative requests sent (12000 > 11000) for cumulative volume traded $100."
    c, _, fatal, kills, _ = _client(Reply(200, {"status": "err", "response": text}))
    assert c.exchange({"type": "order"}, 1) == (None, text)
    assert c.stats["address_cap_errors"] == 1 and not fatal and kills == []


def test_tick_to_wire_when_a_source_is_known_then_sampled():
    seen = []
    c, *_ = _client(Reply(200, {"status": "ok", "response": {"type": "default"}}, wire_ns=77),
                    on_wire=lambda src, wire, sign: seen.append((src, wire, sign)))
    c.exchange({"type": "order"}, 1, src_ns=5)
    c.exchange({"type": "order"}, 1)  # no source, no sample
    assert [(src, wire) for src, wire, _ in seen] == [(5, 77)]
    t0, t1 = seen[0][2]  # the signing's monotonic stamps
    assert 0 < t0 <= t1


@pytest.mark.parametrize("status", [400, 500])
def test_http_error_when_answered_then_whole_batch_error_with_the_status(status):
    c, *_ = _client(Reply(status, None, "bad"))
    assert c.exchange({"type": "order"}, 1) == (None, f"HTTP {status}")
