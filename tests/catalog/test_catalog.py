"""The recorder catalog: real market events in, the same events out (through the
replay too), readable by DuckDB and pandas; a full disk said and survived; retention."""

from __future__ import annotations

import os
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from sources_helpers import BN_BTC, COINS, HL_BTC, _all, _need

from appliance.calibrate.data import load_events
from appliance.catalog import FILLS, MARKET, ORDERS, CatalogWriter, files, market_events, read_table, summary
from appliance.feed.sources import open_source, replay_coins
from appliance.feed.sources.catalog_replay import CatalogReplaySource
from shm_layout import records
from shm_layout.constants import END_CANCELLED, OE_ENDED, OE_PLACED

# fields a recording must give back exactly (seq and pub_mono_ns are the ring's own)
_FIELDS = [n for n in records.MD_COLUMNS if n not in ("seq", "pub_mono_ns")]


def _real_market() -> np.ndarray:
    """Real events of two coins, in receive order: the Hyperliquid BTC capture's books and
    trades, and the first 20,000 of Binance ETH... as coin 1."""
    hl = _all(open_source(f"replay:{_need(HL_BTC)}", COINS))
    bn = _all(open_source(f"replay:{_need(BN_BTC)}", ("ETH", "BTC")))[:20_000]
    bn = bn[bn["coin"] == 1].copy()
    bn["coin"] = 1  # recorded as ETH: a second coin with depth and bbo events
    ev = np.concatenate([hl, bn])
    return ev[np.argsort(ev["recv_ts_ns"], kind="stable")]


def _assert_same(a: np.ndarray, b: np.ndarray) -> None:
    assert len(a) == len(b)
    for f in _FIELDS:
        assert np.array_equal(records.md_field(a, f), records.md_field(b, f)), f


def test_catalog_when_real_events_recorded_then_read_back_identical(tmp_path):
    ev = _real_market()
    w = CatalogWriter(tmp_path, COINS)
    for part in np.array_split(ev, 7):  # seven polls, two flushes
        w.add(MARKET, part)
        if w.pending_rows() > len(ev) // 2:
            w.flush()
    w.flush()
    assert w.status.ok and w.status.rows_written == len(ev)
    _assert_same(market_events(tmp_path, COINS), ev)
    # One coin alone, and the layout: <kind>/<day>/<coin>/
    btc = market_events(tmp_path, ("BTC",))
    _assert_same(btc, ev[ev["coin"] == 0])
    f = files(tmp_path, MARKET, "ETH")[0]
    assert f.path.startswith(str(tmp_path / "market" / "2024-08-08" / "ETH"))


def test_replay_when_catalog_dir_then_the_recorded_events(tmp_path):
    ev = _real_market()
    w = CatalogWriter(tmp_path, COINS)
    w.add(MARKET, ev, lost=3)
    w.flush()
    assert sorted(replay_coins(f"replay:{tmp_path}")) == ["BTC", "ETH"]
    src = open_source(f"replay:{tmp_path}", COINS)
    assert isinstance(src, CatalogReplaySource)
    _assert_same(_all(src), ev)
    assert (src.stats.lines, src.stats.events) == (len(ev), len(ev))
    assert src.stats.gaps == 1  # the file that carries the lost ring events
    one = open_source(f"replay:{tmp_path / 'market'}", ("BTC",))
    assert one.stats.events == 0 and len(_all(one)) == (ev["coin"] == 0).sum()
    assert one.stats.skipped == (ev["coin"] == 1).sum()


def test_catalog_when_read_by_duckdb_and_pandas_then_named_columns(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    ev = _real_market()
    w = CatalogWriter(tmp_path, COINS)
    w.add(MARKET, ev)
    w.flush()
    con = duckdb.connect()
    glob = f"{tmp_path}/**/*.parquet"
    assert con.execute(f"SELECT count(*) FROM '{glob}'").fetchone()[0] == len(ev)
    rows = con.execute(f"SELECT coin, event, count(*) FROM '{glob}' GROUP BY ALL ORDER BY ALL").fetchall()
    n = {(c, e): k for c, e, k in rows}
    assert n[("BTC", "book")] == 46 and n[("BTC", "trade")] == 34
    assert sum(k for (c, _), k in n.items() if c == "ETH") == (ev["coin"] == 1).sum()
    best = con.execute(f"SELECT bid_px[1], ts FROM '{glob}' WHERE coin='BTC' AND event='book' "
                       "ORDER BY recv_ts LIMIT 1").fetchone()
    assert best[0] == 105055.0 and best[1].year == 2025
    df = pq.read_table(files(tmp_path, MARKET, "BTC")[0].path).to_pandas()
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]" and set(df["event"]) == {"book", "trade"}


def _fills(n: int) -> np.ndarray:
    f = np.zeros(n, records.FILL_EVENT)
    f["coin"] = np.arange(n) % 2
    f["side"] = np.where(np.arange(n) % 3, 1, -1)
    f["is_maker"] = 1
    f["ts_ns"] = 1_764_000_000_000_000_000 + np.arange(n) * 1_000_000_000
    f["oid"] = 1000 + np.arange(n)
    f["px"], f["sz"], f["fee_usd"] = 100_000.0, 0.001, -0.0015
    return f


def test_catalog_when_fills_and_orders_then_readable_names_and_times(tmp_path):
    w = CatalogWriter(tmp_path, COINS)
    w.add(FILLS, _fills(6))
    o = np.zeros(2, records.ORDER_EVENT)
    o["kind"] = [OE_PLACED, OE_ENDED]
    o["end_reason"] = [0, END_CANCELLED]
    o["side"], o["px"], o["key"] = 1, 99_990.0, 42
    o["mono_ns"] = [5_000_000_000, 6_000_000_000]
    w.add(ORDERS, o)
    w.flush()
    fills = read_table(tmp_path, FILLS, ["ETH"]).to_pylist()
    assert [r["oid"] for r in fills] == [1001, 1003, 1005] and fills[0]["coin"] == "ETH"
    assert fills[0]["fee_usd"] == -0.0015 and fills[0]["is_maker"] is True
    orders = read_table(tmp_path, ORDERS).to_pylist()
    assert [(r["event"], r["end_reason"]) for r in orders] == [("placed", "none"), ("ended", "cancelled")]
    assert (orders[1]["ts"] - orders[0]["ts"]).total_seconds() == 1.0
    spans = {(s.kind, s.coin): s for s in summary(tmp_path)}
    assert spans[(FILLS, "BTC")].rows == 3 and spans[(ORDERS, "BTC")].rows == 2


def test_writer_when_disk_below_floor_then_rows_dropped_said_and_recovers(tmp_path, caplog):
    w = CatalogWriter(tmp_path, COINS, min_free_bytes=1 << 62)  # more than any disk has
    w.add(FILLS, _fills(4))
    assert w.flush() == 0
    st = w.status
    assert not st.ok and st.rows_dropped == 4 and "free on the catalog's disk" in st.last_error
    assert "NOT recorded" in caplog.text
    assert files(tmp_path) == []
    w.min_free_bytes = 0
    w.add(FILLS, _fills(2))
    assert w.flush() == 2 and w.status.ok and w.status.rows_written == 2


def test_writer_when_past_retention_or_size_then_oldest_deleted(tmp_path):
    old = tmp_path / FILLS / "2001-01-01" / "BTC"
    old.mkdir(parents=True)
    (old / "x.parquet").write_bytes(b"old")
    os.utime(old / "x.parquet", (time.time() - 31 * 86_400,) * 2)  # written 31 days ago
    w = CatalogWriter(tmp_path, COINS, retention_days=30)
    w.add(FILLS, _fills(2))
    w.flush()
    assert not (tmp_path / FILLS / "2001-01-01").exists() and w.status.files_deleted == 1
    assert len(files(tmp_path)) == 2  # this flush's (data of 2025, written now) kept
    w2 = CatalogWriter(tmp_path, COINS, max_bytes=1)
    w2.add(FILLS, _fills(2)[:1])
    w2.flush()
    assert len(files(tmp_path)) == 0 and w2.status.files_deleted >= 2


def test_replay_when_recorder_restarted_and_rerecorded_then_each_event_once_in_order(tmp_path):
    ev = _real_market()
    half = len(ev) // 2
    w = CatalogWriter(tmp_path, COINS)
    for part in np.array_split(ev[:half], 4):  # four flushes
        w.add(MARKET, part)
        w.flush()
    # a restarted risk process drains the ring from its oldest event again
    w2 = CatalogWriter(tmp_path, COINS)
    w2.add(MARKET, ev[half - 500 :])
    w2.flush()
    src = open_source(f"replay:{tmp_path}", COINS)
    got = _all(src, max_events=333)
    _assert_same(got, ev)
    assert src.stats.lines == len(ev) + 500 and src.stats.skipped == 500
    assert (np.diff(got["recv_ts_ns"]) >= 0).all()


def test_calibrate_data_when_catalog_dir_then_its_events(tmp_path):
    ev = _real_market()
    w = CatalogWriter(tmp_path, COINS)
    w.add(MARKET, ev)
    w.flush()
    got, stats = load_events(str(tmp_path), "BTC")
    _assert_same(got, ev[ev["coin"] == 0])
    assert stats["events"] == (ev["coin"] == 0).sum()


def test_summary_when_market_files_minutes_apart_then_gap_listed_fills_none(tmp_path):
    ev = _real_market()
    btc = ev[ev["coin"] == 0]  # the Hyperliquid capture: 2025-01-26, about 50 s
    later = btc.copy()
    for f in ("exch_ts_ns", "recv_ts_ns"):
        later[f] += 600 * 1_000_000_000  # ten minutes on
    w = CatalogWriter(tmp_path, COINS)
    for part in (btc, later):
        w.add(MARKET, part)
        f = _fills(2)
        f["ts_ns"] = part["exch_ts_ns"][-1]
        w.add(FILLS, f)
        w.flush()
    spans = {(s.kind, s.coin): s for s in summary(tmp_path, gap_s=120.0)}
    (gap,) = spans[(MARKET, "BTC")].gaps
    assert gap == (int(btc["exch_ts_ns"].max()), int(later["exch_ts_ns"].min()))
    assert spans[(FILLS, "BTC")].gaps == []
