"""The AS fit recovers AS0, delta_char and the tail term from markouts the model makes."""

import numpy as np
import pytest

from appliance.calibrate import adverse
from appliance.calibrate.adverse import ASParams, Markouts

HORIZONS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _synthetic(as0, dchar, k, n, seed, noise_bps=2.0):
    """Fills at exponential depths, AS at every horizon = the model (full from 1 s on,
    half at 0.5 s) plus Gaussian noise; excess kurtosis uniform in [0, 4]."""
    rng = np.random.default_rng(seed)
    depth = rng.exponential(3.0, n)
    kurt = rng.uniform(0.0, 4.0, n)
    mean = as0 * np.exp(-depth / dchar) * (1.0 + k * kurt)
    share = np.array([0.5, 1, 1, 1, 1, 1])
    as_bps = mean[:, None] * share[None, :] + rng.normal(0.0, noise_bps, (n, len(HORIZONS)))
    return Markouts(np.arange(n, dtype=float), depth, as_bps, HORIZONS, kurt)


def test_fit_depth_decay_when_model_markouts_then_as0_and_delta_char_recovered():
    """Tolerance: AS0 within 10 %, delta_char within 15 % (20000 fills, noise 2 bps)."""
    m = _synthetic(3.0, 4.0, 0.0, 20_000, seed=1)
    as0, dchar, decays = adverse.fit_depth_decay(m.depth_bps, m.as_bps[:, 1])
    assert decays
    assert as0 == pytest.approx(3.0, rel=0.10)
    assert dchar == pytest.approx(4.0, rel=0.15)


def test_fit_as_when_model_markouts_then_parameters_recovered_and_beat_the_default():
    train = _synthetic(2.0, 5.0, 0.25, 20_000, seed=2)
    test = _synthetic(2.0, 5.0, 0.25, 8_000, seed=3)
    fit = adverse.fit_as(train, test, ASParams(1.0, 5.0, 0.3, 1.0))
    p = fit.fitted
    assert p.reference_horizon_s == 1.0  # the first horizon where the move is complete
    assert p.as0_bps == pytest.approx(2.0, rel=0.15)
    assert p.delta_char_bps == pytest.approx(5.0, rel=0.2)
    assert p.kurtosis_k == pytest.approx(0.25, abs=0.06)
    out = fit.scores[("fitted", "test")]
    assert out.ratio == pytest.approx(1.0, abs=0.1) and out.spearman > 0.2


def test_fit_depth_decay_when_no_decay_then_flat_at_pooled_mean():
    rng = np.random.default_rng(4)
    depth = rng.exponential(2.0, 5000)
    as0, dchar, decays = adverse.fit_depth_decay(depth, 1.5 + rng.normal(0, 0.5, 5000))
    assert not decays and dchar == adverse.MAX_DELTA_CHAR_BPS
    assert as0 * np.exp(-depth.mean() / dchar) == pytest.approx(1.5, abs=0.05)


def test_fit_as_when_too_few_fills_then_value_error():
    m = _synthetic(2.0, 5.0, 0.0, 50, seed=5)
    with pytest.raises(ValueError, match="at least"):
        adverse.fit_as(m, m, ASParams(1.0, 5.0, 0.3, 1.0))


def _ranked(n, seed, as0=1.2, b_d=0.35, b_m=-0.6, noise_bps=2.0):
    """Touch-heavy depths, momentum in the aggressor's direction, AS from the ranking
    model (flat decay) plus Gaussian noise: negative markouts included."""
    rng = np.random.default_rng(seed)
    depth = np.where(rng.random(n) < 0.6, 0.05, rng.exponential(2.0, n))
    mom = rng.normal(0.0, 1.5, n)
    cap = np.quantile(depth, 0.99)  # the cap the fit places (as_rank.DEPTH_CAP_QUANTILE)
    mean = as0 * np.exp(b_d * np.minimum(depth, cap) + b_m * np.clip(mom, -1.0, 1.0))
    as_bps = mean[:, None] * np.array([1, 1, 1, 1, 1, 1.0])[None, :] + rng.normal(0, noise_bps, (n, 6))
    return Markouts(np.arange(n, dtype=float), depth, as_bps, HORIZONS, np.zeros(n), mom)


def test_fit_as_when_ranked_markouts_then_ranking_terms_recovered_and_rank_out_of_sample():
    """Tolerances (20000 fills, noise 2 bps): depth coefficient within 0.05/bps, momentum
    within 0.08, the level within 15 %; the test part's Spearman above 0.2 and above
    the default's (which has no ranking terms)."""
    train, test = _ranked(20_000, seed=11), _ranked(8_000, seed=12)
    fit = adverse.fit_as(train, test, ASParams(1.0, 5.0, 0.0, 0.5))
    p = fit.fitted
    assert p.depth_coef_per_bps == pytest.approx(0.35, abs=0.05)
    assert p.momentum_coef == pytest.approx(-0.6, abs=0.08)
    level = p.as0_bps * np.exp(-0.05 / p.delta_char_bps + 0.05 * p.depth_coef_per_bps)
    assert level == pytest.approx(1.2 * np.exp(0.05 * 0.35), rel=0.15)
    out, base = fit.scores[("fitted", "test")], fit.scores[("default", "test")]
    assert out.spearman > 0.2 and out.spearman > (base.spearman or 0.0)
    assert out.ratio == pytest.approx(1.0, abs=0.15)


def test_fit_as_when_features_shuffled_then_ranks_at_chance():
    """A model fitted where the features carry nothing (markouts shuffled against them)
    ranks the test part at chance: |Spearman| < 0.05 on 8000 fills."""
    rng = np.random.default_rng(13)
    train, test = _ranked(20_000, seed=14), _ranked(8_000, seed=15)
    train.as_bps = train.as_bps[rng.permutation(train.as_bps.shape[0])]
    test.as_bps = test.as_bps[rng.permutation(test.as_bps.shape[0])]
    fit = adverse.fit_as(train, test, ASParams(1.0, 5.0, 0.0, 0.5))
    assert abs(fit.scores[("fitted", "test")].spearman) < 0.05


def test_poisson_qml_when_negative_markouts_then_mean_matched_exactly():
    """The quasi-likelihood's score equations make the fitted mean equal the realized
    mean over the fills (the intercept's equation), negative values included."""
    from appliance.calibrate.as_rank import design, poisson_qml
    rng = np.random.default_rng(16)
    d, m = rng.exponential(1.0, 5000), rng.normal(0, 1, 5000)
    y = 0.8 * np.exp(0.3 * d) + rng.normal(0, 3.0, 5000)
    x = design(d, m, 10.0, 1.0)
    b, conv = poisson_qml(x, y, np.zeros(5000))
    assert conv
    assert np.exp(x @ b).mean() == pytest.approx(y.mean(), rel=1e-6)
