"""A model fed its own generating process scores well; the same forecasts shuffled
against the outcomes score at climatology; censored orders are left out."""

import numpy as np
import pytest

from appliance.measure import scores


def _bernoulli(n, seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 5.0, n)
    y = (rng.random(n) < p).astype(np.int8)
    return rng, p, y


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_probability_when_forecast_is_true_probability_then_reliable_and_skilful(seed):
    _, p, y = _bernoulli(50_000, seed)
    s = scores.probability_score(p, y)
    assert s.reliability < 0.001 and s.skill > 0.05
    assert s.brier == pytest.approx(s.reliability - s.resolution + s.uncertainty, abs=2e-3)
    for mean_p, freq, count in s.curve:
        if count > 1000:
            assert abs(mean_p - freq) < 0.03
    assert not scores.degraded(s)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_probability_when_shuffled_then_at_climatology(seed):
    rng, p, y = _bernoulli(50_000, seed)
    s = scores.probability_score(rng.permutation(p), y)
    assert abs(s.resolution) < 0.002  # no information: bins do not separate outcomes
    assert s.skill < 0.01  # no better than always forecasting the base rate


def test_probability_when_forecast_inverted_then_worse_than_climatology_and_degraded():
    _, p, y = _bernoulli(20_000, 4)
    s = scores.probability_score(1.0 - p, y)
    assert s.skill < 0.0 and scores.degraded(s)


def test_probability_when_censored_then_left_out():
    _, p, y = _bernoulli(1_000, 5)
    y_c = y.copy()
    y_c[:400] = scores.CENSORED
    assert scores.probability_score(p, y_c).n == 600
    assert scores.probability_score(p[:10], y[:10]) is None  # too few: no score


def test_fill_outcomes_when_cancelled_before_horizon_then_censored_not_missed():
    placed = np.array([0, 0, 0, 0, 100])
    first_fill = np.array([5, 0, 0, 20, 0])
    ended = np.array([0, 0, 4, 0, 130])
    out = scores.fill_outcomes(placed, 10, first_fill, ended)
    # filled in time; resting through the horizon; cancelled unfilled at 4 < 10;
    # filled after the horizon (a miss); cancelled after its horizon (a miss)
    assert out.tolist() == [1, 0, scores.CENSORED, 0, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_forecast_when_own_process_then_calibrated_and_ranks(seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 1.0, 20_000)
    r = f + rng.normal(0.0, 2.0, f.shape[0])  # realized = forecast + noise
    s = scores.forecast_score(f, r)
    assert s.slope == pytest.approx(1.0, abs=0.1) and abs(s.bias) < 0.1
    assert s.spearman > 0.3 and s.ir > 0.2 and s.hit_rate > 0.6
    assert not scores.degraded(s, ir_floor=0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_forecast_when_shuffled_then_no_information(seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 1.0, 20_000)
    r = f + rng.normal(0.0, 2.0, f.shape[0])
    s = scores.forecast_score(rng.permutation(f), r)
    assert abs(s.slope) < 0.05 and abs(s.spearman) < 0.03 and abs(s.ir) < 0.03


def test_forecast_when_biased_then_bias_and_ratio_say_so():
    rng = np.random.default_rng(7)
    r = rng.exponential(0.25, 5_000)
    s = scores.forecast_score(np.full(5_000, 16.1), r)  # the AS model as measured: 65x
    assert s.bias == pytest.approx(16.1 - r.mean()) and s.ratio > 50
    assert s.slope is None and s.spearman is None  # a constant ranks nothing


def _orders(n, seed, cancel_rate_per_s=2.0, horizon_s=8.0):
    """Orders whose fill time is exponential with the hazard their forecast implies;
    most are cancelled (requoted) long before the horizon."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.6, n)
    lam = -np.log1p(-p) / horizon_s
    t_fill = rng.exponential(1.0 / lam)
    t_cancel = rng.exponential(1.0 / cancel_rate_per_s, n)
    end = np.minimum(np.minimum(t_fill, t_cancel), horizon_s)
    filled = (t_fill <= np.minimum(t_cancel, horizon_s)).astype(np.int8)
    return rng, p, end, filled, t_fill, t_cancel


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_survival_when_own_process_then_calibrated_and_skilful(seed):
    _, p, exposure, filled, _, _ = _orders(40_000, seed)
    s = scores.survival_score(p, 8.0, exposure, filled)
    assert s.observed_over_expected == pytest.approx(1.0, abs=0.08)
    assert s.skill > 0.0 and not scores.degraded(s)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_survival_when_shuffled_then_no_better_than_climatology(seed):
    rng, p, exposure, filled, _, _ = _orders(40_000, seed)
    s = scores.survival_score(rng.permutation(p), 8.0, exposure, filled)
    assert s.skill < 0.002


def test_survival_when_forecasts_three_times_too_high_then_expected_exceeds_observed():
    _, p, exposure, filled, _, _ = _orders(40_000, 4)
    high = 1.0 - (1.0 - p) ** 3  # hazard x3
    s = scores.survival_score(high, 8.0, exposure, filled)
    assert s.observed_over_expected == pytest.approx(1 / 3, rel=0.1)


def test_censoring_rule_when_requotes_cancel_early_then_survivors_are_mostly_fills():
    # why survival_score exists: the same calibrated forecasts, scored by the censoring
    # rule, look badly miscalibrated because survivors to the horizon are fills
    _, p, _, _, t_fill, t_cancel = _orders(40_000, 5)
    ns = 1_000_000_000
    placed = np.zeros(p.shape[0], np.int64)
    first_fill = np.where(t_fill <= t_cancel, (t_fill * ns).astype(np.int64) + 1, 0)
    ended = np.where(t_fill <= t_cancel, 0, (t_cancel * ns).astype(np.int64) + 1)
    y = scores.fill_outcomes(placed, 8 * ns, first_fill, ended)
    s = scores.probability_score(p, y)
    assert s.base_rate > 0.5 > float(p.mean())
