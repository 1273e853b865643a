"""The drift's observation scales (issue 16): the filtered drift is linear in them, and
the calibration's factor is the forecast's calibration slope, within [0, 1]."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from appliance.calibrate import drift
from appliance.estimator import drift_kalman as dk
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import drift_kalman as drift_state

S = 1_000_000_000


def _run(c: float) -> float:
    """The drift after a fixed stream of flow, Hawkes, fill-size, basis, lead and fill
    observations, with every observation scale times ``c``."""
    base = EstimatorConfig().drift
    over = {k: getattr(base, k) * c for t, k in drift.OBS_SCALES if t == "drift"}
    cfg = np.array(dk.config_values(EstimatorConfig(drift=dataclasses.replace(base, **over))))
    st = np.zeros(1, drift_state.STATE)[0]
    dk.init(st, cfg)
    rng = np.random.default_rng(3)
    for i in range(200):
        t = (i + 1) * S // 10
        dk.hot_tier(st, cfg, t, np.zeros(4), np.full(4, math.inf), 4, rng.normal(0.0, 0.3),
                   rng.normal(0.0, 0.05), 2.0)
        dk.warm_tier(st, cfg, t, rng.exponential(), rng.exponential(), 3.0, rng.normal(), rng.normal(),
                     rng.normal())
        dk.cold_tier(st, cfg, t, rng.normal(), 0.8, 0.0, 0)
        if i % 20 == 0:
            dk.obs_fill(st, cfg, t, 1.0 if i % 40 == 0 else -1.0, 100.02, 100.0, 1.0)
    return dk.drift_bps_per_s(st)


def test_drift_when_every_observation_scale_times_c_then_drift_times_c():
    # Arrange / Act
    mu1 = _run(1.0)
    # Assert: the gains depend on the noises only, so mu is linear in the scales
    assert mu1 != 0.0
    assert _run(0.1) == pytest.approx(0.1 * mu1, rel=1e-9)
    assert _run(0.0) == 0.0


def test_scale_step_when_forecast_ten_times_too_large_then_a_tenth():
    rng = np.random.default_rng(1)
    realized = rng.normal(0.0, 1.0, 5_000)
    forecast = 10.0 * realized + rng.normal(0.0, 0.01, 5_000)
    assert drift.scale_step(forecast, realized) == pytest.approx(0.1, rel=1e-2)


def test_scale_step_when_no_or_inverse_skill_then_zero_and_never_above_one():
    rng = np.random.default_rng(2)
    realized = rng.normal(0.0, 1.0, 5_000)
    assert drift.scale_step(-realized, realized) == 0.0
    assert drift.scale_step(0.5 * realized, realized) == 1.0  # only shrinks
    assert drift.scale_step(np.zeros(5_000), realized) is None  # no forecast: nothing to fit


def test_scaled_values_when_factor_then_every_scale_times_it():
    base = {"drift": {"alpha_flow": 0.5}, "book": {"alpha_bim": 0.3}}
    assert drift.scaled_values(base, 0.2) == {"drift": {"alpha_flow": pytest.approx(0.1)},
                                              "book": {"alpha_bim": pytest.approx(0.06)}}
