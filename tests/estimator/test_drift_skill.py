"""The drift's forecast scored online (issue 16): the weight the quote kernel gives it."""

import math

import numpy as np
import pytest

from appliance.estimator import drift_skill as ds
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import drift_skill as skill_state
from shm_layout.estimators.drift_skill import DriftSkillConfig

S = 1_000_000_000
MID0 = 50_000.0


def _skill(**over):
    cfg = np.array(ds.config_values(EstimatorConfig(drift_skill=DriftSkillConfig(**over))))
    st = np.zeros(1, skill_state.STATE)[0]
    ds.init(st, cfg)
    return st, cfg


def _run(st, cfg, mus, realized_bps_per_s, theta=0.0, t0_s=1, step_s=1):
    """One sample a second: the forecast ``mus[i]``, the mid moving ``realized[i]`` bps/s."""
    mid = MID0
    for i, (mu, r) in enumerate(zip(mus, realized_bps_per_s, strict=True)):
        ds.sample(st, cfg, (t0_s + i * step_s) * S, mu, theta, mid)
        mid *= 1.0 + r * step_s * 1e-4


def test_skill_when_nothing_scored_then_prior_and_when_disabled_then_one():
    st, cfg = _skill()
    assert st["skill"] == 0.5
    st_off, _ = _skill(enabled=False)
    assert st_off["skill"] == 1.0


def test_skill_when_drift_forecasts_the_move_then_rises_toward_one():
    rng = np.random.default_rng(3)
    mus = np.repeat(rng.choice([-2.0, 2.0], 60), 20)  # regimes of 20 s, the mid follows
    st, cfg = _skill()
    _run(st, cfg, mus, mus + rng.normal(0.0, 0.5, mus.size))
    assert st["n_scored"] > 1000
    assert st["skill"] > 0.85


def test_skill_when_drift_points_the_wrong_way_then_zero_never_negative():
    rng = np.random.default_rng(4)
    mus = np.repeat(rng.choice([-2.0, 2.0], 60), 20)
    st, cfg = _skill()
    _run(st, cfg, mus, -mus)
    assert st["skill"] == 0.0


def test_skill_when_drift_is_noise_then_shrinks_below_the_prior():
    rng = np.random.default_rng(5)
    st, cfg = _skill()
    _run(st, cfg, rng.normal(0.0, 2.0, 1200), rng.normal(0.0, 2.0, 1200))
    assert st["skill"] < 0.2


def test_sample_when_gap_in_the_data_then_not_scored_and_too_soon_then_skipped():
    st, cfg = _skill()
    ds.sample(st, cfg, 1 * S, 1.0, 0.0, MID0)
    ds.sample(st, cfg, 1 * S + S // 2, 1.0, 0.0, MID0)  # under sample_ms: skipped
    assert st["n_samples"] == 1
    ds.sample(st, cfg, 100 * S, 1.0, 0.0, MID0 * 1.01)  # 99 s later: older than 3 horizons
    assert st["n_samples"] == 2 and st["n_scored"] == 0
    ds.sample(st, cfg, 101 * S, float("nan"), 0.0, MID0)  # a bad input is not a sample
    assert st["n_samples"] == 2


def test_ou_mean_factor_when_reverting_then_the_average_of_the_decay():
    assert ds.ou_mean_factor(0.0, 5.0) == 1.0
    assert ds.ou_mean_factor(1.0, 5.0) == pytest.approx((1.0 - math.exp(-5.0)) / 5.0)
