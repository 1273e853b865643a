"""Seed 003 phases 2 and 3: continuous gamma(q) instead of zones, directional kappa."""

import numpy as np
import pytest
from quote_helpers import MAX_POS, bid_depth_bps, cfg_vector, ladder, params

from appliance.quote import glft


def _accumulating_distance_bps(lad) -> float:
    """How far below the fair price the accumulating (bid) side is centred, bps."""
    return lad["skew_bps"] + lad["bid_half_spread_bps"]


def test_gamma_when_utilization_rises_then_continuous_and_strictly_increasing():
    u = np.linspace(0.0, 1.0, 2001)
    g = np.array([glft.gamma_of_q(0.3, 7.0, x) for x in u])
    assert np.all(np.diff(g) > 0)
    assert np.max(np.abs(np.diff(g))) < 0.3 * 7 * 2 * (u[1] - u[0]) * 1.01  # Lipschitz: no jump
    assert glft.gamma_of_q(0.3, 7.0, 0.6) / 0.3 == pytest.approx(3.52)
    assert glft.gamma_of_q(0.3, 7.0, 0.8) / 0.3 == pytest.approx(5.48)  # the seed's "4.92" is 1 + 7 x 0.56
    assert glft.gamma_of_q(0.3, 7.0, 1.0) / 0.3 == pytest.approx(8.0)


def test_ladder_gamma_when_position_grows_then_monotonic_in_the_kernel_too():
    gammas = [ladder(position_sz=u * MAX_POS)[1]["gamma"] for u in np.linspace(0, 0.99, 34)]
    assert np.all(np.diff(gammas) > 0)


@pytest.mark.parametrize("boundary", [0.6, 0.8])
def test_ladder_when_crossing_old_zone_boundary_then_no_jump(boundary):
    eps = 1e-4
    p = params(sigma_clean_bps_per_sqrt_s=1.0)
    lo = ladder(p, position_sz=(boundary - eps) * MAX_POS)[1]
    hi = ladder(p, position_sz=(boundary + eps) * MAX_POS)[1]
    assert abs(_accumulating_distance_bps(hi) - _accumulating_distance_bps(lo)) < 0.05
    assert abs(hi["ask_half_spread_bps"] - lo["ask_half_spread_bps"]) < 0.05
    # the legacy yardstick jumps there
    lo_l = ladder(p, position_sz=(boundary - eps) * MAX_POS, cfg=cfg_vector("legacy"))[1]
    hi_l = ladder(p, position_sz=(boundary + eps) * MAX_POS, cfg=cfg_vector("legacy"))[1]
    assert hi_l["bid_half_spread_bps"] - lo_l["bid_half_spread_bps"] > 1.0


def test_ladder_when_80pct_long_then_accumulating_side_further_than_old_red_zone():
    # sigma 3 bps/sqrt(s): a selloff-like market (the old Red zone's +10 bps is an
    # absolute widening; below about 2.5 bps/sqrt(s) it is the wider of the two)
    p = params(sigma_clean_bps_per_sqrt_s=3.0)
    unified = ladder(p, position_sz=0.81 * MAX_POS)[1]  # 81 %: clear of the zone boundary's rounding
    old = ladder(p, position_sz=0.81 * MAX_POS, cfg=cfg_vector("legacy"))[1]
    assert old["inventory_zone"] == 2  # Red
    assert _accumulating_distance_bps(unified) > _accumulating_distance_bps(old)


@pytest.mark.parametrize("gamma", [1e-6, 0.3, 50.0])
@pytest.mark.parametrize("beta", [0.0, 7.0])
def test_ladder_when_over_100pct_then_accumulating_side_cleared_whatever_gamma(gamma, beta):
    cfg = cfg_vector(gamma=gamma, inventory_beta=beta, use_epnl_filter=False)
    long = ladder(position_sz=1.01 * MAX_POS, cfg=cfg)[1]
    short = ladder(position_sz=-1.01 * MAX_POS, cfg=cfg)[1]
    assert long["n_bids"] == 0 and long["n_asks"] > 0
    assert short["n_asks"] == 0 and short["n_bids"] > 0


def test_ladder_when_flow_neutral_then_unit_multipliers_leave_it_symmetric():
    neutral = ladder(params(kappa_bid_per_bps=0.2, kappa_ask_per_bps=0.2))[1]
    symmetric = ladder(cfg=cfg_vector(use_directional_kappa=False))[1]
    assert neutral["bid_half_spread_bps"] == pytest.approx(neutral["ask_half_spread_bps"])
    assert neutral["bid_half_spread_bps"] == pytest.approx(symmetric["bid_half_spread_bps"])
    assert np.array_equal(neutral["bid_px"], symmetric["bid_px"])


def test_ladder_when_sell_pressure_then_bid_wider_than_ask():
    # the estimator's flow multipliers: sell pressure -> kappa_bid down, kappa_ask up
    p = params(kappa_bid_per_bps=0.2 * 0.6, kappa_ask_per_bps=0.2 * 1.4, kappa_mult_bid=0.6,
               kappa_mult_ask=1.4)
    lad = ladder(p)[1]
    flat = ladder()[1]
    assert lad["bid_half_spread_bps"] > flat["bid_half_spread_bps"] > lad["ask_half_spread_bps"]
    assert bid_depth_bps(lad) > bid_depth_bps(flat)
