"""Replay of Hyperliquid's archive formats: l2Book (lz4), asset_ctxs, node trades/fills.

No archive file ships with the repository, so each test writes one in the documented
format from real data: the l2Book snapshots and trades of the real websocket capture
``btc_ws_20250126.gz``, and the real funding history of ``info/funding_history_None.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from hl_archive_fixtures import (
    FUNDING,
    _block_lines,
    _ctx_lines,
    _iso_ns,
    _l2book_lines,
    _node_fill_lines,
    _node_trade_lines,
    _real_trades,
)
from sources_helpers import COINS, HL_BTC, _all, _need

from appliance.feed.source_stats import ReplayError, check_replay
from appliance.feed.sources import open_source, replay_coins
from appliance.feed.sources.hl_archive import HlArchiveSource
from appliance.feed.sources.hl_archive_io import (
    ASSET_CTXS,
    L2BOOK,
    NODE_FILLS,
    NODE_FILLS_BY_BLOCK,
    NODE_TRADES,
    detect_archive_format,
    iso_to_ns,
    write_lz4_lines,
)
from shm_layout.constants import EV_ASSET_CTX, EV_BOOK, EV_TRADE, FLAG_BOOK_GAP
from shm_layout.records import md_field


def _lz4(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    p = tmp_path / name
    write_lz4_lines(p, lines)
    return p


def _ws_events(kind: int) -> np.ndarray:
    ev = _all(open_source(f"replay:{_need(HL_BTC)}", COINS))
    return ev[ev["kind"] == kind]


# --- l2Book --------------------------------------------------------------------------


def test_replay_when_l2book_archive_then_books_equal_the_websocket_frames(tmp_path):
    path = _lz4(tmp_path, "BTC.lz4", _l2book_lines())
    assert path.read_bytes()[:4] == b"\x04\x22\x4d\x18"  # a real LZ4 frame
    assert detect_archive_format(path) == L2BOOK
    src = open_source(f"replay:{path}", COINS)
    assert isinstance(src, HlArchiveSource)
    ev = _all(src)
    ws = _ws_events(EV_BOOK)
    assert (ev["kind"] == EV_BOOK).all() and len(ev) == len(ws) == 46
    for f in ("exch_ts_ns", "recv_ts_ns", "bid_px", "bid_sz", "ask_px", "ask_sz", "bid_n",
              "ask_n", "n_bids", "n_asks"):
        assert np.array_equal(md_field(ev, f), md_field(ws, f)), f
    s = src.stats
    assert (s.lines, s.events, s.malformed, s.skipped, s.gaps) == (46, 46, 0, 0, 0)
    assert replay_coins(f"replay:{path}") == ["BTC"]


def test_replay_when_l2book_snapshots_two_minutes_apart_then_gap_counted_and_flagged(tmp_path):
    lines = _l2book_lines()[:2]
    later = orjson.loads(lines[1])
    later["raw"]["data"]["time"] += 120_000
    later["time"] = _iso_ns(iso_to_ns(later["time"]) + 120_000_000_000)
    ev = _all(open_source(f"replay:{_lz4(tmp_path, 'g.lz4', [lines[0], orjson.dumps(later)])}", COINS))
    assert list(ev["flags"]) == [0, FLAG_BOOK_GAP]


def test_replay_when_l2book_lines_mutated_then_counted_with_reasons_and_error(tmp_path):
    lines = _l2book_lines()
    bad = lines[:10] + [b'{"time": "x"', lines[10].replace(b'"levels"', b'"lvls"'),
                        lines[11].replace(b'"time":"2025', b'"time":"yesterday')]
    src = open_source(f"replay:{_lz4(tmp_path, 'm.lz4', bad)}", COINS)
    ev = _all(src)
    s = src.stats
    assert (s.lines, s.malformed, len(ev)) == (13, 3, 10)
    assert len(s.malformed_reasons) == 3
    assert s.malformed_reasons[0].startswith("line 11: hl_l2book line did not parse")
    assert "line 12" in s.malformed_reasons[1] and "KeyError" in s.malformed_reasons[1]
    assert "line 13" in s.malformed_reasons[2]
    with pytest.raises(ReplayError, match="3 of 13 lines malformed.*line 11"):
        check_replay(s, src.name, 0.01)
    check_replay(s, src.name, 0.01, allow_malformed=True)


def test_replay_when_lz4_archive_cut_short_then_tail_counted(tmp_path):
    # Two LZ4 frames back to back (as an appended-to file holds), the second cut short:
    # the first frame's lines replay (less at most one 8 KiB read), the cut is counted.
    whole = _lz4(tmp_path, "BTC.lz4", _l2book_lines()).read_bytes()
    cut = tmp_path / "cut.lz4"
    cut.write_bytes(whole + whole[: len(whole) // 2])
    src = open_source(f"replay:{cut}", COINS)
    ev = _all(src)
    assert 40 <= len(ev) < 46
    assert src.stats.malformed == 1 and "damaged" in src.stats.malformed_reasons[-1]


# --- node trades and fills -------------------------------------------------------------


def _assert_trades_equal_ws(ev: np.ndarray, with_tid: bool) -> None:
    real = sorted(_real_trades(), key=lambda t: t["time"])
    assert (ev["kind"] == EV_TRADE).all() and len(ev) == len(real) == 64
    assert list(ev["exch_ts_ns"]) == [t["time"] * 1_000_000 for t in real]
    assert list(ev["px"]) == [float(t["px"]) for t in real]
    assert list(ev["sz"]) == [float(t["sz"]) for t in real]
    assert list(ev["side"]) == [1 if t["side"] == "B" else -1 for t in real]
    if with_tid:
        assert sorted(ev["trade_id"]) == sorted(t["tid"] for t in real)


def test_replay_when_node_trades_then_every_real_trade_once(tmp_path):
    path = _lz4(tmp_path, "10.lz4", _node_trade_lines())
    assert detect_archive_format(path) == NODE_TRADES
    src = open_source(f"replay:{path}", COINS)
    ev = _all(src)
    _assert_trades_equal_ws(ev, with_tid=False)
    assert len(np.unique(ev["trade_id"])) == len(ev)  # line numbers stand in for ids
    assert (src.stats.lines, src.stats.malformed) == (64, 0)


def test_replay_when_node_fills_then_taker_legs_are_the_trades(tmp_path):
    path = _lz4(tmp_path, "11.lz4", _node_fill_lines())
    assert detect_archive_format(path) == NODE_FILLS
    src = open_source(f"replay:{path}", COINS)
    _assert_trades_equal_ws(_all(src), with_tid=True)
    s = src.stats
    assert (s.lines, s.merged, s.malformed) == (128, 64, 0)


def test_replay_when_node_fills_by_block_then_trades_stamped_with_local_time(tmp_path):
    lines = _block_lines()
    path = _lz4(tmp_path, "12.lz4", lines)
    assert detect_archive_format(path) == NODE_FILLS_BY_BLOCK
    src = open_source(f"replay:{path}", COINS)
    ev = _all(src)
    _assert_trades_equal_ws(ev, with_tid=True)
    assert (ev["recv_ts_ns"] == ev["exch_ts_ns"] + 250_000_000).all()
    s = src.stats
    assert (s.lines, s.merged, s.malformed, s.gaps) == (len(lines), 64, 0, 0)


def test_replay_when_fills_of_other_coins_or_bad_fill_then_skipped_and_malformed(tmp_path):
    lines = _block_lines()
    block = orjson.loads(lines[0])
    block["events"].append(["0xabc", {**block["events"][0][1], "coin": "SOL", "tid": 9}])
    block["events"].append(["0xabc", {**block["events"][0][1], "px": "-1", "tid": 10}])
    lines[0] = orjson.dumps(block)
    lines.append(lines[1])  # a block repeated: out of order
    src = open_source(f"replay:{_lz4(tmp_path, 'b.lz4', lines)}", COINS)
    ev = _all(src)
    s = src.stats
    repeated_takers = sum(1 for _, f in orjson.loads(lines[1])["events"] if f["crossed"])
    assert len(ev) == 64 and s.skipped == 1 + repeated_takers  # SOL, the repeated block's
    assert s.malformed == 1 and "1 of" in s.malformed_reasons[0] and "bad price" in s.malformed_reasons[0]
    assert s.gaps == 1


# --- asset_ctxs -------------------------------------------------------------------------


def test_replay_when_asset_ctxs_csv_then_contexts_of_the_coin(tmp_path):
    lines = _ctx_lines()
    path = _lz4(tmp_path, "20230512.csv.lz4", lines)
    assert detect_archive_format(path) == ASSET_CTXS
    assert replay_coins(f"replay:{path}") == ["BTC", "SOL"]
    src = open_source(f"replay:{path}", COINS)
    ev = _all(src)
    rows = orjson.loads(FUNDING.read_bytes())[:50]
    assert (ev["kind"] == EV_ASSET_CTX).all() and len(ev) == 50
    assert list(ev["aux0"]) == [float(r["fundingRate"]) for r in rows]
    assert ev["px"][0] == 27000.0 and ev["aux1"][0] == 26998.0 and ev["sz"][0] == 6000.5
    assert ev["exch_ts_ns"][0] == rows[0]["time"] // 60_000 * 60_000 * 1_000_000
    s = src.stats
    assert (s.lines, s.skipped, s.malformed) == (101, 51, 0)  # the header and 50 SOL rows
    # the 2023 history is 8-hourly: every step is longer than a minute row's gap
    assert s.gaps == 49 and (ev["flags"][1:] == FLAG_BOOK_GAP).all()


def test_replay_when_asset_ctxs_plain_csv_with_bad_rows_then_reasons(tmp_path):
    lines = _ctx_lines()[:5] + [b"2023-05-12T00:00:00Z,BTC,0.1", b"not-a-time,BTC" + b",1" * 10]
    path = tmp_path / "ctx.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    src = open_source(f"replay:{path}", COINS)
    _all(src)
    s = src.stats
    assert s.malformed == 2 and "3 cells, the header has 12" in s.malformed_reasons[0]
    assert "line 7" in s.malformed_reasons[1]


def test_replay_when_csv_header_lacks_columns_then_named_in_reason(tmp_path):
    path = tmp_path / "ctx.csv"
    path.write_bytes(b"time,coin,funding\n2023-05-12T00:00:00Z,BTC,0.1\n")
    src = open_source(f"replay:{path}", COINS)
    assert list(src.chunks()) == []
    with pytest.raises(ReplayError, match="0 events.*header lacks.*open_interest"):
        check_replay(src.stats, src.name, 0.5)


def test_iso_to_ns_when_archive_time_forms_then_exact():
    assert iso_to_ns("2024-08-05T00:00:05.402514755") == 1722816005402514755
    assert iso_to_ns("2024-08-05 00:00:05") == 1722816005_000_000_000
    assert iso_to_ns("2024-08-05T00:00:05Z") == 1722816005_000_000_000
    assert iso_to_ns("2024-08-05T02:00:05.5+02:00") == 1722816005_500_000_000
    with pytest.raises(ValueError):
        iso_to_ns("2024-08-05T00:00:05.12x")
