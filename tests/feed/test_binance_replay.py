"""Replay of Binance USD-M captures: the book rebuilt from diffs, gaps detected."""

from __future__ import annotations

import logging

import numpy as np
import orjson
import pytest
from sources_helpers import (
    BN_BTC,
    BN_ETH,
    COINS,
    _all,
    _assert_sane_market,
    _frame,
    _lines,
    _need,
    _write,
)

from appliance.feed.sources import open_source
from appliance.feed.sources.binance_book import symbol_to_coin
from appliance.feed.sources.binance_replay import BinanceReplaySource
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE, FLAG_BOOK_GAP

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
    assert (books["lv"]["bid_n"] == 0).all()  # order counts unknown on Binance
    # Four diffs precede the snapshot (lastUpdateId 5123107852948) and are dropped.
    assert s.skipped == 4
    assert books["recv_ts_ns"][0] == 1723161255319702566


def test_replay_when_binance_book_rebuilt_then_top_agrees_with_book_ticker(bn_btc):
    _, ev = bn_btc
    books = ev[ev["kind"] == EV_BOOK]
    bbo = ev[ev["kind"] == EV_BBO]
    i = np.searchsorted(bbo["exch_ts_ns"], books["exch_ts_ns"], side="right") - 1
    ok = i >= 0
    same = (bbo["lv"]["bid_px"][i[ok], 0] == books["lv"]["bid_px"][ok, 0]) & (
        bbo["lv"]["ask_px"][i[ok], 0] == books["lv"]["ask_px"][ok, 0]
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
            [f"{p:.2f}", f"{q:.3f}"] for p, q in zip(ref["lv"]["bid_px"], ref["lv"]["bid_sz"], strict=True)
        ],
        "asks": [
            [f"{p:.2f}", f"{q:.3f}"] for p, q in zip(ref["lv"]["ask_px"], ref["lv"]["ask_sz"], strict=True)
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
    assert (got["lv"]["bid_px"][:, 0] == later["lv"]["bid_px"][:, 0]).all()
    assert (got["lv"]["ask_px"][:, 0] == later["lv"]["ask_px"][:, 0]).all()


def test_replay_when_binance_snapshot_precedes_diffs_then_synced_without_gap(tmp_path):
    lines, _ = _bn_slice(2000)
    snap = _snapshot_index(lines)
    moved = [lines[snap]] + lines[:snap] + lines[snap + 1 :]
    src = BinanceReplaySource(_write(tmp_path / "first.txt", moved), COINS)
    ev = _all(src)
    assert src.stats.gaps == 0
    books = ev[ev["kind"] == EV_BOOK]
    assert len(books) > 100 and (books["flags"] == 0).all()
    assert (books["lv"]["bid_px"][:, 0] < books["lv"]["ask_px"][:, 0]).all()


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
