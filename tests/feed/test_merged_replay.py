"""Several Hyperliquid archive files of one hour as one stream (``replay:FILE1,FILE2``):
the l2Book snapshots and the node_trades (or node_fills) of the real websocket capture
``btc_ws_20250126.gz``, written in the documented formats and downloaded separately,
merged by receive time into what each file gives alone, in one time order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from hl_archive_fixtures import _l2book_lines, _node_fill_lines, _node_trade_lines
from sources_helpers import COINS, _all

from appliance.backtest import run_backtest
from appliance.config import load_config
from appliance.feed.sources import open_source, replay_coins
from appliance.feed.sources.hl_archive_io import write_lz4_lines
from appliance.research.plan import PlanError, data_label, data_spec
from shm_layout.constants import EV_BOOK, EV_TRADE


def _lz4(tmp_path: Path, name: str, lines: list[bytes]) -> str:
    p = tmp_path / name
    write_lz4_lines(p, lines)
    return str(p)


@pytest.fixture
def hour(tmp_path) -> tuple[str, str, str]:
    """(l2Book, node_trades, node_fills) of the same hour, each its own file."""
    return (_lz4(tmp_path, "BTC.lz4", _l2book_lines()), _lz4(tmp_path, "10.lz4", _node_trade_lines()),
            _lz4(tmp_path, "11.lz4", _node_fill_lines()))


def test_merged_when_l2book_and_trades_then_union_in_receive_time_order(hour):
    # Arrange
    book, trades, _ = hour
    alone = [_all(open_source(f"replay:{p}", COINS)) for p in (book, trades)]
    # Act
    src = open_source(f"replay:{book},{trades}", COINS)
    ev = _all(src)
    # Assert: every event of each file, once, in receive-time order
    assert len(ev) == sum(len(a) for a in alone) == 46 + 64
    assert np.all(np.diff(ev["recv_ts_ns"]) >= 0)
    assert np.array_equal(np.sort(ev[ev["kind"] == EV_BOOK]["recv_ts_ns"]), alone[0]["recv_ts_ns"])
    assert np.array_equal(ev[ev["kind"] == EV_TRADE]["px"], alone[1]["px"])  # trades keep their order
    # interleaved, not one file after the other
    kinds = ev["kind"]
    assert np.count_nonzero(kinds[1:] != kinds[:-1]) > 2
    s = src.stats
    assert (s.lines, s.events, s.malformed) == (46 + 64, 46 + 64, 0)
    assert replay_coins(f"replay:{book},{trades}") == ["BTC"]


def test_merged_when_chunked_small_or_files_swapped_then_same_stream(hour):
    book, trades, _ = hour
    whole = _all(open_source(f"replay:{book},{trades}", COINS))
    src = open_source(f"replay:{book},{trades}", COINS)
    small = np.concatenate(list(src.chunks(7)))
    assert np.array_equal(small, whole)
    swapped = _all(open_source(f"replay:{trades},{book}", COINS))
    assert np.array_equal(np.sort(swapped["recv_ts_ns"]), np.sort(whole["recv_ts_ns"]))
    assert len(swapped) == len(whole)


def test_merged_when_a_line_malformed_then_reason_names_its_file(hour, tmp_path):
    book, _, _ = hour
    lines = _node_trade_lines()
    bad = _lz4(tmp_path, "bad.lz4", [*lines[:10], b'{"coin": "BTC", "side": "B"}', *lines[10:]])
    src = open_source(f"replay:{book},{bad}", COINS)
    _all(src)
    assert src.stats.malformed == 1 and src.stats.malformed_reasons[0].startswith("bad.lz4: ")


def test_merged_when_a_file_missing_or_repeated_then_clear_error(hour, tmp_path):
    book, trades, _ = hour
    with pytest.raises(ValueError, match="not found"):
        open_source(f"replay:{book},{tmp_path / 'nope.lz4'}", COINS)
    with pytest.raises(ValueError, match="given twice"):
        open_source(f"replay:{book},{book}", COINS)
    with pytest.raises(PlanError, match="data file not found"):
        data_spec(f"{book},{tmp_path / 'nope.lz4'}")


def test_merged_when_backtested_and_swept_then_one_source_of_both_files(hour):
    # Arrange: the book file and the node_fills file of the same hour
    book, _, fills = hour
    spec = data_spec(f"{book},{fills}")
    # Act
    r = run_backtest(spec, load_config(), coin="BTC")
    # Assert
    assert spec == f"replay:{book},{fills}" and data_label(spec) == "BTC.lz4+11.lz4"
    st = r.report["source_stats"]
    assert st["events"] == 46 + 64 and st["merged"] == 64 and st["malformed"] == 0
    assert r.report["events"] == 46 + 64


def test_merged_when_json_lines_are_one_file_with_a_comma_in_its_name_then_not_split(tmp_path):
    p = tmp_path / "a,b.lz4"
    write_lz4_lines(p, [orjson.dumps(orjson.loads(line)) for line in _l2book_lines()])
    assert len(_all(open_source(f"replay:{p}", COINS))) == 46
