"""Every source: corrupted input never raises; open_source parses specs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_helpers import (
    COINS,
    _all,
    _hl_book,
    _hl_trades,
    _write,
)

from appliance.feed.events import SourceStats
from appliance.feed.sources import open_source
from appliance.feed.sources.base import MarketSource
from appliance.feed.sources.binance_replay import BinanceReplaySource
from appliance.feed.sources.hyperliquid_replay import HyperliquidReplaySource

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
        "warmup_skipped",
        "merged",
        "book_from_diffs",
        "recv_timed",
        "malformed_reasons",
    }
