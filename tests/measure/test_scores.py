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


def _exposed(n, seed, cancel_rate_per_h=4.0):
    """Exposures in horizons of orders whose fill time follows the hazard their
    forecast implies; most are cancelled (requoted) long before the horizon."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.6, n)
    t_fill = rng.exponential(1.0 / -np.log1p(-p))
    t_cancel = rng.exponential(1.0 / cancel_rate_per_h, n)
    exposure = np.minimum(np.minimum(t_fill, t_cancel), 1.0)
    return rng, p, exposure, t_fill <= np.minimum(t_cancel, 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hazard_exposed_when_own_process_then_calibrated_and_skilful(seed):
    _, p, exposure, filled = _exposed(40_000, seed)
    s = scores.hazard_score_exposed(p, exposure, filled)
    assert s.ratio == pytest.approx(1.0, abs=0.08)
    assert s.skill > 0.0 and not scores.degraded(s)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hazard_exposed_when_shuffled_then_no_better_than_climatology(seed):
    rng, p, exposure, filled = _exposed(40_000, seed)
    assert scores.hazard_score_exposed(rng.permutation(p), exposure, filled).skill < 0.002


def _at_risk(n, seed, horizon_ns=8_000_000_000):
    """Orders with a true P(fill within the horizon) p under a constant hazard, most
    cancelled before their horizon (exponential lifetimes of half the horizon)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.9, n)
    fill_t = rng.exponential(horizon_ns / -np.log1p(-p)).astype(np.int64) + 1
    cancel_t = rng.exponential(horizon_ns / 2, n).astype(np.int64) + 1
    placed = np.full(n, 1_000, np.int64)
    first_fill = np.where(fill_t < cancel_t, placed + fill_t, 0)
    ended = placed + np.minimum(fill_t, cancel_t)
    return p, placed, horizon_ns, first_fill, ended


@pytest.mark.parametrize("seed", [1, 2])
def test_hazard_when_forecast_is_true_probability_then_fills_as_expected_in_every_bin(seed):
    p, *orders = _at_risk(50_000, seed)
    s = scores.hazard_score(p, *orders)
    assert s.n == 50_000 and s.ratio == pytest.approx(1.0, abs=0.04)
    for _, observed, expected, _ in s.curve:
        assert abs(observed - expected) < 4.0 * np.sqrt(expected) + 1.0  # Poisson noise
    # the censored view on the same orders: the misses cut short are dropped, the fills kept
    y = scores.fill_outcomes(orders[0], orders[1], orders[2], orders[3])
    assert scores.probability_score(p, y).base_rate > p.mean() + 0.1


def test_hazard_when_forecast_three_times_too_high_then_ratio_says_so():
    p, *orders = _at_risk(20_000, 3)
    s = scores.hazard_score(np.minimum(1.0 - (1.0 - p) ** 3, 0.999), *orders)
    assert s.ratio < 0.6


def test_hazard_when_filled_at_placement_then_counted_and_ended_at_once_left_out():
    n = scores.MIN_SAMPLES
    placed = np.full(n + 2, 10, np.int64)
    first_fill = np.r_[10, np.zeros(n + 1, np.int64)]  # filled by the event it met first
    ended = np.r_[10, 10, np.full(n, 10 + 8_000_000_000)]  # the second ended at once
    s = scores.hazard_score(np.full(n + 2, 0.5), placed, 8_000_000_000, first_fill, ended)
    assert s.n == n + 1 and s.observed == 1
    assert s.expected == pytest.approx(n * np.log(2.0))
    assert scores.hazard_score(np.full(3, 0.5), placed[:3], 1, first_fill[:3], ended[:3]) is None


def test_forecast_when_many_zero_moves_then_hit_rate_scores_only_the_moves():
    """Realized zeros (no mid move) are counted apart: a forecast right on every move
    keeps a hit rate of 1 whatever share of the pairs did not move."""
    rng = np.random.default_rng(7)
    f = rng.normal(0.0, 1.0, 4000)
    r = np.where(rng.random(4000) < 0.7, 0.0, f * rng.uniform(0.5, 1.5, 4000))
    s = scores.forecast_score(f, r)
    assert s.hit_rate == pytest.approx(1.0)
    assert s.zero_realized_share == pytest.approx(np.mean(r == 0.0))
    assert s.spearman_moved > 0.8 > s.spearman


def test_spearman_when_ties_and_random_data_then_equals_scipys():
    from scipy.stats import spearmanr

    from appliance.measure.scores import spearman

    rng = np.random.default_rng(7)
    for n in (3, 10, 500):
        x = rng.integers(0, 5, n).astype(float)  # many ties
        y = x + rng.normal(0, 2, n)
        y[::3] = 0.0
        assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(np.ones(5), np.arange(5.0)) is None  # a constant ranks nothing


def test_risk_watchdog_when_imported_then_no_scipy_stats():
    import subprocess
    import sys

    # (numba itself imports a sliver of scipy: its _ccallback; scipy.stats is the weight)
    code = "import sys, appliance.risk.process; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
