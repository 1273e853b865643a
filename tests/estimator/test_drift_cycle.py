"""Drift filter observation noises scaled to the seed's quote cycle (issue 6 round 2)."""

import math

import numpy as np

from appliance.estimator import drift_kalman as dk
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import drift_kalman as drift_state
from shm_layout.estimators.drift_kalman import DriftKalmanConfig


def _filter(**kw):
    cfg = np.array(dk.config_values(EstimatorConfig(drift=DriftKalmanConfig(**kw))))
    st = np.zeros(1, drift_state.STATE)[0]
    dk.init(st, cfg)
    return st, cfg


def _run_hot(st, cfg, interval_ns, seconds, flow_imb):
    z = np.zeros(4)
    r = np.full(4, math.inf)
    t = 1e9
    dk.hot_tier(st, cfg, t, z, r, 0, 0.0, 0.0, 1.0)  # a neutral first observation
    for _ in range(int(seconds * 1e9 / interval_ns)):
        t += interval_ns
        dk.hot_tier(st, cfg, t, z, r, 0, flow_imb, 0.0, 1.0)
    return dk.drift_bps_per_s(st)


def test_hot_tier_when_observed_faster_then_same_information_per_second():
    # 5 s of a constant buy imbalance, seen every 10 ms or every 100 ms: with the
    # cycle scaling both bring about the seed's information per second.
    a, cfg = _filter()
    b, _ = _filter()
    mu_fast = _run_hot(a, cfg, 10e6, 5.0, 0.8)
    mu_slow = _run_hot(b, cfg, 100e6, 5.0, 0.8)
    assert mu_fast > 0.0 and mu_slow > 0.0
    assert abs(mu_fast - mu_slow) < 0.1 * mu_slow


def test_hot_tier_when_unscaled_then_frequent_updates_overweight_the_source():
    scaled, cfg = _filter()
    raw, cfg0 = _filter(obs_cycle_s=0.0)
    mu_scaled = _run_hot(scaled, cfg, 10e6, 0.1, 0.8)
    mu_raw = _run_hot(raw, cfg0, 10e6, 0.1, 0.8)
    assert mu_raw > 2.0 * mu_scaled  # 10 full updates vs 1/50 of a cycle's worth
    assert dk.drift_std_bps_per_s(scaled) > dk.drift_std_bps_per_s(raw)


def test_cycle_scale_when_no_time_passed_then_observation_skipped():
    st, cfg = _filter()
    assert dk.cycle_scale(st, cfg, dk.TIER_HOT, 1e9) == 1.0  # first observation
    assert math.isinf(dk.cycle_scale(st, cfg, dk.TIER_HOT, 1e9))
    assert dk.cycle_scale(st, cfg, dk.TIER_HOT, 1e9 + 1e9) == 5.0  # 5 s cycle / 1 s
    assert dk.cycle_scale(st, cfg, dk.TIER_HOT, 1e9 + 1e9 + 10e9) == 1.0  # never below 1


def test_warm_tier_when_cycle_scaled_then_gain_smaller_than_unscaled():
    a, cfg = _filter()
    b, cfg0 = _filter(obs_cycle_s=0.0)
    for st, c in ((a, cfg), (b, cfg0)):
        dk.warm_tier(st, c, 1e9, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
        dk.warm_tier(st, c, 1.1e9, 3.0, 0.0, 5.0, 0.0, 0.0, 0.0)
    assert 0.0 < dk.drift_bps_per_s(a) < dk.drift_bps_per_s(b)
