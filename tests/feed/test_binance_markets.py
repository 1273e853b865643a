"""Binance USD-M, coin-margined and spot captures: every line counted, each market's
rules (spot frames without e/T/pu, contracts to coin), books from diffs without a
snapshot, and mutated or foreign input failing loudly."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import orjson
import pytest
from sources_helpers import (
    BINANCE_CAPTURES,
    BN_BTC,
    CM_BTC,
    DATA,
    SPOT_BTC,
    _all,
    _assert_sane_market,
    _count_lines,
    _frame,
    _lines,
    _need,
    _write,
)

from appliance.feed.sources import ReplayOptions, open_source, replay_coins
from appliance.feed.sources.binance_replay import BinanceReplaySource
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE, FLAG_BOOK_FROM_DIFFS, FLAG_BOOK_GAP


def _accounted(s) -> int:
    return s.events + s.malformed + s.skipped + s.warmup_skipped + s.merged


def _no_snapshot(lines: list[bytes]) -> list[bytes]:
    return [ln for ln in lines if b"lastUpdateId" not in ln[:60]]


def _kind_lines(lines: list[bytes], tag: bytes) -> list[int]:
    return [i for i, ln in enumerate(lines) if tag in ln[:90]]


# --- every capture -------------------------------------------------------------------


@pytest.mark.parametrize(("path", "market", "coin", "lo", "hi"), BINANCE_CAPTURES,
                         ids=lambda v: getattr(v, "name", None))
def test_replay_when_each_binance_capture_then_every_line_counted_once(path, market, coin, lo,
                                                                        hi):
    # Arrange
    counted = _count_lines(_need(path))
    assert replay_coins(f"replay:{path}") == [coin]
    # Act
    src = open_source(f"replay:{path}", (coin,))
    ev = _all(src, 4096)
    # Assert
    s = src.stats
    assert isinstance(src, BinanceReplaySource) and src.market == market
    assert s.lines == counted and _accounted(s) == counted
    assert s.malformed == 0 and s.gaps == 0 and not s.book_from_diffs
    _assert_sane_market(ev, lo, hi)
    assert (ev["coin"] == 0).all()
    assert {EV_BOOK, EV_BBO, EV_TRADE} <= set(np.unique(ev["kind"]).tolist())


# --- spot ----------------------------------------------------------------------------


def test_replay_when_spot_frames_lack_e_t_pu_then_read_and_timed_on_the_exchange_clock():
    lines = _lines(_need(SPOT_BTC))
    src = BinanceReplaySource(SPOT_BTC, ("BTC",))
    ev = _all(src, 4096)
    tickers = _kind_lines(lines, b"@bookTicker")
    assert (ev["kind"] == EV_BBO).sum() == len(tickers)
    assert src.stats.recv_timed == len(tickers) + 1  # and the REST snapshot
    # Receive time moved onto the exchange clock: within the spread of the offsets
    # (exchange - receive) of the frames that carry an exchange time, not 1.27 s off.
    bbo = ev[ev["kind"] == EV_BBO]
    other = ev[ev["kind"] != EV_BBO]
    lag_bbo = (bbo["exch_ts_ns"] - bbo["recv_ts_ns"]).astype(np.int64)
    lag_other = (other["exch_ts_ns"] - other["recv_ts_ns"]).astype(np.int64)
    assert np.median(lag_other) > 1_000_000_000  # the collector runs ~1.27 s behind
    assert abs(np.median(lag_bbo) - np.median(lag_other)) < 50_000_000


def test_replay_when_spot_diff_missing_then_gap_by_the_spot_rule(tmp_path, caplog):
    # Arrange: spot diffs chain by U == previous u + 1; drop one after the snapshot.
    lines = _lines(_need(SPOT_BTC))[:3000]
    snap = next(i for i, ln in enumerate(lines) if b"lastUpdateId" in ln[:60])
    after = [i for i in _kind_lines(lines, b"@depth") if i > snap]
    prev_u = _frame(lines[after[9]])["data"]["u"]
    got_u = _frame(lines[after[11]])["data"]["U"]
    path = _write(tmp_path / "gap.txt", lines[: after[10]] + lines[after[10] + 1 :])
    src = BinanceReplaySource(path, ("BTC",))
    # Act
    with caplog.at_level(logging.WARNING, logger="appliance.feed.sources.binance_replay"):
        ev = _all(src)
    # Assert
    assert src.stats.gaps == 1
    assert any(f"expected U={prev_u + 1}, got U={got_u}" in r.getMessage() for r in caplog.records)
    books = ev[ev["kind"] == EV_BOOK]
    assert (books["flags"] & FLAG_BOOK_GAP).any() and not (books["flags"][:5] & FLAG_BOOK_GAP).any()


# --- coin-margined -------------------------------------------------------------------


def test_replay_when_coin_margined_then_contracts_become_coin_at_their_price():
    lines = _lines(_need(CM_BTC))
    first_trade = _frame(lines[_kind_lines(lines, b"@trade")[0]])["data"]
    first_ticker = _frame(lines[_kind_lines(lines, b"@bookTicker")[0]])["data"]
    ev = _all(BinanceReplaySource(CM_BTC, ("BTC",)), 4096)
    trade = ev[ev["kind"] == EV_TRADE][0]
    bbo = ev[ev["kind"] == EV_BBO][0]
    p, q = float(first_trade["p"]), float(first_trade["q"])
    assert trade["sz"] == pytest.approx(q * 100.0 / p, rel=1e-12)
    assert bbo["lv"]["bid_sz"][0] == pytest.approx(float(first_ticker["B"]) * 100.0
                                             / float(first_ticker["b"]), rel=1e-12)
    books = ev[ev["kind"] == EV_BOOK]
    # a 100 USD contract at ~62,000 USD is ~0.0016 BTC: every level is whole contracts
    contracts = books["lv"]["bid_sz"][:, :5] * books["lv"]["bid_px"][:, :5] / 100.0
    assert np.allclose(contracts, np.round(contracts), atol=1e-6)


def test_replay_when_instrument_overridden_then_contract_size_from_the_override():
    default = _all(BinanceReplaySource(_need(CM_BTC), ("BTC",)), 4096)
    src = BinanceReplaySource(CM_BTC, ("BTC",), ReplayOptions(instrument=("contract_usd=50",)))
    halved = _all(src, 4096)
    t0, t1 = default[default["kind"] == EV_TRADE], halved[halved["kind"] == EV_TRADE]
    assert np.allclose(t1["sz"], t0["sz"] / 2)
    assert src.instrument.contract_usd == 50.0 and src.instrument.overrides == ("contract_usd=50",)


# --- books from diffs ----------------------------------------------------------------


@pytest.fixture(scope="module")
def usdm_pair(tmp_path_factory):
    """The USD-M BTC capture's first 6000 lines, replayed with and without its snapshot."""
    lines = _lines(_need(BN_BTC))[:6000]
    d = tmp_path_factory.mktemp("nosnap")
    with_snap = _all(BinanceReplaySource(_write(d / "snap.txt", lines), ("BTC",)))
    src = BinanceReplaySource(_write(d / "nosnap.txt", _no_snapshot(lines)), ("BTC",))
    return lines, with_snap, src, _all(src)


def test_replay_when_no_snapshot_then_book_from_diffs_after_the_warm_up(usdm_pair):
    lines, _, src, ev = usdm_pair
    s = src.stats
    diffs = _kind_lines(lines, b"@depth")
    first_recv = int(lines[diffs[0]].split(b" ", 1)[0])
    books = ev[ev["kind"] == EV_BOOK]
    assert s.book_from_diffs and s.skipped == 0 and s.merged == 0
    assert s.warmup_skipped >= 99 and len(books) == len(diffs) - s.warmup_skipped
    assert books["recv_ts_ns"][0] >= first_recv + 5_000_000_000  # the default 5 s warm-up
    assert (books["flags"] == FLAG_BOOK_FROM_DIFFS).all()
    assert _accounted(s) == s.lines == len(lines) - 1


def test_replay_when_no_snapshot_then_top_matches_the_book_built_from_the_snapshot(usdm_pair):
    _, with_snap, _, ev = usdm_pair
    a = with_snap[with_snap["kind"] == EV_BOOK]
    b = ev[ev["kind"] == EV_BOOK]
    a = a[np.isin(a["recv_ts_ns"], b["recv_ts_ns"])][-len(b):]
    assert len(a) == len(b) > 100
    assert (a["lv"]["bid_px"][:, 0] == b["lv"]["bid_px"][:, 0]).mean() > 0.99
    assert (a["lv"]["ask_sz"][:, 0] == b["lv"]["ask_sz"][:, 0]).mean() > 0.99


def test_replay_when_warm_up_longer_then_more_diffs_held_back(tmp_path):
    lines = _no_snapshot(_lines(_need(BN_BTC))[:6000])
    path = _write(tmp_path / "nosnap.txt", lines)
    src = BinanceReplaySource(path, ("BTC",), ReplayOptions(book_warmup_diffs=300,
                                                           book_warmup_s=0.0))
    _all(src)
    assert src.stats.warmup_skipped == 299 and src.stats.book_from_diffs


def test_replay_when_gap_in_a_book_from_diffs_then_flagged_until_another_warm_up(tmp_path):
    lines = _no_snapshot(_lines(_need(BN_BTC))[:6000])
    diffs = _kind_lines(lines, b"@depth")
    cut = diffs[150]  # after the 100-diff warm-up
    opts = ReplayOptions(book_warmup_diffs=100, book_warmup_s=0.0)
    src = BinanceReplaySource(_write(tmp_path / "gap.txt", lines[:cut] + lines[cut + 1:]),
                              ("BTC",), opts)
    books = _all(src)
    books = books[books["kind"] == EV_BOOK]
    gapped = (books["flags"] & FLAG_BOOK_GAP) != 0
    assert src.stats.gaps == 1
    assert gapped.sum() == 99  # the next 100 diffs heal it; the 100th is clean again
    assert not gapped[-1] and (books["flags"] & FLAG_BOOK_FROM_DIFFS).all()


def test_replay_when_never_warm_then_diffs_counted_skipped_not_lost(tmp_path):
    lines = _no_snapshot(_lines(_need(BN_BTC))[:400])
    src = BinanceReplaySource(_write(tmp_path / "short.txt", lines), ("BTC",),
                              ReplayOptions(book_warmup_diffs=10_000))
    ev = _all(src)
    n_diffs = len(_kind_lines(lines, b"@depth"))
    assert not (ev["kind"] == EV_BOOK).any() and not src.stats.book_from_diffs
    assert src.stats.skipped == n_diffs and _accounted(src.stats) == len(lines)


# --- mutated and foreign input -------------------------------------------------------


def test_replay_when_spot_lines_mutated_then_each_malformed_with_its_reason(tmp_path):
    lines = _lines(_need(SPOT_BTC))[:2000]
    depth = _frame(lines[_kind_lines(lines, b"@depth")[-1]])
    del depth["data"]["U"]
    hl = b'{"channel":"trades","data":[{"coin":"BTC","px":"1","sz":"1","side":"B"}]}'
    bad = [b"1723161255030314667 " + orjson.dumps(depth), b"1723161255030314667 " + hl]
    src = BinanceReplaySource(_write(tmp_path / "m.txt", lines[:1000] + bad + lines[1000:]),
                              ("BTC",))
    _all(src)
    assert src.stats.malformed == 2
    r = src.stats.malformed_reasons
    assert "line 1001 (depthUpdate): missing field 'U'" in r[0]
    assert "line 1002" in r[1] and "not a Binance frame" in r[1]


def test_replay_when_gzip_cut_short_then_tail_counted_malformed(tmp_path):
    raw = _need(SPOT_BTC).read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) // 3])
    src = BinanceReplaySource(path, ("BTC",))
    ev = _all(src, 4096)
    assert len(ev) > 1000 and src.stats.malformed == 1
    assert "damaged (cut) gzip tail" in src.stats.malformed_reasons[0]


@pytest.mark.parametrize("name", ["info/l2_snapshot.json", "info/user_fills.json", "binary"])
def test_open_source_when_foreign_file_then_error_naming_the_reason(tmp_path, name):
    if name == "binary":
        path = tmp_path / "x.gz"
        path.write_bytes(gzip.compress(bytes(range(256)) * 64))
    else:
        path = _need(DATA / "hyperliquid" / name)
    with pytest.raises(ValueError, match="cannot tell the format"):
        open_source(f"replay:{path}", ("BTC",))
