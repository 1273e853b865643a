"""tools/drift_scores.py: the drift's score read from a backtest report (issue 16)."""

import pytest

from appliance.backtest import run_backtest
from appliance.config import load_config
from tools.drift_scores import KEYS, drift_score, drift_score_at


def test_drift_score_when_scenario_backtested_then_the_measurement_loops_figures():
    cfg = load_config(overrides={"backtest": {"synthetic_duration_s": 120.0}})
    rep = run_backtest("synthetic:toxic_burst", cfg, seed=1, preset="unified").report
    got = drift_score(rep)
    assert set(got) == set(KEYS)
    assert got["n"] > 30 and -1.0 <= got["pearson"] <= 1.0 and 0.0 <= got["hit_rate"] <= 1.0


def test_drift_score_at_when_the_report_horizon_then_the_report_s_figures_and_longer_ones_scored():
    cfg = load_config(overrides={"backtest": {"synthetic_duration_s": 120.0}})
    r = run_backtest("synthetic:toxic_burst", cfg, seed=1, preset="unified")
    same = drift_score_at(r.requotes, cfg.quote.horizon_s)
    assert same["n"] == drift_score(r.report)["n"]
    assert same["pearson"] == pytest.approx(drift_score(r.report)["pearson"])
    longer = drift_score_at(r.requotes, 60.0)
    assert 0 < longer["n"] < same["n"]  # a requote less than 60 s before the end has no outcome
