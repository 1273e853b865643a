"""Parquet store: byte-identical round trips of captures and scenarios, detection, remapping."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sources_helpers import BN_BTC, HL_BTC, _need

from appliance.feed.events import concat_events, take_events
from appliance.feed.sources import open_source
from appliance.feed.sources.parquet_store import (
    ParquetReplaySource,
    md_event_hash,
    read_metadata,
    write_events,
)
from shm_layout.records import MD_EVENT


def _all(src, max_events: int = 4096) -> np.ndarray:
    return concat_events(list(src.chunks(max_events)))


def _round_trip(spec: str, coins, tmp_path, **kw) -> tuple[np.ndarray, np.ndarray, str]:
    src = open_source(spec, coins, **kw)
    original = _all(src)
    out = tmp_path / "events.parquet"
    n = write_events(out, src.chunks(1000), src.coins, spec, src.stats)
    assert n == len(original)
    back = _all(open_source(f"replay:{out}", coins), max_events=777)
    return original, back, str(out)


def test_round_trip_when_scenario_stored_then_byte_identical(tmp_path):
    a, b, path = _round_trip("synthetic:liquidation_cascade", ["BTC", "ETH"], tmp_path,
                             seed=3, duration_s=1100)
    assert b.dtype == MD_EVENT and a.tobytes() == b.tobytes()
    meta = read_metadata(path)
    assert meta["mm.coins"] == ("BTC", "ETH")
    assert meta["mm.source"] == "synthetic:liquidation_cascade"
    assert meta["mm.md_event_hash"] == md_event_hash()
    assert meta["mm.events"] == str(len(a))
    assert meta["mm.stats"]["events"] == len(a)


def test_round_trip_when_hyperliquid_capture_stored_then_byte_identical(tmp_path):
    _need(HL_BTC)
    a, b, _ = _round_trip(f"replay:{HL_BTC}", ["BTC"], tmp_path)
    assert len(a) > 0 and a.tobytes() == b.tobytes()


def test_round_trip_when_binance_capture_stored_then_byte_identical(tmp_path):
    _need(BN_BTC)
    a, b, path = _round_trip(f"replay:{BN_BTC}", ["BTC"], tmp_path)
    assert len(a) > 50_000 and a.tobytes() == b.tobytes()
    assert set(read_metadata(path)["mm.stats"]) >= {"malformed", "gaps", "events"}


def test_replay_when_coins_subset_then_remapped_and_others_skipped(tmp_path):
    src = open_source("synthetic:quiet", ["BTC", "ETH"], seed=1, duration_s=60)
    full = _all(src)
    out = tmp_path / "two.parquet"
    write_events(out, [full], src.coins, "synthetic:quiet")
    eth = ParquetReplaySource(out, ["ETH"])
    got = _all(eth)
    want = take_events(full, full["coin"] == 1)
    want["coin"] = 0
    assert got.tobytes() == want.tobytes()
    assert eth.stats.skipped == int((full["coin"] == 0).sum())
    with pytest.raises(ValueError, match="none of the coins"):
        ParquetReplaySource(out, ["SOL"])


def test_open_source_when_parquet_without_extension_then_detected_by_magic(tmp_path):
    src = open_source("synthetic:toxic_burst", ["BTC"], seed=2, duration_s=30)
    ev = _all(src)
    out = tmp_path / "events.bin"
    write_events(out, [ev], src.coins, "x")
    assert _all(open_source(f"replay:{out}", ["BTC"])).tobytes() == ev.tobytes()


def test_replay_when_parquet_is_not_an_event_file_then_clear_error(tmp_path):
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), other)
    with pytest.raises(ValueError, match="not a stored MD_EVENT file"):
        open_source(f"replay:{other}", ["BTC"])
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="cannot read Parquet"):
        open_source(f"replay:{bad}", ["BTC"])


def test_writer_when_records_lost_trailing_padding_then_stored_as_md_event(tmp_path):
    # numpy 2 concatenation drops the records' trailing padding (880-byte items).
    src = open_source("synthetic:quiet", ["BTC"], seed=9, duration_s=20)
    chunks = list(src.chunks(500))
    loose = np.concatenate(chunks)
    assert loose.dtype.itemsize != MD_EVENT.itemsize
    out = tmp_path / "loose.parquet"
    write_events(out, [loose], ["BTC"], "x")
    assert _all(open_source(f"replay:{out}", ["BTC"])).tobytes() == concat_events(chunks).tobytes()


def _with_hash(path, out, value: str) -> None:
    t = pq.read_table(path)
    meta = {k: v for k, v in pq.read_metadata(path).metadata.items() if k.startswith(b"mm.")}
    meta[b"mm.md_event_hash"] = value.encode()
    pq.write_table(t.replace_schema_metadata(meta), out)


def test_replay_when_file_from_before_interleaved_levels_then_read_as_written(tmp_path):
    # issue 18 interleaved MD_EVENT's book levels; the stored columns did not change, so
    # a file stamped with the old layout's hash reads back the same events
    a, _, path = _round_trip("synthetic:quiet", ["BTC"], tmp_path, seed=5, duration_s=120)
    old = tmp_path / "old.parquet"
    _with_hash(path, old, "55b099170569971b")
    assert _all(ParquetReplaySource(old, ["BTC"])).tobytes() == a.tobytes()
    other = tmp_path / "other.parquet"
    _with_hash(path, other, "0123456789abcdef")
    with pytest.raises(ValueError, match="another MD_EVENT layout"):
        ParquetReplaySource(other, ["BTC"])
