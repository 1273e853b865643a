"""Market sources: real captures replayed, continuity checks, the synthetic market."""

from __future__ import annotations

import gzip
import itertools
import logging
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.feed.sources.base import MarketSource, SourceStats, open_source
from appliance.feed.sources.binance_replay import BinanceReplaySource, symbol_to_coin
from appliance.feed.sources.hyperliquid_replay import HyperliquidReplaySource
from appliance.feed.sources.synthetic_walk import SyntheticWalkSource
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE, FLAG_BOOK_GAP, FLAG_SYNTHETIC
from shm_layout.records import MD_EVENT

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / ".." / "shared" / "data"
HL_BTC = DATA / "hyperliquid" / "btc_ws_20250126.gz"
BN_BTC = DATA / "binance_usdm" / "btcusdt_20240808.gz"
BN_ETH = DATA / "binance_usdm" / "ethusdt_20240808.gz"

COINS = ("BTC", "ETH")


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"recorded market data missing: {path} (see ../shared/data/README.md)")
    return path


def _all(src: MarketSource, max_events: int = 1024) -> np.ndarray:
    chunks = list(src.chunks(max_events))
    for c in chunks:
        assert c.dtype == MD_EVENT
        assert 0 < len(c) <= max_events
    return np.concatenate(chunks) if chunks else np.zeros(0, MD_EVENT)


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [ln.rstrip(b"\n") for ln in f]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _frame(line: bytes) -> dict:
    return orjson.loads(line.split(b" ", 1)[1])


def _assert_sane_market(ev: np.ndarray, lo_px: float, hi_px: float) -> None:
    assert len(ev) > 0
    assert (np.diff(ev["recv_ts_ns"]) >= 0).all(), "recv time must not go backwards"
    assert (ev["seq"] == 0).all() and (ev["pub_mono_ns"] == 0).all()
    books = ev[ev["kind"] == EV_BOOK]
    trades = ev[ev["kind"] == EV_TRADE]
    bbos = ev[ev["kind"] == EV_BBO]
    assert len(books) > 0 and len(trades) > 0
    for b in (books, bbos):
        if len(b):
            assert (b["bid_px"][:, 0] < b["ask_px"][:, 0]).all(), "crossed book"
            assert ((b["bid_px"][:, 0] > lo_px) & (b["ask_px"][:, 0] < hi_px)).all()
    assert (books["n_bids"] == 20).all() and (books["n_asks"] == 20).all()
    # Levels are best first and strictly ordered.
    assert (np.diff(books["bid_px"], axis=1) < 0).all()
    assert (np.diff(books["ask_px"], axis=1) > 0).all()
    assert (books["bid_sz"] > 0).all() and (books["ask_sz"] > 0).all()
    assert set(np.unique(trades["side"]).tolist()) <= {-1, 1}
    assert ((trades["px"] > lo_px) & (trades["px"] < hi_px)).all()
    assert (trades["sz"] > 0).all()
    if len(bbos):
        assert (bbos["n_bids"] == 1).all() and (bbos["n_asks"] == 1).all()
        assert (bbos["bid_px"][:, 1:] == 0).all()


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
    assert (books["bid_n"] >= 1).all() and (books["ask_n"] >= 1).all()
    assert books["bid_px"][0, 0] == 105055.0 and books["bid_sz"][0, 0] == 3.03622
    assert books["bid_n"][0, 0] == 5 and books["ask_px"][0, 0] == 105056.0
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


def _hl_book(recv: int, t_ms: int, coin: str = "BTC") -> bytes:
    lv = [
        [{"px": str(100 - i), "sz": "1.0", "n": 1} for i in range(20)],
        [{"px": str(101 + i), "sz": "2.0", "n": 2} for i in range(20)],
    ]
    frame = {"channel": "l2Book", "data": {"coin": coin, "levels": lv, "time": t_ms}}
    return str(recv).encode() + b" " + orjson.dumps(frame)


def _hl_trades(recv: int, trades: list[tuple[int, int, str]], coin: str = "BTC") -> bytes:
    data = [
        {
            "coin": coin,
            "side": side,
            "px": "100.5",
            "sz": "0.1",
            "time": t,
            "tid": tid,
            "hash": "0x0",
            "users": ["a", "b"],
        }
        for t, tid, side in trades
    ]
    return str(recv).encode() + b" " + orjson.dumps({"channel": "trades", "data": data})


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
    assert ev["coin"][0] == 1 and ev["bid_px"][0, 0] == 3000.1 and ev["ask_sz"][0, 0] == 1.0
    assert ev["exch_ts_ns"][0] == 2_000_000_000 and ev["recv_ts_ns"][0] == 6
    assert src.stats.skipped == 2 and src.stats.malformed == 0


# --- Binance ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bn_btc() -> tuple[BinanceReplaySource, np.ndarray]:
    src = open_source(f"replay:{_need(BN_BTC)}", COINS)
    assert isinstance(src, BinanceReplaySource)
    return src, _all(src)


def test_replay_when_binance_btc_capture_then_book_rebuilt_without_gaps(bn_btc):
    src, ev = bn_btc
    _assert_sane_market(ev, 50_000.0, 150_000.0)
    s = src.stats
    assert s.lines == 93954 and s.malformed == 0 and s.gaps == 0
    assert (ev["flags"] == 0).all() and (ev["coin"] == 0).all()
    books = ev[ev["kind"] == EV_BOOK]
    assert (books["bid_n"] == 0).all()  # order counts unknown on Binance
    # Four diffs precede the snapshot (lastUpdateId 5123107852948) and are dropped.
    assert s.skipped == 4
    assert books["recv_ts_ns"][0] == 1723161255319702566


def test_replay_when_binance_book_rebuilt_then_top_agrees_with_book_ticker(bn_btc):
    _, ev = bn_btc
    books = ev[ev["kind"] == EV_BOOK]
    bbo = ev[ev["kind"] == EV_BBO]
    i = np.searchsorted(bbo["exch_ts_ns"], books["exch_ts_ns"], side="right") - 1
    ok = i >= 0
    same = (bbo["bid_px"][i[ok], 0] == books["bid_px"][ok, 0]) & (
        bbo["ask_px"][i[ok], 0] == books["ask_px"][ok, 0]
    )
    assert same.mean() > 0.99


def test_replay_when_binance_trade_buyer_is_maker_then_aggressor_sold(bn_btc):
    _, ev = bn_btc
    trades = ev[ev["kind"] == EV_TRADE]
    # The capture's first trade: "m":false, so the buyer took: side +1.
    assert trades["trade_id"][0] == 5266583935 and trades["side"][0] == 1
    assert trades["px"][0] == 61800.30 and trades["sz"][0] == 0.006
    assert (trades["side"] == -1).any()


def test_replay_when_binance_eth_capture_then_mapped_to_eth(tmp_path):
    src = open_source(f"replay:{_need(BN_ETH)}", COINS)
    ev = _all(src, max_events=4096)
    _assert_sane_market(ev, 1_000.0, 10_000.0)
    assert (ev["coin"] == 1).all()
    assert src.stats.gaps == 0 and src.stats.malformed == 0


def test_replay_when_binance_symbol_not_configured_then_everything_skipped():
    src = BinanceReplaySource(_need(BN_ETH), ("BTC",))
    assert _all(src).size == 0
    assert src.stats.skipped == src.stats.lines


def _bn_slice(n: int = 3000) -> tuple[list[bytes], list[int]]:
    """The first n lines of the BTC capture, and the indices of its depth diffs."""
    lines = _lines(_need(BN_BTC))[:n]
    diffs = [i for i, ln in enumerate(lines) if b"@depth" in ln[:80]]
    return lines, diffs


def _snapshot_index(lines: list[bytes]) -> int:
    return next(i for i, ln in enumerate(lines) if b"lastUpdateId" in ln[:80])


def test_replay_when_binance_diff_missing_then_gap_counted_flagged_and_logged(tmp_path, caplog):
    # Arrange: drop the 10th diff after the snapshot.
    lines, diffs = _bn_slice()
    snap = _snapshot_index(lines)
    after = [i for i in diffs if i > snap]
    cut = after[10]
    dropped_u = _frame(lines[cut])["data"]["u"]
    next_pu = _frame(lines[after[11]])["data"]["pu"]
    assert next_pu == dropped_u
    path = _write(tmp_path / "gap.txt", lines[:cut] + lines[cut + 1 :])
    src = BinanceReplaySource(path, COINS)
    # Act
    with caplog.at_level(logging.WARNING, logger="appliance.feed.sources.binance_replay"):
        ev = _all(src)
    # Assert
    assert src.stats.gaps == 1
    books = ev[ev["kind"] == EV_BOOK]
    gap_recv = int(lines[after[11]].split(b" ", 1)[0])
    flagged = (books["flags"] & FLAG_BOOK_GAP) != 0
    assert not flagged[books["recv_ts_ns"] < gap_recv].any()
    assert flagged[books["recv_ts_ns"] >= gap_recv].all()
    assert ((ev[ev["kind"] != EV_BOOK]["flags"] & FLAG_BOOK_GAP) == 0).all()
    prev_u = _frame(lines[after[9]])["data"]["u"]
    assert any(
        f"expected pu={prev_u}" in r.getMessage() and f"got pu={next_pu}" in r.getMessage()
        for r in caplog.records
    )


def test_replay_when_snapshot_follows_gap_then_flag_cleared(tmp_path):
    # Arrange: a gap, then a fresh snapshot built from the clean book at a later diff.
    lines, diffs = _bn_slice()
    snap = _snapshot_index(lines)
    after = [i for i in diffs if i > snap]
    clean = _all(BinanceReplaySource(_write(tmp_path / "clean.txt", lines), COINS))
    clean_books = clean[clean["kind"] == EV_BOOK]
    at = after[40]
    recv_at = int(lines[at].split(b" ", 1)[0])
    ref = clean_books[clean_books["recv_ts_ns"] == recv_at][-1]
    snapshot = {
        "lastUpdateId": _frame(lines[at])["data"]["u"],
        "E": 1,
        "T": _frame(lines[at])["data"]["T"],
        "bids": [
            [f"{p:.2f}", f"{q:.3f}"] for p, q in zip(ref["bid_px"], ref["bid_sz"], strict=True)
        ],
        "asks": [
            [f"{p:.2f}", f"{q:.3f}"] for p, q in zip(ref["ask_px"], ref["ask_sz"], strict=True)
        ],
    }
    snap_line = str(recv_at).encode() + b" " + orjson.dumps(snapshot)
    gapped = lines[: after[10]] + lines[after[10] + 1 : at + 1] + [snap_line] + lines[at + 1 :]
    src = BinanceReplaySource(_write(tmp_path / "resync.txt", gapped), COINS)
    # Act
    ev = _all(src)
    # Assert
    assert src.stats.gaps == 1
    books = ev[ev["kind"] == EV_BOOK]
    flagged = (books["flags"] & FLAG_BOOK_GAP) != 0
    assert flagged.any()
    last_flagged = np.nonzero(flagged)[0][-1]
    resync = books[last_flagged + 1 :]
    assert len(resync) > 100 and resync["recv_ts_ns"][0] == recv_at
    later = clean_books[clean_books["recv_ts_ns"] > recv_at][:20]
    got = resync[1:21]
    assert (got["bid_px"][:, 0] == later["bid_px"][:, 0]).all()
    assert (got["ask_px"][:, 0] == later["ask_px"][:, 0]).all()


def test_replay_when_binance_snapshot_precedes_diffs_then_synced_without_gap(tmp_path):
    lines, _ = _bn_slice(2000)
    snap = _snapshot_index(lines)
    moved = [lines[snap]] + lines[:snap] + lines[snap + 1 :]
    src = BinanceReplaySource(_write(tmp_path / "first.txt", moved), COINS)
    ev = _all(src)
    assert src.stats.gaps == 0
    books = ev[ev["kind"] == EV_BOOK]
    assert len(books) > 100 and (books["flags"] == 0).all()
    assert (books["bid_px"][:, 0] < books["ask_px"][:, 0]).all()


def test_replay_when_binance_lines_malformed_then_counted_and_good_lines_kept(tmp_path):
    lines, diffs = _bn_slice(2000)
    snap = _snapshot_index(lines)
    clean = _all(BinanceReplaySource(_write(tmp_path / "clean.txt", lines), COINS))
    diff = _frame(lines[diffs[-1]])
    bad_qty = orjson.loads(orjson.dumps(diff))
    bad_qty["data"]["b"][0][1] = "-1.0"
    no_pu = orjson.loads(orjson.dumps(diff))
    del no_pu["data"]["pu"]
    ticker = next(_frame(ln) for ln in lines if b"@bookTicker" in ln[:80])
    ticker["data"]["a"] = "abc"
    trade = next(_frame(ln) for ln in lines if b"@trade" in ln[:80])
    trade["data"]["t"] = 2**63 + 5  # does not fit the int64 trade_id
    bad = [
        b'1723161255030314667 {"stream": ',
        b"1723161255030314667 " + orjson.dumps(bad_qty),
        b"1723161255030314667 " + orjson.dumps(no_pu),
        b"1723161255030314667 " + orjson.dumps(ticker),
        b"1723161255030314667 [1, 2, 3]",
        b"1723161255030314667 " + orjson.dumps(trade),
        b"99999999999999999999 " + orjson.dumps(trade),
        b"x1723161255030314667 {}",
    ]
    mixed = lines[: snap + 5] + bad + lines[snap + 5 :]
    src = BinanceReplaySource(_write(tmp_path / "mixed.txt", mixed), COINS)
    ev = _all(src)
    assert src.stats.malformed == len(bad)
    assert src.stats.gaps == 0
    assert ev.tobytes() == clean.tobytes()


def test_replay_when_chunk_size_changes_then_same_stream(tmp_path):
    lines, _ = _bn_slice(3000)
    src = BinanceReplaySource(_write(tmp_path / "plain.txt", lines), COINS)
    a = _all(src, 7)
    b = _all(src, 1024)
    assert a.tobytes() == b.tobytes()
    assert src.stats.events == len(b)


def test_symbol_to_coin_when_quote_suffix_then_stripped():
    assert symbol_to_coin("BTCUSDT") == "BTC"
    assert symbol_to_coin("ethusdt") == "ETH"
    assert symbol_to_coin("SOLUSDC") == "SOL"
    assert symbol_to_coin("BTCUSD_PERP") == "BTC"


_FUZZ_SEEDS = {
    "hl": [_hl_book(10, 1000), _hl_trades(20, [(1001, 1, "B"), (1002, 2, "A")])],
    "bn": [
        b'1 {"lastUpdateId":10,"E":1,"T":1,"bids":[["99.0","1.0"]],"asks":[["101.0","1.0"]]}',
        b'2 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":2,"T":2,"s":"BTCUSDT",'
        b'"U":9,"u":12,"pu":8,"b":[["99.5","2.0"]],"a":[["101.0","0.000"]]}}',
        b'3 {"stream":"btcusdt@trade","data":{"e":"trade","E":3,"T":3,"s":"BTCUSDT","t":7,'
        b'"p":"99.5","q":"0.5","X":"MARKET","m":true}}',
        b'4 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":13,"s":"BTCUSDT",'
        b'"b":"99.5","B":"1.5","a":"101.5","A":"2.0","T":4,"E":4}}',
    ],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    venue=st.sampled_from(["hl", "bn"]),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    extra=st.lists(st.binary(max_size=40), max_size=3),
)
def test_replay_when_lines_are_corrupted_then_never_raises(tmp_path_factory, venue, edits, extra):
    lines = [bytearray(ln) for ln in _FUZZ_SEEDS[venue]]
    for pos, byte in edits:
        ln = lines[pos % len(lines)]
        ln[pos % len(ln)] = byte
    blob = b"\n".join(bytes(ln) for ln in lines) + b"\n" + b"\n".join(extra)
    path = tmp_path_factory.mktemp("fuzz") / "capture.txt"
    path.write_bytes(blob)
    cls = HyperliquidReplaySource if venue == "hl" else BinanceReplaySource
    src = cls(path, COINS)
    ev = _all(src)
    s = src.stats
    assert s.events == len(ev)
    assert (np.diff(ev["recv_ts_ns"]) >= 0).all()


# --- synthetic ------------------------------------------------------------------------


def _take(src: MarketSource, n: int, max_events: int = 1000) -> np.ndarray:
    chunks = src.chunks(max_events)
    return np.concatenate(list(itertools.islice(chunks, -(-n // max_events))))[:n]


def test_synthetic_when_same_seed_then_byte_identical_stream():
    a = _take(open_source("synthetic", COINS, seed=42), 20_000)
    b = _take(open_source("synthetic:walk", COINS, seed=42), 20_000, max_events=333)
    assert a.tobytes() == b.tobytes()


def test_synthetic_when_seeds_differ_then_streams_differ():
    a = _take(SyntheticWalkSource(COINS, seed=1), 2_000)
    b = _take(SyntheticWalkSource(COINS, seed=2), 2_000)
    assert a.tobytes() != b.tobytes()


def test_synthetic_when_generated_then_plausible_market():
    src = SyntheticWalkSource(COINS, seed=3)
    ev = _take(src, 40_000)
    assert (ev["flags"] == FLAG_SYNTHETIC).all()
    assert (ev["recv_ts_ns"] == ev["exch_ts_ns"]).all()
    assert ev["exch_ts_ns"][0] >= 1_700_000_000_000_000_000
    _assert_sane_market(ev[ev["coin"] == 0], 50_000.0, 150_000.0)
    _assert_sane_market(ev[ev["coin"] == 1], 5_000.0, 15_000.0)
    assert (np.diff(ev["exch_ts_ns"]) >= 0).all()
    # About events_per_s events a second per coin, books and trades alternating.
    span_s = (ev["exch_ts_ns"][-1] - ev["exch_ts_ns"][0]) / 1e9
    assert 0.9 < len(ev) / span_s / (50.0 * len(COINS)) < 1.15
    books = ev[(ev["kind"] == EV_BOOK) & (ev["coin"] == 0)]
    spread_ticks = books["ask_px"][:, 0] - books["bid_px"][:, 0]
    assert set(np.unique(spread_ticks).tolist()) == {1.0, 2.0, 3.0}
    assert (books["bid_n"] >= 1).all() and (books["ask_n"] >= 1).all()
    depth = books["bid_sz"].mean(axis=0)
    assert depth[-1] > 3 * depth[0]  # deeper levels hold more
    # Trades print at the touch of the book in force, or one level through it.
    last = {}
    at_touch = through = 0
    for e in ev[:10_000]:
        if e["kind"] == EV_BOOK:
            last[int(e["coin"])] = e
            continue
        b = last[int(e["coin"])]
        px = b["ask_px"] if e["side"] == 1 else b["bid_px"]
        if e["px"] == px[0]:
            at_touch += 1
        else:
            assert e["px"] == px[1]
            through += 1
    assert at_touch > 0 and through > 0
    trades = ev[ev["kind"] == EV_TRADE]
    assert (np.diff(trades["trade_id"]) == 1).all()


def test_synthetic_when_price_and_rate_set_then_honoured():
    src = open_source(
        "synthetic",
        ("ETH",),
        seed=5,
        start_px=3_000.0,
        tick_px=0.1,
        events_per_s=10.0,
        start_ts_ns=0,
    )
    ev = _take(src, 2_000)
    books = ev[ev["kind"] == EV_BOOK]
    assert abs(books["bid_px"][0, 0] - 3_000.0) < 1.0
    assert books["exch_ts_ns"][0] == 0 and books["exch_ts_ns"][1] == 200_000_000
    ticks = np.round(books["bid_px"] * 10.0)
    assert np.allclose(books["bid_px"] * 10.0, ticks)


# --- open_source --------------------------------------------------------------------


def test_open_source_when_spec_unknown_then_value_error():
    with pytest.raises(ValueError, match="unknown market source spec"):
        open_source("kafka:btc", COINS)
    with pytest.raises(ValueError, match="unknown synthetic market"):
        open_source("synthetic:regimes", COINS)
    with pytest.raises(ValueError, match="missing path"):
        open_source("replay:", COINS)
    with pytest.raises(ValueError):
        open_source("", COINS)


def test_open_source_when_file_missing_then_value_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        open_source(f"replay:{tmp_path / 'nope.gz'}", COINS)


def test_open_source_when_format_unknown_then_value_error(tmp_path):
    path = _write(tmp_path / "other.txt", [b'1 {"hello": 1}', b"2 not json"])
    with pytest.raises(ValueError, match="cannot tell the format"):
        open_source(f"replay:{path}", COINS)


def test_open_source_when_bad_coins_or_options_then_value_error():
    with pytest.raises(ValueError):
        open_source("synthetic", ())
    with pytest.raises(ValueError):
        open_source("synthetic", "BTC")
    with pytest.raises(ValueError):
        open_source("synthetic", [f"C{i}" for i in range(9)])
    with pytest.raises(ValueError):
        open_source("synthetic", COINS, tick_px=-1.0)
    with pytest.raises(ValueError):
        open_source("synthetic", COINS, no_such_option=1)


def test_open_source_when_valid_then_market_source():
    src = open_source("synthetic", COINS, seed=0)
    assert isinstance(src, MarketSource)
    assert src.coins == COINS and src.name == "synthetic:walk"
    assert isinstance(src.stats, SourceStats)
    assert set(src.stats.to_dict()) == {
        "lines",
        "events",
        "malformed",
        "skipped",
        "gaps",
        "stale_trades",
    }
