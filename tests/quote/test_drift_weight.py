"""Issue 16 (opt-in): the drift moves the quotes by its expected move over the horizon:
weighted by its scored skill, carried by its OU decay, capped by sigma. Off (the default)
and in legacy the raw drift moves them."""

import math

import pytest
from quote_helpers import cfg_vector, ladder, params

T_S = 5.0  # quote.horizon_s
SIGMA = 2.0  # BASE's sigma_clean, bps/sqrt(s)


ON = dict(drift_skill_weight=True, drift_cap_sigmas=1.0)


def _shift(cfg=None, **p):
    return ladder(params(**p), cfg=cfg_vector(**ON) if cfg is None else cfg)[1]["drift_shift_bps"]


def test_shift_when_skill_scales_then_proportional_and_zero_skill_no_lean():
    raw = cfg_vector(drift_skill_weight=True)
    full = _shift(raw, drift_bps_per_s=1.0, drift_skill=1.0)
    assert full == pytest.approx(0.5 * 1.0 * T_S)
    assert _shift(raw, drift_bps_per_s=1.0, drift_skill=0.5) == pytest.approx(0.5 * full)
    assert _shift(raw, drift_bps_per_s=1.0, drift_skill=0.0) == 0.0


def test_shift_when_skill_not_finite_then_no_lean_but_still_quoting():
    reason, lad = ladder(params(drift_bps_per_s=1.0, drift_skill=float("nan")), cfg=cfg_vector(**ON))
    assert reason == 0 and lad["drift_shift_bps"] == 0.0 and lad["n_bids"] > 0 and lad["n_asks"] > 0


def test_shift_when_drift_reverts_then_carried_over_the_ou_horizon_only():
    raw = cfg_vector(drift_skill_weight=True)
    got = _shift(raw, drift_bps_per_s=1.0, drift_theta_per_s=1.0)
    assert got == pytest.approx(0.5 * (1.0 - math.exp(-T_S)))  # ~1/5 of mu T / 2


def test_shift_when_drift_huge_then_capped_at_k_sigma_sqrt_t_over_two_both_ways():
    cap = 1.0 * SIGMA * math.sqrt(T_S) / 2
    assert _shift(drift_bps_per_s=20.0) == pytest.approx(cap)
    assert _shift(drift_bps_per_s=-20.0) == pytest.approx(-cap)
    assert _shift(cfg_vector(drift_cap_sigmas=2.0), drift_bps_per_s=20.0) == pytest.approx(2 * cap)


def test_shift_when_off_by_default_then_raw_drift_whatever_its_skill():
    assert _shift(cfg_vector(), drift_bps_per_s=1.0, drift_skill=0.0,
                  drift_theta_per_s=1.0) == pytest.approx(0.5 * T_S)


def test_legacy_when_skill_zero_then_drift_still_taken_raw_and_clamped():
    assert _shift(cfg_vector("legacy"), drift_bps_per_s=1.0, drift_skill=0.0,
                  drift_theta_per_s=1.0) == pytest.approx(0.5 * T_S)
