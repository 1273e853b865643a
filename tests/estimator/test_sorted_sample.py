"""Kappa's K-S sample: the hand-written sort, and the libm calls shared by runs of equal
values, against numpy's sort and the per-element formulas (bit for bit)."""

import math

import numpy as np
import pytest

from appliance.estimator import kappa
from appliance.estimator.sorted_sample import sort_sample


def _tick_distances(rng, n):
    """Distances on a few tick multiples, as trades print (many ties)."""
    return rng.integers(0, 12, n) * 0.0175 + (rng.random(n) < 0.1) * rng.exponential(2.0, n)


@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 31, 33, 100, 255, 256])
def test_sort_sample_when_ties_or_random_then_equals_numpy_sort(n):
    rng = np.random.default_rng(n)
    for x in (_tick_distances(rng, 256), rng.exponential(1.0, 256), np.zeros(256)):
        y = x.copy()
        sort_sample(y, n)
        assert np.array_equal(y[:n], np.sort(x[:n]))
        assert np.array_equal(y[n:], x[n:])  # beyond n: untouched


def test_sort_sample_when_inf_present_then_last():
    x = np.array([3.0, math.inf, 0.0, 1.0] * 8)
    sort_sample(x, x.shape[0])
    assert np.array_equal(x, np.sort(x))


def _ks_reference(x, n):
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    d = 0.0
    for i in range(n):
        f = 1.0 - math.exp(-x[i] / mean)
        d = max(d, (i + 1) / n - f, f - i / n)
    return d, mean


def _lomax_ll_reference(x, n, mean, g):
    s = mean * 10.0 ** (-2.0 + 4.0 * g / (kappa.N_GRID - 1))
    sl = 0.0
    for i in range(n):
        sl += math.log1p(x[i] / s)
    a = n / sl
    return n * math.log(a) - n * math.log(s) - (a + 1.0) * sl, a, s


def test_ks_and_lomax_when_runs_of_ties_then_bit_identical_to_per_element_formulas():
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = np.sort(_tick_distances(rng, 256))
        n = x.shape[0]
        d, mean = kappa.ks_exponential(x, n)
        assert (d, mean) == _ks_reference(x, n)
        for g in range(kappa.N_GRID):
            assert kappa._lomax_ll(x, n, mean, g) == _lomax_ll_reference(x, n, mean, g)
        a, s, dp = kappa.lomax_fit(x, n, mean)
        ref = 0.0
        for i in range(n):
            f = 1.0 - (1.0 + x[i] / s) ** (-a)
            ref = max(ref, (i + 1) / n - f, f - i / n)
        assert dp == ref
