"""Every venue request is bounded and beats the heartbeat while it waits (HTTP and
websocket ``post``), against the local venue (a real server process on 127.0.0.1)
slowed by its ``response_delay_ms`` fault; lookup and connect bounded too."""

import socket
import time

import pytest
from venue_process import faults, venue_process

from appliance.hyperliquid import bounded_net
from appliance.hyperliquid.demo_key import DEMO_ADDRESS, DEMO_PRIVATE_KEY_HEX
from appliance.hyperliquid.signing import L1Signer
from appliance.hyperliquid.transports import make_transport


@pytest.fixture(scope="module")
def venue():
    with venue_process() as url:
        yield url



class Recorder:
    """The hooks a gateway passes: heartbeat stamps and response times."""

    def __init__(self):
        self.beats = 0
        self.samples: list[tuple[float, bool]] = []

    def beat(self):
        self.beats += 1

    def observe(self, latency_ms, answered):
        self.samples.append((latency_ms, answered))


def _request(t, kind):
    if kind == "info":
        return t.info({"type": "openOrders", "user": DEMO_ADDRESS})
    return t.exchange(L1Signer(DEMO_PRIVATE_KEY_HEX, is_mainnet=False).body({"type": "noop"}))


@pytest.mark.parametrize("transport, kind", [("http", "info"), ("http", "exchange"),
                                             ("ws_post", "exchange")])
def test_request_when_venue_slow_but_in_time_then_answered_beating_while_waiting(
        venue, transport, kind):
    rec = Recorder()
    t = make_transport(transport, venue, 5.0, beat=rec.beat, observe=rec.observe)
    try:
        assert _request(t, kind).ok  # connection up before the delay
        rec.beats, rec.samples = 0, []
        faults(venue, response_delay_ms=1000)
        r = _request(t, kind)
        assert r.ok
        # One stamp before the request and more while the answer was awaited.
        assert rec.beats >= 3, rec.beats
        (latency_ms, answered), = rec.samples
        assert answered and latency_ms >= 1000
    finally:
        faults(venue, clear=True)
        t.close()


@pytest.mark.parametrize("transport, kind", [("http", "info"), ("http", "exchange"),
                                             ("ws_post", "exchange")])
def test_request_when_venue_slower_than_timeout_then_no_answer_and_beats(venue, transport, kind):
    rec = Recorder()
    t = make_transport(transport, venue, 0.8, beat=rec.beat, observe=rec.observe)
    try:
        assert _request(t, kind).ok
        rec.beats, rec.samples = 0, []
        faults(venue, response_delay_ms=3000)
        r = _request(t, kind)
        assert r.status == 0 and "Timeout" in r.error  # fate unknown: never resent blindly
        assert rec.beats >= 2, rec.beats
        (latency_ms, answered), = rec.samples
        assert not answered and latency_ms >= 800
        faults(venue, clear=True)
        t.timeout_s = 5.0
        assert _request(t, kind).ok  # the transport recovers on its own
    finally:
        faults(venue, clear=True)
        t.close()


def test_connect_when_listener_never_accepts_then_timeout_beating():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    held = []
    rec = Recorder()
    try:
        for _ in range(4):  # fill the accept queue: later SYNs are dropped
            try:
                held.append(bounded_net.connect("127.0.0.1", port, 0.6))
            except TimeoutError:
                break
        with pytest.raises(TimeoutError):
            bounded_net.connect("127.0.0.1", port, 0.6, rec.beat)
        assert rec.beats >= 2
        t = make_transport("http", f"http://127.0.0.1:{port}", 0.6, beat=rec.beat,
                           observe=rec.observe)
        r = t.info({"type": "meta"})
        assert r.status == 0 and not rec.samples[-1][1]
    finally:
        for s in held:
            s.close()
        srv.close()


def test_resolve_when_lookup_hangs_then_bounded_and_last_answer_reused(monkeypatch):
    real = socket.getaddrinfo
    slow = {"on": False}

    def getaddrinfo(host, port, *args):
        if slow["on"]:
            time.sleep(3.0)  # a resolver that does not answer
        return real("127.0.0.1", port, *args)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    rec = Recorder()
    host = f"venue-{time.monotonic_ns()}.invalid"
    slow["on"] = True
    with pytest.raises(TimeoutError, match="resolving"):
        bounded_net.resolve(host, 80, 0.5, rec.beat)
    assert rec.beats >= 2
    slow["on"] = False
    good = bounded_net.resolve(host, 80, 2.0)
    slow["on"] = True
    assert bounded_net.resolve(host, 80, 0.5) == good  # the last good answer serves
