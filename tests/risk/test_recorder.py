"""The recorder thread over real shared-memory rings: what the feed and the gateway
publish reaches the catalog, losses when lapped are counted, a full disk is said and
trading state is untouched, and the thread flushes when stopped."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from risk_helpers import fresh_segments
from sources_helpers import COINS, HL_BTC, _all, _need

from appliance.catalog import FILLS, FUNDINGS, MARKET, ORDERS, files, market_events, read_table
from appliance.config import Config
from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from appliance.ipc import byte_rows, ring
from appliance.risk.metrics.recorder import collect_recorder
from appliance.risk.recorder import Recorder
from shm_layout import records
from shm_layout.constants import COIN_UNKNOWN, MD_RING_SLOTS, OE_PLACED, UE_FILL, UE_FUNDING
from shm_layout.records import md_field


@pytest.fixture
def mem():
    with fresh_segments("rec") as m:
        yield m


def _cfg(tmp_path, **rec) -> Config:
    c = Config()
    return dataclasses.replace(
        c, appliance=dataclasses.replace(c.appliance, coins=COINS, state_dir=str(tmp_path / "state")),
        recorder=dataclasses.replace(c.recorder, enabled=True, dir=str(tmp_path / "cat"), **rec))


def _publish(seg, recs: np.ndarray) -> None:
    recs = np.ascontiguousarray(recs)
    ring.publish_many(seg.ring_words, seg.seqs, seg.rows, byte_rows(recs), 0, len(recs), 1)


def _market() -> np.ndarray:
    return concat_events([_all(open_source(f"replay:{_need(HL_BTC)}", COINS))])


def test_recorder_when_rings_published_then_catalog_holds_them(tmp_path, mem):
    rec = Recorder(_cfg(tmp_path), "t", mem)
    ev = _market()
    _publish(mem.md, ev)
    f = np.zeros(3, records.FILL_EVENT)
    f["coin"], f["side"], f["oid"], f["px"], f["sz"] = 0, [1, -1, 1], [7, 8, 9], 105_000.0, 0.01
    f["ts_ns"] = 1_737_918_850_000_000_000 + np.arange(3)
    _publish(mem.fills, f)
    o = np.zeros(1, records.ORDER_EVENT)
    o["kind"], o["px"], o["mono_ns"] = OE_PLACED, 104_990.0, 1_000
    _publish(mem.orders, o)
    rec.poll()
    rec.flush()
    got = market_events(rec.root, COINS)
    assert len(got) == len(ev) == 80
    for name in ("kind", "exch_ts_ns", "recv_ts_ns", "px", "sz", "bid_px", "ask_sz", "bid_n"):
        assert np.array_equal(md_field(got, name), md_field(ev, name)), name
    assert read_table(rec.root, FILLS).column("oid").to_pylist() == [7, 8, 9]
    assert read_table(rec.root, ORDERS).column("event").to_pylist() == ["placed"]
    status = json.loads(rec.status_path.read_text())
    assert status["ok"] and status["rows_written"] == 84 and status["lost_events"] == 0


def test_recorder_when_lapped_then_loss_counted_in_status_and_file(tmp_path, mem):
    rec = Recorder(_cfg(tmp_path), "t", mem)
    ev = _market()
    many = concat_events([ev] * (MD_RING_SLOTS // len(ev) + 2))  # more than the ring holds
    _publish(mem.md, many)
    rec.poll()
    rec.flush()
    lost = rec.writer.status.lost_events
    assert lost > 0 and lost + rec.writer.status.rows_written == len(many)
    assert sum(fi.lost_events for fi in files(rec.root, MARKET)) == lost


def test_recorder_when_disk_floor_then_said_in_status_and_metrics_rings_untouched(tmp_path, mem):
    rec = Recorder(_cfg(tmp_path, min_free_gb=1e9), "t", mem)  # a floor no disk meets
    _publish(mem.md, _market())
    head_before = int(ring.head(mem.md.ring_words))
    rec.poll()
    rec.flush()
    st = rec.status()
    assert not st["ok"] and st["rows_dropped"] == 80 and "free" in st["last_error"]
    assert files(rec.root) == []
    fams = {f.name: f for f in collect_recorder(st)}
    assert fams["mm_recorder_ok"].samples[0].value == 0.0
    assert fams["mm_recorder_rows_dropped"].samples[0].value == 80.0
    # the ring (what the estimator, quote and gateway read) is as it was
    assert int(ring.head(mem.md.ring_words)) == head_before


def test_recorder_thread_when_stopped_then_buffer_flushed(tmp_path, mem):
    rec = Recorder(_cfg(tmp_path, poll_interval_ms=10, flush_interval_s=3600.0), "t", mem)
    rec.start()
    _publish(mem.md, _market())
    rec.stop()
    assert not rec._thread.is_alive()
    assert len(market_events(rec.root, COINS)) == 80


def _funding(coin: int, time_ms: int, usdc: float, szi: float, rate: float, snap: int = 0) -> np.ndarray:
    u = np.zeros(1, records.USER_EVENT)
    u["kind"], u["coin"], u["time_ms"], u["is_snapshot"] = UE_FUNDING, coin, time_ms, snap
    u["usdc"], u["szi"], u["funding_rate"] = usdc, szi, rate
    u["recv_ts_ns"] = max(time_ms, 1) * 1_000_000 + 2_000_000_000
    return u


def test_recorder_when_user_ring_fundings_then_each_payment_once_in_fundings(tmp_path, mem):
    # Arrange: two payments an hour apart, each on both channels (the `user` copy has no
    # time), the first repeated by a resubscribe's snapshot; a fill event and a payment
    # of a coin we do not trade, neither a funding of ours
    hour_ms = 1_737_918_000_000
    ev = [_funding(0, hour_ms, -0.0125, 0.01, 1.25e-5), _funding(0, 0, -0.0125, 0.01, 1.25e-5),
          _funding(0, hour_ms, -0.0125, 0.01, 1.25e-5, snap=1),
          _funding(0, hour_ms + 3_600_000, 0.004, -0.02, -2e-6), _funding(0, 0, 0.004, -0.02, -2e-6),
          _funding(COIN_UNKNOWN, hour_ms, 1.0, 5.0, 1e-5)]
    fill = np.zeros(1, records.USER_EVENT)
    fill["kind"], fill["time_ms"], fill["px"] = UE_FILL, hour_ms, 105_000.0
    _publish(mem.user_ring, np.concatenate([*ev[:3], fill, *ev[3:]]))
    rec = Recorder(_cfg(tmp_path), "t", mem)
    # Act
    rec.poll()
    rec.flush()
    _publish(mem.user_ring, _funding(0, hour_ms, -0.0125, 0.01, 1.25e-5, snap=1))  # another resubscribe
    rec.poll()
    rec.flush()
    # Assert
    t = read_table(rec.root, FUNDINGS)
    hours_ns = [hour_ms * 1_000_000, (hour_ms + 3_600_000) * 1_000_000]
    assert t.column("ts").cast("int64").to_pylist() == hours_ns
    assert t.column("payment_usd").to_pylist() == [-0.0125, 0.004]
    assert t.column("position_sz").to_pylist() == [0.01, -0.02]
    assert t.column("funding_rate").to_pylist() == [1.25e-5, -2e-6]
    assert t.column("kind").to_pylist() == ["funding", "funding"]
    assert t.column("coin").to_pylist() == [COINS[0]] * 2
    assert [f.kind for f in files(rec.root)] == [FUNDINGS]
