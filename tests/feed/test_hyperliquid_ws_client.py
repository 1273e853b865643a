"""The Hyperliquid websocket client against a real loopback websocket server that
replays frames of the recorded capture."""

from __future__ import annotations

import logging
import random
import socket

import numpy as np
import orjson
from hl_ws_helpers import (
    Collector,
    ReplayServer,
    Script,
    capture_frames,
    make_client,
    need_capture,
    wait_until,
)

from appliance.feed.hyperliquid_ws.client import (
    ST_FATAL,
    ST_LIVE,
    Backoff,
    subscriptions,
)
from appliance.feed.sources.hyperliquid_replay import HyperliquidReplaySource
from shm_layout.constants import EV_BOOK, FLAG_BOOK_GAP, UE_RESYNC

USER = "0x" + "ab" * 20
N_SUBS = 8  # BTC x 4 market channels + 4 user channels


def _replay_events(path) -> np.ndarray:
    src = HyperliquidReplaySource(path, ["BTC"])
    return np.concatenate(list(src.chunks()))


def _same_events(live: np.ndarray, ref: np.ndarray, ignore_flags: bool = False) -> None:
    """Every field equal except the receive time (live stamps its own) and flags."""
    assert len(live) == len(ref)
    skip = {"seq", "recv_ts_ns", "pub_mono_ns"} | ({"flags"} if ignore_flags else set())
    for name in ref.dtype.names:
        if name in skip:
            continue
        assert np.array_equal(live[name], ref[name]), name


def _resyncs(col: Collector) -> list[int]:
    ue = col.user_events()
    return [int(t) for t in ue["tid"][ue["kind"] == UE_RESYNC]]


def test_client_when_server_replays_capture_then_events_match_replay_source():
    path = need_capture()
    frames = capture_frames(path)
    ref = _replay_events(path)
    col = Collector()
    with ReplayServer(lambda n: Script(frames=frames, wait_subs=N_SUBS)) as srv:
        cl = make_client(srv.url, col)
        cl.start()
        try:
            assert wait_until(lambda: len(col.md_events()) >= len(ref))
        finally:
            cl.stop()
        subs = srv.conns[0].subs
    assert subs == subscriptions(["BTC"], USER)
    assert {s["type"] for s in subs} == {"l2Book", "trades", "bbo", "activeAssetCtx", "userFills",
                                         "orderUpdates", "userEvents", "userFundings"}
    live = col.md_events()
    _same_events(live, ref)
    assert (live["recv_ts_ns"] > 0).all() and (np.diff(live["recv_ts_ns"]) >= 0).all()
    assert _resyncs(col) == [1]
    assert cl.stats.market.malformed == 0 and cl.decoder.acks == N_SUBS
    assert cl.stats.connects == 1


def test_client_when_server_drops_connection_then_reconnects_resubscribes_and_resyncs():
    path = need_capture()
    frames = capture_frames(path)
    ref = _replay_events(path)
    k = 25
    # The second connection re-delivers the last trades frame sent before the drop,
    # as a resubscription's trades snapshot would: it must not be counted twice.
    last_trades = max(i for i in range(k) if b'"trades"' in frames[i])
    scripts = {1: Script(frames=frames[:k], wait_subs=N_SUBS, then="drop"),
               2: Script(frames=[frames[last_trades]] + frames[k:], wait_subs=N_SUBS)}
    col = Collector()
    with ReplayServer(lambda n: scripts.get(n, Script())) as srv:
        cl = make_client(srv.url, col, backoff_base_s=0.05, backoff_cap_s=0.2)
        cl.start()
        try:
            assert wait_until(lambda: len(col.md_events()) >= len(ref))
        finally:
            cl.stop()
        conns = srv.conns
    assert len(conns) == 2 and conns[0].closed_by_server
    assert conns[1].subs == conns[0].subs == subscriptions(["BTC"], USER)
    assert _resyncs(col) == [1, 2]
    live = col.md_events()
    _same_events(live, ref, ignore_flags=True)
    books = live[live["kind"] == EV_BOOK]
    gap = books["flags"] & FLAG_BOOK_GAP
    assert gap.sum() == 1, "exactly the first book after the reconnect is flagged"
    n_books_before = sum(1 for f in frames[:k] if b'"l2Book"' in f)
    assert gap[n_books_before] == FLAG_BOOK_GAP
    assert cl.stats.drops == 1 and cl.stats.consecutive_failures == 0
    assert "live" in col.states and "backoff" in col.states


def test_client_when_server_goes_silent_then_pings_and_reconnects_as_stale():
    path = need_capture()
    frames = capture_frames(path)
    scripts = {1: Script(frames=frames[:3], wait_subs=N_SUBS, then="silent"),
               2: Script(frames=frames[3:6], wait_subs=N_SUBS)}
    col = Collector()
    with ReplayServer(lambda n: scripts.get(n, Script())) as srv:
        cl = make_client(srv.url, col, ping_idle_s=0.1, stale_after_s=0.5,
                         backoff_base_s=0.05, backoff_cap_s=0.1)
        cl.start()
        try:
            assert wait_until(lambda: len(srv.conns) >= 2 and cl.state == ST_LIVE
                              and len(col.md_events()) >= 5)  # 2 books, stale trades, 3 books
        finally:
            cl.stop()
        assert srv.conns[0].pings >= 1, "an idle link is pinged before it is declared stale"
    assert cl.stats.stale_reconnects >= 1 and cl.stats.pings_sent >= 1
    assert "stale" in cl.stats.last_reason
    assert _resyncs(col)[:2] == [1, 2]


def test_client_when_idle_but_pongs_answer_then_stays_on_one_connection():
    col = Collector()
    with ReplayServer(lambda n: Script(wait_subs=N_SUBS)) as srv:
        cl = make_client(srv.url, col, ping_idle_s=0.05, stale_after_s=0.3)
        cl.start()
        try:
            # Several stale windows pass with nothing but pongs coming back.
            assert wait_until(lambda: srv.conns and srv.conns[0].pings >= 10)
        finally:
            cl.stop()
        assert len(srv.conns) == 1
    assert cl.stats.stale_reconnects == 0 and cl.decoder.pongs >= 10


def test_client_when_connect_refused_n_times_then_fatal():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    col = Collector()
    cl = make_client(f"ws://127.0.0.1:{port}/ws", col, max_failures=4,
                     backoff_base_s=0.01, backoff_cap_s=0.02, connect_timeout_s=1.0)
    cl.run()  # returns once fatal
    assert cl.state == ST_FATAL and cl.fatal
    assert cl.stats.connect_failures == 4 and cl.stats.consecutive_failures == 4
    assert col.states[-1] == ST_FATAL
    assert col.states.count("backoff") >= 1


def test_client_when_server_accepts_then_drops_without_data_then_fatal():
    col = Collector()
    with ReplayServer(lambda n: Script(wait_subs=N_SUBS, then="drop")) as srv:
        cl = make_client(srv.url, col, max_failures=3, backoff_base_s=0.01, backoff_cap_s=0.02)
        cl.run()
        n = len(srv.conns)
    assert cl.fatal and n == 3 and cl.stats.drops == 3
    assert _resyncs(col) == [1, 2, 3]


def test_client_when_error_and_malformed_frames_then_logged_counted_and_keeps_decoding(caplog):
    path = need_capture()
    frames = capture_frames(path)
    err = orjson.dumps({"channel": "error", "data": 'Already subscribed: {"type":"l2Book"}'}).decode()
    junk = ["not json at all", "[1,2,3]", '{"channel":"l2Book","data":{"coin":"BTC"}}',
            '{"channel":"trades","data":"x"}', '{"channel":"bbo","data":{"coin":"BTC","time":-1}}']
    script = Script(frames=[frames[0], err, *junk, frames[1]], wait_subs=N_SUBS)
    col = Collector()
    caplog.set_level(logging.WARNING)
    with ReplayServer(lambda n: script) as srv:
        cl = make_client(srv.url, col)
        cl.start()
        try:
            assert wait_until(lambda: len(col.md_events()) >= 2)
        finally:
            cl.stop()
    assert cl.decoder.errors == 1 and cl.decoder.last_error.startswith("Already subscribed")
    assert any("error frame" in r.getMessage() for r in caplog.records)
    assert cl.stats.market.malformed == len(junk)
    assert cl.stats.connects == 1 and len(col.md_events()) == 2


def test_backoff_when_failures_repeat_then_grows_with_jitter_up_to_cap_and_resets():
    b = Backoff(0.1, 2.0, 0.5, random.Random(7))
    steps, waits = [], []
    for _ in range(10):
        steps.append(b.step_s())
        waits.append(b.next_s())
    assert steps == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0, 2.0, 2.0]
    for s, w in zip(steps, waits, strict=True):
        assert 0.5 * s <= w <= s
    assert len({round(w / s, 9) for s, w in zip(steps, waits, strict=True)}) > 5, "jittered"
    b.reset()
    assert b.step_s() == 0.1
    no_jitter = Backoff(0.1, 2.0, 0.0)
    assert [no_jitter.next_s() for _ in range(3)] == [0.1, 0.2, 0.4]
