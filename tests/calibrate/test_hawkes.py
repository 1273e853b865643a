"""Hawkes maximum likelihood recovers the parameters of a process it simulates."""

import numpy as np
import pytest

from appliance.calibrate import hawkes
from appliance.calibrate.hawkes import HawkesParams


def test_loglik_gradient_when_compared_with_finite_differences_then_equal():
    t = hawkes.simulate(HawkesParams(1.0, 1.5, 3.0), 500.0, seed=3)
    x = np.array([0.8, 1.2, 2.5])
    ll, *g = hawkes.loglik_grad(t, 500.0, *x)
    for k in range(3):
        e = np.zeros(3)
        e[k] = 1e-6
        num = (hawkes.loglik_grad(t, 500.0, *(x + e))[0] - hawkes.loglik_grad(t, 500.0, *(x - e))[0]) / 2e-6
        assert g[k] == pytest.approx(num, rel=1e-4)


@pytest.mark.parametrize("truth", [HawkesParams(0.5, 1.0, 2.0), HawkesParams(2.0, 6.0, 10.0)])
def test_fit_when_simulated_by_ogata_thinning_then_parameters_recovered(truth):
    """Tolerances: mu and beta within 20 %, the branching ratio alpha / beta within
    0.08 (about three standard errors at ~4000-20000 events)."""
    T = 4000.0
    segs = [(hawkes.simulate(truth, T, seed=s), T) for s in (1, 2)]
    fit = hawkes.fit(segs, max_branching=0.95)
    assert fit.mu == pytest.approx(truth.mu, rel=0.2)
    assert fit.beta == pytest.approx(truth.beta, rel=0.2)
    assert fit.branching == pytest.approx(truth.branching, abs=0.08)


def test_fit_side_when_clustered_flow_then_beats_poisson_in_and_out_of_sample():
    truth = HawkesParams(1.0, 2.0, 4.0)
    train = [(hawkes.simulate(truth, 1500.0, seed=5), 1500.0)]
    test = [(hawkes.simulate(truth, 600.0, seed=6), 600.0)]
    f = hawkes.fit_side("buy", train, test, HawkesParams(1.0, 0.5, 2.0))
    for ll in (f.ll_train, f.ll_test):
        assert ll["fitted"] > ll["poisson"] and ll["fitted"] > ll["default"]
    c = f.count_test["fitted"]  # the next second's count: unbiased, ranked better than chance
    assert c.ratio == pytest.approx(1.0, abs=0.1) and c.spearman > 0.1


def test_fit_side_when_too_few_events_then_value_error_naming_the_count():
    t = np.arange(10.0)
    with pytest.raises(ValueError, match="10 distinct trade times"):
        hawkes.fit_side("sell", [(t, 10.0)], [], HawkesParams(1.0, 0.5, 2.0))


def test_rescaled_gaps_when_true_model_then_unit_exponential():
    p = HawkesParams(1.0, 1.5, 3.0)
    g = hawkes.rescaled_gaps(hawkes.simulate(p, 3000.0, seed=9), p)
    assert g.mean() == pytest.approx(1.0, abs=0.05)
