"""Issue 16, requests per USDC traded: the quote kernel's three levers on what a ladder
spends on requests for the volume it trades.

* ``quote.as_momentum_rest_s``: the AS momentum term averaged over an order's rest, so a
  one-second move does not swing a side's break-even depth by the whole term;
* ``quote.volume_credit_bps``: while requests run ahead of the USDC traded (the address
  budget shrinks: one request back per USDC), the kernel prices the fee less a credit
  that ramps to this over ``volume_credit_ramp_requests`` (the fills still pay the fee),
  and moves a side's sizes toward an even split as far up the ramp;
* ``quote.size_by_edge``: a side's budget split by per-fill edge or evenly."""

import math

import numpy as np
import pytest
from quote_helpers import ask_depth_bps, bid_depth_bps, cfg_vector, ladder, params

from appliance.config import ConfigError, load_config
from appliance.quote import account, epnl, kernel
from appliance.quote.config import C_MOM_REST_S, C_MOM_TAU_S
from appliance.quote.margin import A_REQUEST_DEFICIT
from appliance.quote.presets import preset_config
from shm_layout import records


def _numeric_avg(log_mult: float, rest_s: float, tau_s: float, n: int = 20_000) -> float:
    t = (np.arange(n) + 0.5) * rest_s / n
    return float(np.mean(np.exp(log_mult * np.exp(-t / tau_s))))


@pytest.mark.parametrize("log_mult", [-0.76, -0.2, 0.0, 0.3, 0.76, 2.0])
@pytest.mark.parametrize("rest_s", [0.5, 2.0, 8.0])
def test_rest_avg_mult_is_the_average_of_the_decaying_term_over_the_rest(log_mult, rest_s):
    assert epnl.rest_avg_mult(log_mult, rest_s, 1.0) == pytest.approx(
        _numeric_avg(log_mult, rest_s, 1.0), rel=1e-6)


def test_rest_avg_mult_without_a_rest_is_the_instant_term_and_shrinks_toward_one_with_it():
    assert epnl.rest_avg_mult(0.76, 0.0, 1.0) == pytest.approx(math.exp(0.76))
    mults = [epnl.rest_avg_mult(0.76, h, 1.0) for h in (0.5, 2.0, 8.0, 60.0)]
    assert all(a > b > 1.0 for a, b in zip(mults[:-1], mults[1:], strict=True))
    low = [epnl.rest_avg_mult(-0.76, h, 1.0) for h in (0.5, 2.0, 8.0, 60.0)]
    assert all(a < b < 1.0 for a, b in zip(low[:-1], low[1:], strict=True))


# the calibrated shape of usdm_btc (BENCHMARKS): AS grows with depth, capped
AS = dict(as0_bps=0.62, as_delta_char_bps=1000.0, as_depth_coef_per_bps=0.34, as_depth_cap_bps=8.2)


def test_momentum_rest_moves_a_sides_break_even_less_than_the_instant_term():
    calm = params(**AS)
    moved = params(**AS, as_log_mult_bid=0.76, as_log_mult_ask=-0.76)  # the mid just rose
    for rest, swing_at_most in ((0.0, None), (8.0, 4.0)):
        # the side's break-even depth, where the move-out puts its inner level
        cfg = cfg_vector(as_momentum_rest_s=rest, epnl_move_out=True)
        swing = bid_depth_bps(ladder(moved, cfg=cfg)[1]) - bid_depth_bps(ladder(calm, cfg=cfg)[1])
        if swing_at_most is None:
            instant = swing
            assert instant > 5.0  # past the gateway's urgent tolerance: a risk-price modify
        else:
            assert 0.0 <= swing < swing_at_most < instant


def test_momentum_rest_reads_the_estimators_tau():
    cfg = load_config(overrides={"quote": {"as_momentum_rest_s": 8.0},
                                 "estimator": {"adverse_selection": {"momentum_tau_ms": 2500.0}}})
    from appliance.quote.config import config_vector, estimator_momentum_tau_s
    c = config_vector(cfg.quote, cfg.risk, estimator_momentum_tau_s(cfg))
    assert c[C_MOM_REST_S] == 8.0 and c[C_MOM_TAU_S] == 2.5


def _acct(deficit: float) -> np.ndarray:
    a = kernel.account_unknown()
    a[A_REQUEST_DEFICIT] = deficit
    return a


@pytest.mark.parametrize(("deficit", "credit"), [(-500.0, 0.0), (0.0, 0.0), (25.0, 0.375),
                                                 (100.0, 1.5), (1e6, 1.5)])
def test_volume_credit_ramps_with_the_request_deficit(deficit, credit):
    ramp = dict(volume_credit_ramp_requests=100.0, volume_credit_surplus_requests=0.0)
    cfg = cfg_vector(volume_credit_bps=1.5, **ramp)
    assert kernel.volume_credit_bps(cfg, _acct(deficit)) == pytest.approx(credit)
    assert kernel.volume_credit_bps(cfg_vector(volume_credit_bps=0.0), _acct(deficit)) == 0.0  # off
    # at most the fee: at a rebate tier there is no margin to give up
    assert kernel.volume_credit_bps(cfg_vector(volume_credit_bps=1.5, maker_fee_bps=0.5, **ramp),
                                    _acct(deficit)) == pytest.approx(credit / 3.0)
    assert kernel.volume_credit_bps(cfg_vector(volume_credit_bps=1.5, maker_fee_bps=-0.3, **ramp),
                                    _acct(deficit)) == 0.0


@pytest.mark.parametrize(("deficit", "credit"), [(-500.0, 0.0), (-100.0, 0.0), (-50.0, 0.75),
                                                 (0.0, 1.5), (30.0, 1.5)])
def test_volume_credit_aims_at_a_surplus_of_requests(deficit, credit):
    # the ramp starts 100 requests in surplus (volume that far ahead of the requests) and
    # is full at the break-even: a run ends with its budget grown, not hovering at it
    cfg = cfg_vector(volume_credit_bps=1.5, volume_credit_ramp_requests=100.0,
                     volume_credit_surplus_requests=100.0)
    assert kernel.volume_credit_bps(cfg, _acct(deficit)) == pytest.approx(credit)
    assert kernel.volume_credit_frac(cfg, _acct(deficit)) == pytest.approx(credit / 1.5)


def test_volume_credit_brings_the_ladder_in_only_while_the_budget_shrinks():
    p = params(**AS)
    cfg = cfg_vector(volume_credit_bps=1.5, volume_credit_surplus_requests=0.0)
    plain = ladder(p, cfg=cfg_vector(volume_credit_bps=0.0), acct=_acct(500.0))[1]
    keeping_up = ladder(p, cfg=cfg, acct=_acct(-500.0))[1]
    short = ladder(p, cfg=cfg, acct=_acct(500.0))[1]
    assert (keeping_up["bid_px"] == plain["bid_px"]).all() and (keeping_up["ask_px"] == plain["ask_px"]).all()
    assert short["n_bids"] > 0 and short["n_asks"] > 0
    assert bid_depth_bps(short) < bid_depth_bps(plain)
    assert ask_depth_bps(short) < ask_depth_bps(plain)


def test_volume_credit_moves_sizes_toward_even_as_the_deficit_grows():
    cfg = cfg_vector(volume_credit_bps=1.5, volume_credit_ramp_requests=100.0,
                     volume_credit_surplus_requests=0.0)

    def spread_of_sizes(deficit):
        lad = ladder(cfg=cfg, acct=_acct(deficit))[1]
        n = lad["n_bids"]
        assert n >= 3
        return lad["bid_sz"][n - 1] / lad["bid_sz"][0]  # deepest over best

    keeping_up, half, full = spread_of_sizes(-10.0), spread_of_sizes(50.0), spread_of_sizes(500.0)
    assert keeping_up > half > full
    assert full == pytest.approx(1.0, rel=0.05)  # even, to the lot


def test_the_request_deficit_is_read_from_the_position_record_even_without_the_account():
    pos = np.zeros(1, records.POSITION_STATE)[0]
    pos["requests_sent"] = 250
    pos["volume_usd"] = 100.0
    a = kernel.account_unknown()
    assert not account.fill_from_position(a, pos, 1, 10)  # no account data: margin unknown
    assert a[A_REQUEST_DEFICIT] == 150.0


def test_the_paper_executor_counts_a_modify_as_one_request():
    from appliance.gateway import paper
    pcfg = paper.config_vector(load_config().gateway)
    pos = np.zeros(1, records.POSITION_STATE)
    lad = np.zeros(1, records.TARGET_LADDER)
    lad["n_bids"], lad["n_asks"] = 1, 1
    lad["bid_px"][0, 0], lad["ask_px"][0, 0] = 100_000.0, 100_100.0
    lad["bid_sz"][0, 0] = lad["ask_sz"][0, 0] = 0.01
    paper.reconcile(pos[0], lad[0], 0, pcfg)
    assert pos[0]["requests_sent"] == 2
    lad["bid_px"][0, 0] = 100_050.0  # 5 bps: past the tolerance, one modify
    paper.reconcile(pos[0], lad[0], 0, pcfg)
    assert pos[0]["orders_placed"] + pos[0]["orders_cancelled"] == 4  # it counts in both
    assert pos[0]["requests_sent"] == 3


def test_volume_credit_and_momentum_rest_are_off_in_the_yardsticks():
    base = load_config(overrides={"quote": {"volume_credit_bps": 1.5, "as_momentum_rest_s": 8.0,
                                            "size_by_edge": False}})
    legacy = preset_config("legacy", base).quote
    assert legacy.volume_credit_bps == 0.0 and legacy.as_momentum_rest_s == 0.0
    assert legacy.size_by_edge
    assert preset_config("no_as", base).quote.volume_credit_bps == 0.0


@pytest.mark.parametrize("key", ["volume_credit_bps", "as_momentum_rest_s",
                                 "volume_credit_ramp_requests", "volume_credit_surplus_requests"])
def test_a_negative_credit_or_rest_is_a_config_error(key):
    with pytest.raises(ConfigError, match=key):
        load_config(overrides={"quote": {key: -1.0}})


def test_even_sizes_split_the_budget_evenly_and_by_edge_deeper_levels_get_more():
    by_edge = ladder(cfg=cfg_vector())[1]
    even = ladder(cfg=cfg_vector(size_by_edge=False))[1]
    n = even["n_bids"]
    assert n >= 3
    assert np.allclose(even["bid_sz"][:n], even["bid_sz"][0], rtol=0.02)
    m = by_edge["n_bids"]
    assert by_edge["bid_sz"][m - 1] > by_edge["bid_sz"][0]
