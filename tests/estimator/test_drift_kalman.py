"""Kalman OU drift filter (seed 003 phases 1, 5, 7, 8) on simulated observations."""

import math

import numpy as np

from appliance.estimator import drift_kalman as dk
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import drift_kalman as drift_state
from shm_layout.estimators.drift_kalman import DriftKalmanConfig

S = 1_000_000_000


def _filter(**over):
    cfg = np.array(dk.config_values(EstimatorConfig(drift=DriftKalmanConfig(**over))))
    st = np.zeros(1, drift_state.STATE)[0]
    dk.init(st, cfg)
    dk.predict(st, 1 * S)  # anchors the clock
    return st, cfg


def test_predict_when_no_observations_then_drift_decays_at_rate_theta():
    st, cfg = _filter()
    dk.kalman_update(st, cfg, 10.0, 1.0)
    mu0 = dk.drift_bps_per_s(st)
    dk.predict(st, 11 * S)
    assert math.isclose(dk.drift_bps_per_s(st), mu0 * math.exp(-0.02 * 10.0), rel_tol=1e-12)
    dk.predict(st, 400 * S)
    assert abs(dk.drift_bps_per_s(st)) < 1e-3 * abs(mu0)


def test_predict_when_long_idle_then_variance_goes_to_stationary_q_over_two_theta():
    st, cfg = _filter()
    for _ in range(50):
        dk.kalman_update(st, cfg, 0.0, 0.1)
    dk.predict(st, 2000 * S)
    assert math.isclose(dk.drift_std_bps_per_s(st) ** 2, 1.0 / (2 * 0.02), rel_tol=1e-6)


def test_update_when_one_observation_then_moves_by_kalman_gain():
    st, cfg = _filter()
    k = dk.kalman_update(st, cfg, 8.0, 10.0)
    assert math.isclose(k, 50.0 / 60.0)
    assert math.isclose(dk.drift_bps_per_s(st), k * 8.0)
    assert math.isclose(dk.drift_std_bps_per_s(st) ** 2, (1 - k) * 50.0)


def test_filter_when_noisy_observations_of_known_drift_then_tracks_it_and_follows_a_reversal():
    rng = np.random.default_rng(1)
    st, cfg = _filter()
    t = 1 * S
    for true_mu in (4.0, -6.0):
        for _ in range(200):  # 100 s at 2 observations per second
            t += S // 2
            dk.predict(st, t)
            dk.kalman_update(st, cfg, true_mu + rng.normal(0.0, 2.0), 4.0)
        assert abs(dk.drift_bps_per_s(st) - true_mu) < 1.5
    assert dk.out_of_band(st, cfg) == 1.0
    dk.predict(st, t + 300 * S)  # and without observations it decays toward 0
    assert abs(dk.drift_bps_per_s(st)) < 0.02 * 6.0
    assert dk.out_of_band(st, cfg) == 0.0


def test_update_when_many_precise_observations_then_variance_stops_at_floor():
    st, cfg = _filter()
    for _ in range(1000):
        dk.kalman_update(st, cfg, 1.0, 0.01)
        assert st["p_bps2_per_s2"] >= 2.0
    assert st["p_bps2_per_s2"] == 2.0


def test_composite_when_no_floor_then_equals_sequential_updates():
    z = np.array([1.0, -3.0, 2.5, 0.4])
    r = np.array([2.0, 5.0, 1.5, 9.0])
    seq, cfg = _filter(var_floor_bps2_per_s2=1e-12)
    for zi, ri in zip(z, r, strict=True):
        dk.kalman_update(seq, cfg, zi, ri)
    comp, _ = _filter(var_floor_bps2_per_s2=1e-12)
    dk.composite_update(comp, cfg, z, r, 4)
    assert math.isclose(comp["mu_bps_per_s"], seq["mu_bps_per_s"], rel_tol=1e-12)
    assert math.isclose(comp["p_bps2_per_s2"], seq["p_bps2_per_s2"], rel_tol=1e-12)
    # precision adds: 1/P = 1/P0 + sum 1/R
    assert math.isclose(1.0 / comp["p_bps2_per_s2"], 1.0 / 50.0 + float(np.sum(1.0 / r)), rel_tol=1e-12)


def test_composite_when_one_input_skipped_then_it_carries_no_weight():
    z = np.array([2.0, 100.0])
    r = np.array([3.0, math.inf])
    a, cfg = _filter()
    dk.composite_update(a, cfg, z, r, 2)
    b, _ = _filter()
    dk.kalman_update(b, cfg, 2.0, 3.0)
    assert a["mu_bps_per_s"] == b["mu_bps_per_s"]


def test_drift_when_strong_signal_then_exceeds_old_three_bps_clamp():
    st, cfg = _filter()
    for _ in range(20):
        dk.kalman_update(st, cfg, 20.0, 4.0)
    assert dk.drift_bps_per_s(st) > 10.0


def test_adapt_when_large_errors_then_theta_and_noise_rise_and_stay_within_bounds():
    st, cfg = _filter()
    dk.adapt(st, cfg, 50.0, 1.0)
    assert st["theta_per_s"] > 0.02
    for _ in range(5000):
        dk.adapt(st, cfg, 500.0, 1.0)
    assert st["theta_per_s"] == 1.0 and st["q_bps2_per_s3"] == 10.0
    for _ in range(5000):
        dk.adapt(st, cfg, dk.drift_bps_per_s(st), 1.0)
    assert st["theta_per_s"] == 0.01 and st["q_bps2_per_s3"] == 0.1


def test_adapt_when_disabled_then_parameters_frozen():
    st, cfg = _filter(adapt_enabled=False)
    dk.adapt(st, cfg, 500.0, 1.0)
    assert st["theta_per_s"] == 0.02 and st["q_bps2_per_s3"] == 1.0


def test_fill_when_our_bid_is_hit_then_drift_bearish_and_ask_fill_bullish():
    st, cfg = _filter()
    dk.obs_fill(st, cfg, 2 * S, 1.0, 99.9, 100.0, 2.0)
    assert dk.drift_bps_per_s(st) < 0.0
    st2, _ = _filter()
    dk.obs_fill(st2, cfg, 2 * S, -1.0, 100.1, 100.0, 2.0)
    assert dk.drift_bps_per_s(st2) > 0.0


def test_trend_when_high_agreement_then_larger_update():
    hi, cfg = _filter()
    lo, _ = _filter()
    dk.obs_trend(hi, cfg, 2 * S, -5.0, 1.0, 0.8)
    dk.obs_trend(lo, cfg, 2 * S, -5.0, 0.3, 0.8)
    assert dk.drift_bps_per_s(hi) < dk.drift_bps_per_s(lo) < 0.0


def test_funding_when_extreme_positive_then_bearish_and_not_before_warmup():
    st, cfg = _filter()
    assert dk.obs_funding(st, cfg, 3.0, 2) == 0.0
    assert dk.drift_bps_per_s(st) == 0.0
    dk.obs_funding(st, cfg, 3.0, 3)
    assert dk.drift_bps_per_s(st) < 0.0


def test_tiers_when_sell_bursts_and_large_bid_fills_then_bearish_and_weak_lead_skipped():
    st, cfg = _filter()
    before = st["n_updates"]
    dk.cold_tier(st, cfg, 2 * S, 5.0, 0.1, 0.0, 0)  # lead below confidence, funding warming up
    assert st["n_updates"] == before
    dk.warm_tier(st, cfg, 2 * S, 0.0, 4.0, 6.0, 3.0, 0.0, 0.0)
    assert dk.drift_bps_per_s(st) < 0.0
    st2, _ = _filter()
    dk.cold_tier(st2, cfg, 2 * S, 5.0, 0.8, 0.0, 0)
    assert dk.drift_bps_per_s(st2) > 0.0


def test_hot_tier_when_disabled_then_nothing_moves_and_alpha_zero_skips_a_source():
    st, cfg = _filter(enabled=False)
    dk.hot_tier(st, cfg, 5 * S, np.array([5.0]), np.array([1.0]), 1, 1.0, 1.0, 1.0)
    assert dk.drift_bps_per_s(st) == 0.0
    st2, cfg2 = _filter(alpha_flow=0.0, alpha_flow_slow=0.0)
    dk.hot_tier(st2, cfg2, 5 * S, np.array([0.0]), np.array([math.inf]), 1, 1.0, 1.0, 1.0)
    assert st2["n_updates"] == 0.0
