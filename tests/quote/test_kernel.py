"""The ladder's shape and its guards: GLFT depths, rounding, no crossing, pulls."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quote_helpers import NOW, cfg_vector, ladder, params

from appliance.quote import glft, kernel
from appliance.quote.ids import decode_prediction_id
from appliance.quote.margin import A_AVAILABLE_MARGIN_USD, A_LEVERAGE, A_LIQ_PX
from shm_layout import records
from shm_layout.constants import (
    PULL_CASCADE,
    PULL_KILL,
    PULL_NO_PARAMS,
    PULL_NONE,
    PULL_NOT_FINITE,
)


def test_ladder_when_flat_then_five_glft_levels_a_side_outside_the_touch():
    reason, lad = ladder()
    assert reason == PULL_NONE and lad["n_bids"] == 5 and lad["n_asks"] == 5
    expected = glft.half_spread_bps(0.3, 0.2, 1.5)
    assert lad["bid_half_spread_bps"] == pytest.approx(expected)
    bids, asks = lad["bid_px"][:5], lad["ask_px"][:5]
    assert np.all(np.diff(bids) < 0) and np.all(np.diff(asks) > 0)
    depth = (100_000.5 - bids[0]) / 100_000.5 * 1e4
    assert expected <= depth < expected + 0.2  # GLFT depth, rounded away to the tick
    assert lad["ask_px"][0] - lad["bid_px"][0] >= 100_000.5 * 8e-4  # 8 bps floor


def test_ladder_when_gaps_geometric_then_they_grow_and_linear_then_equal():
    _, geo = ladder(cfg=cfg_vector(spacing_mode="geometric", spacing_ratio=1.5, level_spacing_bps=4.0))
    _, lin = ladder(cfg=cfg_vector(spacing_mode="linear", level_spacing_bps=4.0))
    g = -np.diff(geo["bid_px"][:5])
    n = -np.diff(lin["bid_px"][:5])
    assert np.all(np.diff(g) > 0)
    assert np.all(np.abs(n - n[0]) <= 1.0)  # equal up to the tick


def test_ladder_when_min_spread_wide_then_floor_holds_and_cap_limits():
    _, lad = ladder(cfg=cfg_vector(min_spread_bps=30.0))
    assert lad["bid_half_spread_bps"] + lad["ask_half_spread_bps"] == pytest.approx(30.0)
    _, capped = ladder(params(kappa_bid_per_bps=0.01, kappa_ask_per_bps=0.01),
                       cfg=cfg_vector(max_half_spread_bps=10.0))
    assert capped["bid_half_spread_bps"] == pytest.approx(10.0)
    wide = params(kappa_bid_per_bps=0.05, kappa_ask_per_bps=0.05, spread_bps=1.0)
    _, mkt = ladder(wide, cfg=cfg_vector(market_spread_cap_mult=6.0))
    assert mkt["bid_half_spread_bps"] == pytest.approx(6.0)  # 6 x 1 bps market spread


def test_ladder_when_rounded_then_prices_on_tick_and_sizes_on_lot():
    p = params(mid_px=2500.005, microprice_px=2500.005, best_bid_px=2500.0, best_ask_px=2500.01,
               tick_size_px=0.01)
    _, lad = ladder(p, cfg=cfg_vector(sz_decimals=4, total_size_sz=0.2))
    for px in (*lad["bid_px"][:lad["n_bids"]], *lad["ask_px"][:lad["n_asks"]]):
        assert abs(px * 10 - round(px * 10)) < 1e-9  # 5 significant figures at 2500: 0.1
    for sz in (*lad["bid_sz"][:lad["n_bids"]], *lad["ask_sz"][:lad["n_asks"]]):
        assert abs(sz * 1e4 - round(sz * 1e4)) < 1e-6 and sz * 2500 >= 10.0


def test_ladder_when_quoted_then_each_level_carries_predictions_and_a_unique_id():
    _, lad = ladder(params(coin=3))
    ids = list(lad["bid_pred_id"][:5]) + list(lad["ask_pred_id"][:5])
    assert len(set(ids)) == 10 and all(i > 0 for i in ids)
    coin, ladder_id, side, level = decode_prediction_id(int(lad["ask_pred_id"][2]))
    assert (coin, ladder_id, side, level) == (3, lad["ladder_id"], -1, 2)
    assert np.all((lad["bid_fill_prob"][:5] > 0) & (lad["bid_fill_prob"][:5] <= 1))
    assert np.all(np.diff(lad["bid_fill_prob"][:5]) < 0)  # deeper fills less
    assert np.all(lad["bid_as_bps"][:5] > 0) and np.all(np.diff(lad["bid_as_bps"][:5]) < 0)


def test_ladder_when_computed_twice_then_ladder_id_advances_and_ids_differ():
    p = params()
    cfg = cfg_vector()
    out = np.zeros(1, records.TARGET_LADDER)
    kernel.compute_ladder(p[0], 0.0, kernel.account_unknown(), cfg, 0, 0, NOW, out[0])
    first = int(out[0]["bid_pred_id"][0])
    kernel.compute_ladder(p[0], 0.0, kernel.account_unknown(), cfg, 0, 0, NOW, out[0])
    assert out[0]["ladder_id"] == 2 and int(out[0]["bid_pred_id"][0]) != first


FIELDS = ["kappa_bid_per_bps", "kappa_ask_per_bps", "sigma_clean_bps_per_sqrt_s", "microprice_px",
          "best_bid_px", "best_ask_px", "tick_size_px", "drift_bps_per_s", "as0_bps",
          "as_delta_char_bps", "toxicity_bid", "gamma_multiplier", "funding_cost_bps",
          "tail_risk_multiplier"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_ladder_when_input_not_finite_then_pulled_never_a_bad_quote(field, bad):
    reason, lad = ladder(params(**{field: bad}))
    assert reason == PULL_NOT_FINITE and lad["n_bids"] == 0 and lad["n_asks"] == 0
    assert np.all(lad["bid_px"] == 0) and np.all(lad["ask_sz"] == 0)


@pytest.mark.parametrize("field", ["kappa_bid_per_bps", "microprice_px", "tick_size_px",
                                   "gamma_multiplier", "best_bid_px"])
def test_ladder_when_parameter_missing_zero_then_pulled(field):
    assert ladder(params(**{field: 0.0}))[0] == PULL_NOT_FINITE


def test_ladder_when_position_or_account_nan_then_pulled():
    assert ladder(position_sz=math.nan)[0] == PULL_NOT_FINITE
    acct = kernel.account_unknown()
    acct[A_AVAILABLE_MARGIN_USD] = math.nan
    assert ladder(acct=acct)[0] == PULL_NOT_FINITE


def test_ladder_when_params_invalid_or_stale_then_pulled():
    assert ladder(params(valid=0))[0] == PULL_NO_PARAMS
    assert ladder(params(update_mono_ns=NOW - 6_000_000_000))[0] == PULL_NO_PARAMS


def test_ladder_when_kill_then_pulled():
    reason, lad = ladder(kill=1)
    assert reason == PULL_KILL and lad["n_bids"] == 0 and lad["n_asks"] == 0


def test_ladder_when_cascade_then_pulled_with_a_reason():
    reason, lad = ladder(params(should_pull_quotes=1))
    assert reason == PULL_CASCADE and lad["pulled_reason"] == PULL_CASCADE and lad["n_bids"] == 0


def test_ladder_when_reservation_far_above_then_bid_still_below_best_ask():
    _, lad = ladder(params(microprice_px=100_100.0))
    assert lad["bid_px"][0] < 100_001.0 and lad["ask_px"][0] > 100_000.0


def test_ladder_when_rate_budget_short_then_only_reducing_side_up_to_position():
    _, lad = ladder(position_sz=0.01, reducing_only=1)
    assert lad["n_bids"] == 0 and lad["n_asks"] > 0
    assert lad["ask_sz"][:lad["n_asks"]].sum() <= 0.01 + 1e-12
    assert lad["reducing_only"] == 1 and lad["reduce_only_side"] == -1
    _, flat = ladder(position_sz=0.0, reducing_only=1)
    assert flat["n_bids"] == 0 and flat["n_asks"] == 0


def test_ladder_when_margin_short_then_accumulating_size_limited():
    acct = kernel.account_unknown()
    acct[A_AVAILABLE_MARGIN_USD] = 30.0  # 30 $ x 10 x 0.8 = 240 $ = 0.0024 BTC
    acct[A_LEVERAGE] = 10.0
    _, lad = ladder(acct=acct)
    assert 0 < lad["bid_sz"][:lad["n_bids"]].sum() <= 0.0024 + 1e-12
    _, long = ladder(position_sz=0.01, acct=acct)  # the reducing side needs no margin
    assert long["ask_sz"][:long["n_asks"]].sum() == pytest.approx(0.005, abs=1e-4)


def test_ladder_when_liquidation_close_then_accumulating_side_cleared():
    acct = kernel.account_unknown()
    acct[A_LIQ_PX] = 99_000.0  # 100 bps away, guard 300 bps
    _, lad = ladder(position_sz=0.01, acct=acct)
    assert lad["n_bids"] == 0 and lad["n_asks"] > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mid=st.floats(10.0, 200_000.0), spread_ticks=st.integers(1, 50),
       kappa_b=st.floats(0.01, 5.0), kappa_a=st.floats(0.01, 5.0), sigma=st.floats(0.0, 30.0),
       drift=st.floats(-50.0, 50.0), micro_bps=st.floats(-30.0, 30.0), util=st.floats(-1.2, 1.2),
       tox=st.floats(0.0, 1.0), funding=st.floats(-50.0, 50.0), gm=st.floats(0.5, 3.0))
def test_ladder_when_params_random_then_never_crossing_and_sane(mid, spread_ticks, kappa_b, kappa_a,
                                                              sigma, drift, micro_bps, util, tox,
                                                              funding, gm):
    tick = 10.0 ** (math.floor(math.log10(mid)) - 4)
    bid0 = math.floor(mid / tick) * tick
    ask0 = bid0 + spread_ticks * tick
    p = params(mid_px=0.5 * (bid0 + ask0), microprice_px=0.5 * (bid0 + ask0) * (1 + micro_bps * 1e-4),
               best_bid_px=bid0, best_ask_px=ask0, tick_size_px=tick, kappa_bid_per_bps=kappa_b,
               kappa_ask_per_bps=kappa_a, sigma_clean_bps_per_sqrt_s=sigma, drift_bps_per_s=drift,
               toxicity_bid=tox, funding_cost_bps=funding, gamma_multiplier=gm)
    cfg = cfg_vector(total_size_sz=100.0, min_notional_usd=0.0, risk={"max_position_sz": 0.05})
    reason, lad = ladder(p, position_sz=util * 0.05, cfg=cfg)
    nb, na = lad["n_bids"], lad["n_asks"]
    bids, asks = lad["bid_px"][:nb], lad["ask_px"][:na]
    assert np.all(np.isfinite(bids)) and np.all(np.isfinite(asks))
    assert np.all(bids < ask0 - 1e-9) and np.all(asks > bid0 + 1e-9)
    assert np.all(bids > 0)
    if nb and na:
        assert bids[0] < asks[0]
    assert np.all(np.diff(bids) < 0) and np.all(np.diff(asks) > 0)
    assert lad["bid_sz"][:nb].sum() <= max(0.05 - util * 0.05, 0.0) + 1e-9  # never past max position
    assert lad["ask_sz"][:na].sum() <= max(0.05 + util * 0.05, 0.0) + 1e-9
    if util >= 1.0:
        assert nb == 0
    if util <= -1.0:
        assert na == 0


# --- sizes in notional (issue 16) ----------------------------------------------------------

def _eth(mid=2500.005):
    return params(mid_px=mid, microprice_px=mid, best_bid_px=mid - 0.005, best_ask_px=mid + 0.005,
                  tick_size_px=0.01)


def test_sizes_when_in_usd_then_a_side_is_n_levels_of_level_size_at_the_mid():
    eth, btc = cfg_vector(sz_decimals=4, level_size_usd=100.0), cfg_vector(level_size_usd=100.0)
    for p, cfg in ((_eth(), eth), (params(), btc)):
        _, lad = ladder(p, cfg=cfg)
        side_usd = float((lad["bid_sz"][:lad["n_bids"]] * lad["bid_px"][:lad["n_bids"]]).sum())
        assert lad["n_bids"] == 5 and 480.0 <= side_usd <= 500.0  # $500, floored to the lot


def test_sizes_when_coin_override_then_it_wins_over_usd():
    _, lad = ladder(_eth(), cfg=cfg_vector(sz_decimals=4, total_size_sz=0.01))  # $25: 2 levels at most
    assert lad["bid_sz"][:lad["n_bids"]].sum() <= 0.01 + 1e-12


def test_position_limit_when_in_usd_then_utilization_is_position_over_limit_at_the_mid():
    _, lad = ladder(_eth(), position_sz=0.4, cfg=cfg_vector(risk={"max_position_usd": 2000.0}))
    assert lad["inventory_util"] == pytest.approx(0.4 * 2500.005 / 2000.0)
    _, past = ladder(_eth(), position_sz=0.81, cfg=cfg_vector(risk={"max_position_usd": 2000.0}))
    assert past["n_bids"] == 0  # beyond the limit at this mid: the accumulating side goes


def test_sizes_when_mid_not_usable_then_pulled_not_quoted():
    for mid in (0.0, float("nan")):
        reason, lad = ladder(params(mid_px=mid))
        assert reason != 0 and lad["n_bids"] == 0 and lad["n_asks"] == 0
