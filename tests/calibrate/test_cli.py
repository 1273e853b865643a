"""`mmctl calibrate` as a user runs it: a real capture slice end to end, the overlay
accepted by `mmctl backtest --config`, and bad input as a message, never a traceback."""

from __future__ import annotations

import gzip
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from appliance.config import load_config
from shm_layout.estimators.drift_kalman import DriftKalmanConfig

ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the checkout (a worktree one level deeper finds it too)
DATA = next((p for p in (ROOT / ".." / "shared" / "data", ROOT / ".." / ".." / "shared" / "data")
             if p.is_dir()), ROOT / ".." / "shared" / "data")
BN_BTC = DATA / "binance_usdm" / "btcusdt_20240808.gz"


def mmctl(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _slice(tmp_path: Path, seconds: float, name: str = "slice.gz") -> Path:
    """The first ``seconds`` of the Binance USD-M BTCUSDT capture, as a capture file."""
    if not BN_BTC.is_file():
        pytest.skip(f"recorded market data missing: {BN_BTC} (see ../shared/data/README.md)")
    out = tmp_path / name
    with gzip.open(BN_BTC, "rb") as src, gzip.open(out, "wb") as dst:
        t0 = None
        for line in src:
            t = int(line.split(b" ", 1)[0])
            t0 = t if t0 is None else t0
            if t - t0 > seconds * 1e9:
                break
            dst.write(line)
    return out


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


@pytest.mark.timeout(1800)  # a cold numba cache compiles the estimator replay and the backtester
def test_calibrate_when_real_capture_slice_then_overlay_table_report_and_backtest_accepts_it(tmp_path):
    cap = _slice(tmp_path, 90.0)
    out, rep = tmp_path / "params.toml", tmp_path / "report"
    r = mmctl("calibrate", "--data", str(cap), "--out", str(out), "--report", str(rep),
              "--train-frac", "0.7", "--no-progress")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.startswith("# Calibrated by `mmctl calibrate`") and "slice.gz" in text
    fitted = tomllib.loads(text)["estimator"]
    assert {"hawkes", "adverse_selection", "kappa", "drift", "vol"} <= set(fitted)
    assert fitted["hawkes"]["mu_prior_per_s"] > 0 and fitted["hawkes"]["mu_sell_prior_per_s"] > 0
    # one factor on every observation scale, in [0, 1]
    scale = fitted["drift"]["alpha_flow"] / DriftKalmanConfig().alpha_flow
    assert 0.0 <= scale <= 1.0 and fitted["book"]["alpha_bim"] == pytest.approx(0.3 * scale, rel=1e-5)
    cfg = load_config(out)  # the loader takes it as it is
    assert cfg.estimator.hawkes.beta_prior_per_s == pytest.approx(fitted["hawkes"]["beta_prior_per_s"])
    for needle in ("default in", "calibrated out", "hawkes buy", "AS market fills", "kappa bid",
                   "AS own fills (backtest)", "drift observation scale", "not fitted"):
        assert needle in r.stdout
    page = (rep / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 3 and "src='http" not in page
    assert sorted(p.name for p in rep.glob("*.png"))
    b = mmctl("backtest", "--source", f"replay:{cap}", "--config", str(out), "--no-progress")
    assert b.returncode == 0, b.stderr
    assert "fills" in b.stdout


def test_calibrate_when_data_file_missing_then_clear_error(tmp_path):
    r = mmctl("calibrate", "--data", str(tmp_path / "nope.gz"), "--out", str(tmp_path / "p.toml"))
    _no_traceback(r)
    assert "data file not found" in r.stderr


def test_calibrate_when_file_corrupt_then_clear_error(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 8)  # gzip magic, garbage after
    r = mmctl("calibrate", "--data", str(bad), "--out", str(tmp_path / "p.toml"), "--coin", "BTC")
    _no_traceback(r)
    assert "bad.gz" in r.stderr
    txt = tmp_path / "junk.txt"
    txt.write_text("this is not a capture\n" * 50)
    r = mmctl("calibrate", "--data", str(txt), "--out", str(tmp_path / "p.toml"))
    _no_traceback(r)
    assert "junk.txt" in r.stderr
    assert not (tmp_path / "p.toml").exists()


def test_calibrate_when_too_few_events_then_clear_error_and_no_overlay(tmp_path):
    cap = _slice(tmp_path, 0.5, "tiny.gz")
    out = tmp_path / "p.toml"
    r = mmctl("calibrate", "--data", str(cap), "--out", str(out), "--no-progress", "--no-backtests")
    _no_traceback(r)
    assert "no model could be fitted" in r.stderr and "at least" in r.stderr
    assert not out.exists()
