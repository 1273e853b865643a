"""Replay of recorded Hyperliquid websocket captures."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from sources_helpers import (
    COINS,
    HL_BTC,
    _all,
    _assert_sane_market,
    _frame,
    _hl_book,
    _hl_trades,
    _lines,
    _need,
    _write,
)

from appliance.feed.sources import open_source
from appliance.feed.sources.hyperliquid_replay import HyperliquidReplaySource
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE

# --- Hyperliquid ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hl_btc() -> tuple[HyperliquidReplaySource, np.ndarray]:
    src = open_source(f"replay:{_need(HL_BTC)}", COINS)
    assert isinstance(src, HyperliquidReplaySource)
    return src, _all(src)


def test_replay_when_hyperliquid_capture_then_sane_books_and_trades(hl_btc):
    src, ev = hl_btc
    _assert_sane_market(ev, 50_000.0, 150_000.0)
    assert (np.diff(ev["exch_ts_ns"]) >= 0).all(), "venue time went backwards"
    assert (ev["coin"] == 0).all() and (ev["flags"] == 0).all()
    books = ev[ev["kind"] == EV_BOOK]
    assert (books["lv"]["bid_n"] >= 1).all() and (books["lv"]["ask_n"] >= 1).all()
    assert books["lv"]["bid_px"][0, 0] == 105055.0 and books["lv"]["bid_sz"][0, 0] == 3.03622
    assert books["lv"]["bid_n"][0, 0] == 5 and books["lv"]["ask_px"][0, 0] == 105056.0
    assert books["exch_ts_ns"][0] == 1737918843542 * 1_000_000
    assert books["recv_ts_ns"][0] == 1737918843893903000
    trades = ev[ev["kind"] == EV_TRADE]
    assert len(np.unique(trades["trade_id"])) == len(trades)
    s = src.stats
    assert s.lines == 55 and s.malformed == 0 and s.events == len(ev)
    assert (len(books), len(trades)) == (46, 34)


def test_replay_when_first_trades_frame_replays_history_then_old_trades_dropped(hl_btc):
    src, ev = hl_btc
    # The first trades frame (30 trades) precedes the first book's time: all stale.
    assert src.stats.stale_trades == 30
    first_book_ts = ev[ev["kind"] == EV_BOOK]["exch_ts_ns"][0]
    assert (ev[ev["kind"] == EV_TRADE]["exch_ts_ns"] >= first_book_ts).all()


def test_replay_when_hyperliquid_trades_are_stale_or_repeated_then_dropped_and_counted(tmp_path):
    # Arrange: a book at t=1000 ms, then trades older, equal, newer, and a repeated tid.
    lines = [
        _hl_book(10, 1000),
        _hl_trades(20, [(900, 1, "B"), (1000, 2, "A"), (1001, 3, "B")]),
        _hl_trades(30, [(1001, 3, "B"), (1002, 4, "A")]),
        _hl_trades(40, [(1001, 5, "B")]),  # older than trade 4: stale
        _hl_trades(50, [(1003, 6, "B")], coin="SOL"),  # not configured
    ]
    src = HyperliquidReplaySource(_write(tmp_path / "hl.txt", lines), COINS)
    # Act
    ev = _all(src)
    # Assert
    trades = ev[ev["kind"] == EV_TRADE]
    assert trades["trade_id"].tolist() == [2, 3, 4]
    assert trades["side"].tolist() == [-1, 1, -1]
    assert (np.diff(ev["exch_ts_ns"]) >= 0).all()
    assert src.stats.stale_trades == 2
    assert src.stats.skipped == 2  # the repeated tid and the SOL trade


def test_replay_when_hyperliquid_lines_malformed_then_counted_and_good_lines_kept(tmp_path):
    good = _lines(_need(HL_BTC))
    clean = _all(HyperliquidReplaySource(_write(tmp_path / "clean.txt", good), COINS))
    book = _frame(good[0])
    missing = dict(book, data={k: v for k, v in book["data"].items() if k != "time"})
    bad_px = orjson.loads(orjson.dumps(book))
    bad_px["data"]["levels"][0][3]["px"] = "1O5051.0"
    nan_px = orjson.loads(orjson.dumps(book))
    nan_px["data"]["levels"][1][0]["sz"] = "nan"
    huge_n = orjson.loads(orjson.dumps(book))
    huge_n["data"]["levels"][1][5]["n"] = 2**40  # does not fit the int32 order count
    bad = [
        b"1737918843893903001 {not json",
        b"1737918843893903001 " + orjson.dumps(missing),
        b"1737918843893903001 " + orjson.dumps(bad_px),
        b"1737918843893903001 " + orjson.dumps(nan_px),
        b"1737918843893903001 " + orjson.dumps(huge_n),
        b"garbage-without-timestamp",
        b"1737918843893903001",
        b"1737918843893903001 " + good[0].split(b" ", 1)[1][:300],  # cut short
    ]
    mixed = good[:1] + bad + good[1:]
    src = HyperliquidReplaySource(_write(tmp_path / "mixed.txt", mixed), COINS)
    ev = _all(src)
    assert src.stats.malformed == len(bad)
    assert ev.tobytes() == clean.tobytes()


def test_replay_when_hyperliquid_bbo_and_control_frames_then_bbo_emitted_rest_skipped(tmp_path):
    bbo = {
        "channel": "bbo",
        "data": {
            "coin": "ETH",
            "time": 2000,
            "bbo": [{"px": "3000.1", "sz": "4.5", "n": 3}, {"px": "3000.2", "sz": "1.0", "n": 1}],
        },
    }
    lines = [
        b'5 {"channel":"subscriptionResponse","data":{"method":"subscribe"}}',
        b"6 " + orjson.dumps(bbo),
        b'7 {"channel":"pong"}',
    ]
    src = HyperliquidReplaySource(_write(tmp_path / "bbo.txt", lines), COINS)
    ev = _all(src)
    assert ev["kind"].tolist() == [EV_BBO]
    assert ev["coin"][0] == 1 and ev["lv"]["bid_px"][0, 0] == 3000.1 and ev["lv"]["ask_sz"][0, 0] == 1.0
    assert ev["exch_ts_ns"][0] == 2_000_000_000 and ev["recv_ts_ns"][0] == 6
    assert src.stats.skipped == 2 and src.stats.malformed == 0
