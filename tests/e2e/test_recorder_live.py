"""The recorder in a running appliance against the local venue (real processes): the
catalog it leaves holds the events the feed published (the md ring's last events,
read from shared memory while trading, are in it, in order), our fills as the venue
has them, for `mmctl history`; DuckDB counts it; and it replays through the backtester
with every recorded event. The run's size and bytes per event are printed
(BENCHMARKS.md), not asserted."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from appliance_helpers import force_cleanup, mmctl, write_config
from hl_e2e_helpers import TRADING_CONFIG, state, venue_info, venue_url, wait_quoting

from appliance.catalog import FILLS, MARKET, files, market_events
from appliance.ipc import ring
from shm_layout import InstanceMemory
from shm_layout.constants import BOOK_DEPTH
from shm_layout.records import md_field

# a cold numba cache: every process compiles first, then the backtester
pytestmark = pytest.mark.timeout(1500)
RUN_S = 45.0
RECORDER = "[recorder]\nenabled = true\nflush_interval_s = 5.0\npoll_interval_ms = 50\n"


def _ring_tail(instance: str) -> np.ndarray:
    """The md ring's events still held, oldest first (a copy), read while trading."""
    mem = InstanceMemory.attach(instance, writable=False, names=["md"])
    try:
        seg = mem.md
        head = int(ring.head(seg.ring_words))
        cap = len(seg.rows)
        first = max(1, head - cap + 1 + 64)  # leave room: the feed keeps writing
        idx = np.arange(first, head + 1) & (cap - 1)
        tail = seg.records[idx].copy()
        return tail[tail["seq"] == np.arange(first, head + 1)]  # drop slots rewritten meanwhile
    finally:
        mem.close()


def test_recorder_when_trading_then_catalog_replays_and_history_has_our_fills(tmp_path):
    instance = f"rec{os.getpid()}"
    cfg, _ = write_config(tmp_path, TRADING_CONFIG + RECORDER)
    catalog = state(tmp_path, instance) / "catalog"
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        url = venue_url(tmp_path, instance)
        assert wait_quoting(url), "no order rests at the venue"
        time.sleep(RUN_S)
        seen = _ring_tail(instance)
        venue_fills = venue_info(url, "userFills")
        time.sleep(2.0)  # the gateway books and publishes what the venue already has
        mmctl("stop", "--instance", instance, "--config", cfg)
    finally:
        force_cleanup(instance)

    status = json.loads((catalog / "recorder.json").read_text())
    assert status["ok"] and status["rows_dropped"] == 0 and status["lost_events"] == 0, status
    recorded = market_events(catalog, ("BTC",))
    assert len(seen) > 100 and len(recorded) >= int(seen["seq"][-1])
    # the feed's events, as the ring held them, are the catalog's, in the same order
    (start,) = np.flatnonzero((recorded["recv_ts_ns"] == seen["recv_ts_ns"][0])
                              & (recorded["exch_ts_ns"] == seen["exch_ts_ns"][0])
                              & (recorded["kind"] == seen["kind"][0]))[:1]
    got = recorded[start : start + len(seen)]
    for f in ("kind", "exch_ts_ns", "recv_ts_ns", "px", "sz", "n_bids", "n_asks"):
        assert np.array_equal(got[f], seen[f]), f
    # a ring slot holds the levels its event uses; past them, bytes of older events
    used = np.arange(BOOK_DEPTH) < np.maximum(seen["n_bids"], seen["n_asks"])[:, None]
    for f in ("bid_px", "ask_px", "bid_sz", "ask_n"):
        assert np.array_equal(md_field(got, f)[used], md_field(seen, f)[used]), f

    hist = mmctl("history", "fills", "--instance", instance, "--config", cfg, "--json")
    ours = [json.loads(ln) for ln in hist.stdout.splitlines()]
    venue = {(f["oid"], float(f["px"]), float(f["sz"])) for f in venue_fills}
    assert {(r["oid"], r["px"], r["sz"]) for r in ours} >= venue  # every venue fill before stop

    duckdb = pytest.importorskip("duckdb")
    n_rows = duckdb.connect().execute(f"SELECT count(*) FROM '{catalog}/**/*.parquet'").fetchone()[0]
    assert n_rows == sum(f.rows for f in files(catalog))

    out = tmp_path / "bt.json"
    bt = mmctl("backtest", "--source", f"replay:{catalog}", "--config", cfg, "--json", out, "--no-progress",
               timeout=900)
    report = json.loads(out.read_text())
    assert bt.returncode == 0 and report["source_stats"]["events"] == len(recorded)
    assert report["source_stats"]["malformed"] == 0

    md_bytes = sum(f.bytes for f in files(catalog, MARKET))
    span_s = (recorded["recv_ts_ns"][-1] - recorded["recv_ts_ns"][0]) / 1e9
    print(f"\nrecorder: {len(recorded):,} market events over {span_s:.0f} s, {md_bytes / 1e6:.2f} MB "
          f"({md_bytes / len(recorded):.1f} B/event, {md_bytes / span_s * 3600 / 1e6:.1f} MB/h); "
          f"{len(ours)} fills ({sum(f.bytes for f in files(catalog, FILLS))} B); "
          f"drain {status['poll_ns_total'] / max(status['polls'], 1) / 1e3:.0f} us/poll over "
          f"{status['polls']} polls")
