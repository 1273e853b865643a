"""Seed 003 phases 4 and 6: per-level E[PnL] decides what is quoted; funding carry;
the size allocation."""

import numpy as np
import pytest
from quote_helpers import BASE, MAX_POS, ask_depth_bps, bid_depth_bps, cfg_vector, ladder, params

from appliance.config import load_config
from appliance.quote import alloc, epnl
from shm_layout.constants import PULL_NO_EDGE

# the drop rule alone: a level with E <= 0 leaves the ladder (not moved out, issue 16's
# quote.epnl_move_out; tests/quote/test_epnl_move_out.py), up to the hard limit
DROP_RULE = cfg_vector(epnl_move_out=False, inventory_soft_limit_frac=1.0)


def test_epnl_when_flat_then_positive_at_the_touch_level_on_both_sides():
    lad = ladder()[1]
    assert lad["bid_epnl_bps"][0] > 0 and lad["ask_epnl_bps"][0] > 0
    assert lad["epnl_dropped_bids"] == 0 and lad["epnl_dropped_asks"] == 0


def test_epnl_when_80pct_long_then_accumulating_negative_and_reducing_positive():
    # the E[PnL] term alone: without the soft limit, which would clear the bids first
    lad = ladder(position_sz=0.8 * MAX_POS, cfg=DROP_RULE)[1]
    assert lad["n_bids"] == 0 and lad["epnl_dropped_bids"] == 5  # every bid had E <= 0
    assert lad["n_asks"] > 0 and np.all(lad["ask_epnl_bps"][:lad["n_asks"]] > 0)
    assert lad["legacy_gate"] == 2  # the old gate (only asks) is logged, not needed


def test_epnl_when_30pct_long_then_both_sides_still_quoted():
    lad = ladder(position_sz=0.3 * MAX_POS)[1]
    assert lad["n_bids"] > 0 and lad["n_asks"] > 0


def test_epnl_when_5_sigma_cascade_then_every_level_negative_and_nothing_quoted():
    reason, lad = ladder(params(sigma_clean_bps_per_sqrt_s=10.0), cfg=DROP_RULE)
    assert reason == PULL_NO_EDGE and lad["n_bids"] == 0 and lad["n_asks"] == 0
    assert lad["epnl_dropped_bids"] == 5 and lad["epnl_dropped_asks"] == 5


def test_epnl_when_drift_negative_then_bid_below_ask_and_quotes_shift_down():
    flat = ladder()[1]
    down = ladder(params(drift_bps_per_s=-0.5))[1]
    assert down["bid_epnl_bps"][0] < down["ask_epnl_bps"][0]
    assert down["bid_px"][0] < flat["bid_px"][0] and down["ask_px"][0] < flat["ask_px"][0]
    assert down["drift_shift_bps"] == pytest.approx(-0.5 * 5.0 / 2)  # mu T / 2, T = 5 s


def test_epnl_when_drift_strongly_negative_then_near_bids_dropped_without_a_gate():
    lad = ladder(params(drift_bps_per_s=-3.0), cfg=DROP_RULE)[1]
    assert lad["epnl_dropped_bids"] >= 1 and lad["epnl_dropped_asks"] == 0
    assert lad["n_asks"] == 5 and lad["legacy_gate"] == 0  # the old gate saw nothing
    assert bid_depth_bps(lad) > 15.0  # what is left is paid for the drift


def test_carry_when_paying_funding_then_positive_and_when_receiving_half_back():
    assert epnl.carry_bps(2.0, 1) == pytest.approx(2.0)  # longs pay: a bid fill pays
    assert epnl.carry_bps(2.0, -1) == pytest.approx(-1.0)  # a short receives: bonus
    assert epnl.carry_bps(-2.0, -1) == pytest.approx(2.0)


def test_epnl_when_paying_funding_then_narrower_profitability_and_skew_to_sell():
    flat = ladder()[1]
    fund = ladder(params(funding_cost_bps=1.0, funding_rate_per_h=1e-4))[1]
    assert fund["bid_epnl_bps"][0] < flat["bid_epnl_bps"][0]
    assert fund["ask_epnl_bps"][0] > flat["ask_epnl_bps"][0]
    assert fund["reservation_px"] < flat["reservation_px"]
    off = ladder(params(funding_cost_bps=1.0, funding_rate_per_h=1e-4), cfg=cfg_vector(funding_scale=0.0))[1]
    assert off["bid_epnl_bps"][0] == pytest.approx(flat["bid_epnl_bps"][0])


def test_epnl_when_side_toxic_then_its_as_rises_and_its_levels_thin_out():
    flat = ladder()[1]
    tox = ladder(params(toxicity_bid=0.95))[1]
    assert tox["bid_as_bps"][0] > flat["bid_as_bps"][0]
    assert tox["bid_epnl_bps"][0] < flat["bid_epnl_bps"][0]
    assert tox["gamma"] > flat["gamma"]


def test_alloc_when_levels_differ_then_not_an_even_split_and_within_total():
    lad = ladder()[1]
    sizes = lad["bid_sz"][:lad["n_bids"]]
    assert len(set(np.round(sizes, 6))) > 1
    assert sizes.sum() <= 0.005 + 1e-12
    assert np.all(sizes * lad["bid_px"][:lad["n_bids"]] >= 10.0)
    assert np.all(np.diff(sizes) > 0)  # deeper levels: more edge per fill, more size


def test_alloc_when_near_max_position_then_bids_within_headroom():
    pos = MAX_POS - 0.002  # 0.002 coin of headroom at the limit in coin at BASE's mid
    lad = ladder(params(sigma_clean_bps_per_sqrt_s=0.3), position_sz=pos)[1]
    assert lad["bid_sz"][:lad["n_bids"]].sum() <= 0.002 + 1e-12
    side_sz = load_config().quote.level_size_usd * 5 / BASE["mid_px"]  # a side's budget in coin
    assert lad["ask_sz"][:lad["n_asks"]].sum() == pytest.approx(side_sz, abs=1e-4)


def test_alloc_when_a_level_below_min_notional_then_dropped_and_budget_redistributed():
    px = np.full(4, 100_000.0)
    sz = np.array([1.0, 1.0, 1.0, 0.01])  # weights
    kept = alloc.allocate(px, sz, 4, 0.0005, 10.0, 5)
    assert kept == 3 and sz[3] == 0.0
    assert sz[:3].sum() <= 0.0005 + 1e-12 and np.all(sz[:3] * 100_000 >= 10.0)
    sz = np.array([1.0, 2.0])
    assert alloc.allocate(px, sz, 2, 0.00005, 10.0, 5) == 0  # 5 $: below any minimum


def test_epnl_when_no_as_then_no_adverse_selection_term():
    lad = ladder(cfg=cfg_vector("no_as"))[1]
    assert np.all(lad["bid_as_bps"][:lad["n_bids"]] == 0.0)
    assert lad["bid_epnl_bps"][0] > ladder()[1]["bid_epnl_bps"][0]


def test_epnl_depth_matches_prices():
    lad = ladder()[1]
    d = bid_depth_bps(lad)
    assert lad["bid_fill_prob"][0] == pytest.approx(np.exp(-0.2 * d))
    assert lad["ask_fill_prob"][0] == pytest.approx(np.exp(-0.2 * ask_depth_bps(lad)))


def test_epnl_when_inventory_horizon_longer_then_accumulating_lower_and_reducing_higher():
    p = params(sigma_clean_bps_per_sqrt_s=0.5)
    pos = 0.3 * MAX_POS
    short_h = ladder(p, position_sz=pos, cfg=cfg_vector(inventory_horizon_s=8.0, epnl_move_out=False))[1]
    long_h = ladder(p, position_sz=pos, cfg=cfg_vector(inventory_horizon_s=600.0, epnl_move_out=False))[1]
    assert long_h["ask_epnl_bps"][0] > short_h["ask_epnl_bps"][0]  # the reducing bonus grows
    assert long_h["epnl_dropped_bids"] > short_h["epnl_dropped_bids"]  # accumulating bids go


def test_epnl_when_jumps_raise_total_sigma_then_inventory_penalty_higher():
    calm = ladder(params(), position_sz=0.5 * MAX_POS)[1]
    jumpy = ladder(params(sigma_total_bps_per_sqrt_s=4.0), position_sz=0.5 * MAX_POS)[1]
    assert jumpy["skew_bps"] > calm["skew_bps"] > 0  # long: reservation below the fair price
    assert jumpy["ask_epnl_bps"][0] > calm["ask_epnl_bps"][0]


def test_as_when_ranking_terms_published_then_deeper_levels_and_the_named_side_cost_more():
    """Issue 14's AS ranking terms: a positive depth coefficient makes a deeper level's
    AS grow (up to the cap, then in step with the decay alone); the momentum term of
    one side scales that side's AS only."""
    every = cfg_vector(use_epnl_filter=False)  # keep every level: compare them one by one
    flat = ladder(params(as_delta_char_bps=1000.0), cfg=every)[1]
    grown = ladder(params(as_delta_char_bps=1000.0, as_depth_coef_per_bps=0.3, as_depth_cap_bps=50.0),
                   cfg=every)[1]
    d = np.array([bid_depth_bps(flat, i) for i in range(3)])
    assert d[1] > d[0]
    ratio = grown["bid_as_bps"][:3] / flat["bid_as_bps"][:3]
    assert ratio == pytest.approx(np.exp(0.3 * d), rel=1e-6)
    instant = cfg_vector(use_epnl_filter=False, as_momentum_rest_s=0.0)
    mom = ladder(params(as_delta_char_bps=1000.0, as_log_mult_bid=0.5), cfg=instant)[1]
    assert mom["bid_as_bps"][0] == pytest.approx(flat["bid_as_bps"][0] * np.exp(0.5))
    assert mom["ask_as_bps"][0] == pytest.approx(flat["ask_as_bps"][0])
    # by default averaged over the order's rest (issue 16): the same side, less of it
    rest = ladder(params(as_delta_char_bps=1000.0, as_log_mult_bid=0.5), cfg=every)[1]
    assert rest["bid_as_bps"][0] == pytest.approx(
        flat["bid_as_bps"][0] * epnl.rest_avg_mult(0.5, 8.0, 1.0))
    assert flat["bid_as_bps"][0] < rest["bid_as_bps"][0] < mom["bid_as_bps"][0]
    assert epnl.as_bps(1.0, 1000.0, 100.0, 1.0, 0.3, 4.0) == pytest.approx(np.exp(-0.1 + 1.2))
