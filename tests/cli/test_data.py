"""mmctl data as a subprocess: generate, convert, info, and the errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import orjson
from hl_archive_fixtures import _block_lines
from sources_helpers import HL_BTC, REPO_ROOT, _need

from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from appliance.feed.sources.hl_archive_io import write_lz4_lines


def _mmctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "data", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )


def _all(src) -> np.ndarray:
    return concat_events(list(src.chunks(4096)))


def test_generate_when_scenario_given_then_file_replays_the_same_stream(tmp_path):
    out = tmp_path / "sell.parquet"
    r = _mmctl("generate", "synthetic:trend_selloff", str(out), "--seed", "7",
               "--duration", "90", "--coins", "BTC,ETH", "--json")
    assert r.returncode == 0, r.stderr
    info = orjson.loads(r.stdout)
    want = _all(open_source("synthetic:trend_selloff", ["BTC", "ETH"], seed=7, duration_s=90))
    assert info["events"] == len(want) and info["coins"] == ["BTC", "ETH"]
    got = _all(open_source(f"replay:{out}", ["BTC", "ETH"]))
    assert got.tobytes() == want.tobytes()
    r = _mmctl("info", str(out))
    assert r.returncode == 0 and "synthetic:trend_selloff" in r.stdout


def test_convert_when_hyperliquid_capture_then_stats_printed_and_events_stored(tmp_path):
    _need(HL_BTC)
    out = tmp_path / "hl.parquet"
    r = _mmctl("convert", str(HL_BTC), str(out))
    assert r.returncode == 0, r.stderr
    assert "events" in r.stdout and "malformed" in r.stdout and "gaps" in r.stdout
    want = _all(open_source(f"replay:{HL_BTC}", ["BTC"]))
    assert _all(open_source(f"replay:{out}", ["BTC"])).tobytes() == want.tobytes()


def test_cli_when_input_missing_or_scenario_unknown_then_clear_error(tmp_path):
    r = _mmctl("convert", str(tmp_path / "nope.gz"), str(tmp_path / "o.parquet"))
    assert r.returncode != 0 and "capture not found" in r.stderr
    r = _mmctl("generate", "synthetic:meltdown", str(tmp_path / "o.parquet"))
    assert r.returncode != 0 and "unknown scenario" in r.stderr and "toxic_burst" in r.stderr
    r = _mmctl("generate", "synthetic:quiet", str(tmp_path / "no_dir" / "o.parquet"), "--duration", "5")
    assert r.returncode != 0 and "does not exist" in r.stderr
    r = _mmctl("--help")
    assert r.returncode == 0 and "convert" in r.stdout and "generate" in r.stdout


def test_convert_when_node_fills_by_block_archive_then_trades_stored(tmp_path):
    src = tmp_path / "20.lz4"
    write_lz4_lines(src, _block_lines())
    out = tmp_path / "t.parquet"
    r = _mmctl("convert", str(src), str(out), "--json")
    assert r.returncode == 0, r.stderr
    info = orjson.loads(r.stdout)
    assert info["coins"] == ["BTC"] and info["events"] == 64 and info["kinds"]["trade"] == 64
    assert info["merged"] == 64 and info["malformed"] == 0
