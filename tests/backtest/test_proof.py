"""The quote-kernel proof's figures in the backtest report (issue 6), and the behaviour
they prove on short runs of the scenarios."""

from pathlib import Path

import numpy as np
import pytest

from appliance.backtest import run_backtest
from appliance.config import load_config
from appliance.quote.ids import decode_prediction_id

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BINANCE = DATA / "binance_usdm" / "btcusdt_20240808.gz"

PROOF_KEYS = {
    "preset": str, "markout_10s_threshold_bps": float, "markout_10s_adverse_fills": int,
    "markout_10s_benign_fills": int, "bid_pull_never": bool, "bid_pullback_bps": float,
    "bid_pull_from_s": float, "max_long_frac": float, "max_short_frac": float,
    "legacy_gate_disagreements": int, "should_pull_s": float, "quoted_while_should_pull_s": float,
    "requotes_while_should_pull": int, "fills_while_should_pull": int, "windows": dict,
}


def _cfg(duration_s: float):
    return load_config(overrides={"backtest": {"synthetic_duration_s": duration_s}})


@pytest.fixture(scope="module")
def selloff():
    """trend_selloff seed 1 through the drift (0-1100 s), unified and legacy."""
    cfg = _cfg(1100.0)
    return {p: run_backtest("synthetic:trend_selloff", cfg, seed=1, preset=p).report
            for p in ("unified", "legacy")}


def test_report_when_scenario_run_then_proof_keys_with_their_types(selloff):
    r = selloff["unified"]
    for key, typ in PROOF_KEYS.items():
        assert isinstance(r[key], typ), (key, r[key])
    assert r["preset"] == "unified" and selloff["legacy"]["preset"] == "legacy"
    assert r["bid_pull_delay_s"] is None or isinstance(r["bid_pull_delay_s"], float)
    assert r["bid_pull_from_s"] == 600.0  # the scenario's lead window starts the clock
    assert set(r["windows"]) >= {"calm_before", "lead", "drift"}
    assert sum(w["fills"] for w in r["windows"].values()) <= r["fills"]
    assert r["markout_10s_adverse_fills"] + r["markout_10s_benign_fills"] <= r["fills"]
    assert "10s" in r["markout_bps"]


def test_selloff_when_unified_then_less_long_inventory_than_legacy(selloff):
    u, lg = selloff["unified"], selloff["legacy"]
    assert u["max_long_frac"] <= 0.40 and u["max_long_frac"] < u["max_short_frac"]
    # short by the drift's end; not "as short as legacy": unified's soft limit stops a
    # side at half the position limit, legacy's at all of it (both sell into the drift
    # since the drift reads the slow flow, issue 16)
    assert u["final_position_sz"] < 0.0 and lg["final_position_sz"] < 0.0
    assert u["windows"]["drift"]["max_long_frac"] <= 0.40


def test_cascade_when_unified_with_defaults_then_no_fill_in_the_worst_minute():
    # The detector's lasting-surge measures keep the pull on from the cascade's first
    # seconds through its worst minute (estimator/cascade.py; BENCHMARKS.md, issue 6).
    cfg = _cfg(1100.0)
    r = run_backtest("synthetic:liquidation_cascade", cfg, seed=1, preset="unified").report
    assert r["should_pull_s"] > 0.0
    assert r["windows"]["worst_minute"]["fills"] == 0
    # at most the order latency of resting orders once should_pull_quotes rises
    assert r["quoted_while_should_pull_s"] <= 1.0


def test_digest_when_same_scenario_twice_in_one_session_then_identical():
    cfg = _cfg(300.0)
    a = run_backtest("synthetic:toxic_burst", cfg, seed=2, preset="no_as").report
    b = run_backtest("synthetic:toxic_burst", cfg, seed=2, preset="no_as").report
    assert a["fills"] > 0 and a["digest"] == b["digest"]
    assert a["markout_10s_adverse_fills"] == b["markout_10s_adverse_fills"]


def test_digest_when_binance_capture_twice_in_one_session_then_identical():
    if not BINANCE.is_file():
        pytest.skip(f"real capture missing: {BINANCE}")
    a = run_backtest(f"replay:{BINANCE}", preset="unified").report
    b = run_backtest(f"replay:{BINANCE}", preset="unified").report
    assert a["fills"] > 0 and a["digest"] == b["digest"]
    assert a["windows"] == {} and a["bid_pull_from_s"] == 0.0


def test_fills_when_backtested_then_carry_the_predictions_of_the_level_that_filled():
    res = run_backtest("synthetic:toxic_burst", _cfg(300.0), seed=1, preset="unified")
    f = res.fills[res.fills["is_maker"] == 1]
    assert f.shape[0] > 20
    for fill in f:
        coin, ladder_id, side, level = decode_prediction_id(int(fill["level_id"]))
        assert ladder_id > 0 and side == fill["side"] and level == fill["level"]
    assert np.all((f["pred_fill_prob"] > 0) & (f["pred_fill_prob"] <= 1))
    assert np.all(f["pred_as_bps"] >= 0)
    pred = res.report["predictions"]
    assert pred["fills_with_prediction"] == f.shape[0]
    assert pred["pred_as_bps_mean"] == pytest.approx(float(f["pred_as_bps"].mean()))


def test_phases_when_toxic_v3_run_then_every_marked_fill_in_one_phase_of_its_episodes():
    """The toxic split by informed-episode phase (issue 16): the scenario's episodes reach
    the report, and the phases partition the adverse / benign counts."""
    cfg = _cfg(420.0)  # episodes start at 240 s
    r = run_backtest("synthetic:toxic_burst_v3", cfg, seed=3, preset="no_as").report
    split = r["markout_10s_by_episode_phase"]
    assert list(split) == ["lead", "move", "after_10s", "after_10_30s", "other"]
    assert sum(a for a, _ in split.values()) == r["markout_10s_adverse_fills"]
    assert sum(b for _, b in split.values()) == r["markout_10s_benign_fills"]
    assert split["lead"][0] + split["lead"][1] > 0  # no_as quotes through the lead
    # a scenario without informed episodes has no split
    assert "markout_10s_by_episode_phase" not in run_backtest(
        "synthetic:quiet", _cfg(60.0), seed=1, preset="no_as").report
