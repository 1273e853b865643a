"""The backtest over replays: the file's coin, source_stats as read, the replay check
(0 events, too many malformed lines) and the instrument in the report."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from appliance.backtest import run_backtest
from appliance.config import load_config

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
USDM_ETH = DATA / "binance_usdm" / "ethusdt_20240808.gz"
CM_BTC = DATA / "binance_cm" / "btcusd_perp_20240808.gz"
SPOT_BTC = DATA / "binance_spot" / "btcusdt_20240808.gz"


def _slice(src: Path, dst: Path, n: int, corrupt_every: int = 0) -> Path:
    """The first ``n`` lines of a capture; every ``corrupt_every``-th frame cut in half."""
    if not src.is_file():
        pytest.skip(f"real capture missing: {src} (../shared/data not mounted)")
    with gzip.open(src, "rb") as f:
        lines = [next(f) for _ in range(n)]
    if corrupt_every:
        lines = [ln[: len(ln) // 2] + b"\n" if i % corrupt_every == corrupt_every - 1 else ln
                 for i, ln in enumerate(lines)]
    dst.write_bytes(b"".join(lines))
    return dst


def test_backtest_when_eth_capture_and_no_coin_then_replayed_as_eth(tmp_path):
    path = _slice(USDM_ETH, tmp_path / "eth.txt", 4000)
    r = run_backtest(f"replay:{path}").report  # the config's first coin is BTC
    assert r["coin"] == "ETH" and r["events"] > 3000
    s = r["source_stats"]
    assert s["lines"] == 4000 and s["events"] == r["events"]
    assert r["instrument"]["facts"]["symbol"] == "ETHUSDT"


def test_backtest_when_coin_not_in_the_capture_then_error_naming_both(tmp_path):
    path = _slice(USDM_ETH, tmp_path / "eth.txt", 500)
    with pytest.raises(ValueError, match="holds ETH, not BTC"):
        run_backtest(f"replay:{path}", coin="BTC")


def test_backtest_when_replay_yields_no_event_then_error_with_the_reason(tmp_path):
    # Arrange: only the REST snapshot, which no depth diff ever claims.
    lines = _slice(USDM_ETH, tmp_path / "head.txt", 100).read_bytes().splitlines()
    path = tmp_path / "snap_only.txt"
    path.write_bytes(next(ln for ln in lines if b"lastUpdateId" in ln[:40]) + b"\n")
    # Act / Assert
    with pytest.raises(ValueError, match=r"0 events from 1 lines \(0 malformed, 1 skipped\)"):
        run_backtest(f"replay:{path}", coin="ETH")


def test_backtest_when_many_lines_malformed_then_error_unless_allowed(tmp_path):
    path = _slice(SPOT_BTC, tmp_path / "bad.txt", 3000, corrupt_every=20)
    with pytest.raises(ValueError, match=r"150 of 3,000 lines malformed.*allow-malformed"):
        run_backtest(f"replay:{path}")
    cfg = load_config(overrides={"feed": {"replay_allow_malformed": True}})
    r = run_backtest(f"replay:{path}", cfg).report
    s = r["source_stats"]
    assert s["malformed"] == 150 and len(s["malformed_reasons"]) == 5
    assert s["lines"] == s["events"] + s["malformed"] + s["skipped"] + s["merged"]


def test_backtest_when_coin_margined_then_report_says_inverse_and_pnl_in_coin(tmp_path):
    path = _slice(CM_BTC, tmp_path / "cm.txt", 6000)
    r = run_backtest(f"replay:{path}").report
    inst = r["instrument"]
    assert inst["facts"]["inverse"] and inst["facts"]["contract_usd"] == 100.0
    assert "contracts of 100 USD" in inst["sizes"] and inst["pnl_currency"] == "USD"
    assert inst["pnl_coin"] is not None and "inverse" in inst["pnl_note"]
