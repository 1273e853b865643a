"""`mmctl backtest` and `mmctl bench backtest` as a user runs them: a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

from hl_archive_fixtures import _l2book_lines

from appliance.feed.sources.hl_archive_io import write_lz4_lines

ROOT = Path(__file__).resolve().parents[2]


def mmctl(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=120)


def _short_config(tmp_path: Path) -> Path:
    p = tmp_path / "bt.toml"
    p.write_text(
        "[feed]\nsynthetic_sigma_bps_per_sqrt_s = 20.0\nsynthetic_events_per_s = 200.0\n"
        "[backtest]\nsynthetic_duration_s = 60.0\n"
    )
    return p


def test_backtest_when_synthetic_with_json_and_plot_then_report_file_and_png(tmp_path):
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    r = mmctl("backtest", "--source", "synthetic", "--config", str(_short_config(tmp_path)),
              "--seed", "4", "--coin", "BTC", "--preset", "unified", "--json", str(out),
              "--plot", str(png))
    assert r.returncode == 0, r.stderr
    assert "digest" in r.stdout and "markout" in r.stdout
    rep = json.loads(out.read_text())
    assert rep["seed"] == 4 and rep["source"] == "synthetic" and rep["preset"] == "unified"
    assert rep["fills"] > 0 and set(rep["markout_bps"]) == {"0.5s", "1s", "2s", "5s", "10s", "30s"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_backtest_when_bad_preset_then_usage_error_naming_it():
    r = mmctl("backtest", "--source", "synthetic", "--preset", "fancy")
    assert r.returncode == 2
    assert "unknown preset 'fancy'" in r.stderr and "unified" in r.stderr


def test_backtest_when_bad_source_then_clear_error():
    r = mmctl("backtest", "--source", "replay:/nonexistent/x.gz")
    assert r.returncode == 1 and "replay capture not found" in r.stderr
    r = mmctl("backtest", "--source", "tape:x")
    assert r.returncode == 1 and "unknown market source" in r.stderr


def test_backtest_when_bad_config_then_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[backtest]\nqueue_model = \"fifo\"\n")
    r = mmctl("backtest", "--source", "synthetic", "--config", str(bad))
    assert r.returncode == 1 and "backtest.queue_model" in r.stderr
    r = mmctl("backtest", "--source", "synthetic", "--config", str(tmp_path / "missing.toml"))
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_bench_backtest_when_capture_missing_then_clear_error(tmp_path):
    r = mmctl("bench", "backtest", "--source", str(tmp_path / "none.gz"))
    assert r.returncode == 1 and "capture not found" in r.stderr


def _capture_slice(rel: str, dst: Path, n: int, corrupt_every: int = 0) -> Path:
    import gzip

    import pytest

    src = ROOT.parent / "shared" / "data" / rel
    if not src.is_file():
        pytest.skip(f"real capture missing: {src}")
    with gzip.open(src, "rb") as f:
        lines = [next(f) for _ in range(n)]
    if corrupt_every:
        lines = [ln[:20] + b"\n" if i % corrupt_every == 0 else ln for i, ln in enumerate(lines)]
    dst.write_bytes(b"".join(lines))
    return dst


def test_backtest_when_eth_capture_then_eth_traded_and_what_was_read_printed(tmp_path):
    path = _capture_slice("binance_cm/ethusd_perp_20240808.gz", tmp_path / "eth.txt", 3000)
    out = tmp_path / "r.json"
    r = mmctl("backtest", "--source", f"replay:{path}", "--instrument", "contract_usd=20",
              "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "coin ETH" in r.stdout and "read       3,000 lines" in r.stdout
    assert "instrument binance_cm ETHUSD_PERP: inverse, sizes contracts of 20 USD" in r.stdout
    rep = json.loads(out.read_text())
    assert rep["source_stats"]["lines"] == 3000
    assert rep["instrument"]["facts"]["overrides"] == ["contract_usd=20"]


def test_backtest_when_capture_mostly_corrupt_then_fails_naming_why_unless_allowed(tmp_path):
    path = _capture_slice("binance_spot/ethusdt_20240808.gz", tmp_path / "bad.txt", 2000,
                          corrupt_every=10)
    r = mmctl("backtest", "--source", f"replay:{path}")
    assert r.returncode == 1
    assert "200 of 2,000 lines malformed" in r.stderr and "--allow-malformed" in r.stderr
    r = mmctl("backtest", "--source", f"replay:{path}", "--allow-malformed")
    assert r.returncode == 0, r.stderr
    assert "200 malformed" in r.stdout
    assert "malformed: line 1: not '<receive time, ns> <frame JSON>'" in r.stdout


def test_backtest_when_hyperliquid_archive_l2book_then_replayed_and_corrupt_one_refused(tmp_path):
    lines = _l2book_lines()
    good = tmp_path / "BTC.lz4"
    write_lz4_lines(good, lines)
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "appliance.cli", "backtest", "--source", f"replay:{good}",
                        "--json", str(out), "--no-progress"], cwd=ROOT, capture_output=True, text=True,
                       timeout=900)  # a cold numba cache compiles the backtester first
    assert r.returncode == 0, r.stderr
    rep = json.loads(out.read_text())
    assert rep["coin"] == "BTC" and rep["orders_placed"] > 0
    st = rep["source_stats"]
    assert (st["lines"], st["events"], st["malformed"]) == (46, 46, 0)

    bad = tmp_path / "bad.lz4"
    write_lz4_lines(bad, lines[:10] + [ln.replace(b'"px"', b'"p")') for ln in lines[10:]])
    r = subprocess.run([sys.executable, "-m", "appliance.cli", "backtest", "--source", f"replay:{bad}",
                        "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 1 and "36 of 46 lines malformed" in r.stderr and "line 11" in r.stderr
