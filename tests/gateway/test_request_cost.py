"""Issue 16, requests worth their cost: a modify for a ladder level expected to earn less
than one request of the address budget costs is not sent while the resting order adds no
risk, and a request costs something only as the volume budget runs down."""

from __future__ import annotations

import math

import numpy as np
import pytest

from appliance.config import ConfigError, load_config
from appliance.gateway import pacing_kernel as pk
from appliance.gateway import reconcile_kernel as rk
from appliance.gateway.reconcile_plan import LiveOrder, PlanConfig, plan_coin, targets_from_ladder
from appliance.gateway.requote_pacing import PacingConfig, RequotePacer
from shm_layout.records import TARGET_LADDER

COST = rk.address_request_cost_usd(1.5, 1.0)  # the maker fee on the one USDC that earns a request
CHEAP = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0,
                   request_cost_usd=COST)
FREE = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0)


def _live(is_buy: bool, px: float, sz: float = 0.01) -> LiveOrder:
    return LiveOrder(cloid="0x" + "1" * 32, oid=101, coin=0, is_buy=is_buy, px=px, sz=sz, tif="Alo")


def _level(px: float, is_buy: bool = True, sz: float = 0.01, edge_bps: float = 20.0,
           fill_prob: float = 0.00005):
    """One level at ``px``: ``edge_bps`` per fill, ``fill_prob`` of a fill (by default a deep
    level: $1,000 x 20 bps x 0.005 % = $0.0001, under the $0.00015 a request costs)."""
    lad = np.zeros((), TARGET_LADDER)
    side = "bid" if is_buy else "ask"
    lad["n_bids" if is_buy else "n_asks"] = 1
    lad[f"{side}_px"][0], lad[f"{side}_sz"][0] = px, sz
    lad[f"{side}_fill_prob"][0], lad[f"{side}_epnl_bps"][0] = fill_prob, edge_bps * fill_prob
    return targets_from_ladder(lad, coin=0)


def test_a_request_costs_the_maker_fee_on_the_usdc_that_earns_it_back():
    assert pytest.approx(1.5e-4) == COST
    assert rk.address_request_cost_usd(1.5, 2.0) == pytest.approx(0.75e-4)
    assert rk.address_request_cost_usd(1.5, 1.0, mult=2.0) == pytest.approx(3e-4)
    assert rk.address_request_cost_usd(-0.3, 1.0) == 0.0  # a rebate: volume pays for itself
    assert rk.address_request_cost_usd(1.5, 0.0) == 0.0  # no volume budget


def test_targets_carry_their_value_in_usd():
    [t] = _level(100_000.0)
    assert t.value_usd == pytest.approx(1e-4)
    assert t.edge_bps == pytest.approx(20.0)


def test_a_deep_level_not_worth_a_request_keeps_its_order_where_a_modify_was_sent():
    live = [_live(True, 99_950.0)]  # 5 bps deeper than its target: beyond the keep band
    tg = _level(100_000.0)
    assert len(plan_coin(0, tg, live, FREE).modify) == 1
    plan = plan_coin(0, tg, live, CHEAP)
    assert plan.keep == live and plan.n_actions == 0


def test_a_level_worth_its_request_is_still_modified():
    live = [_live(True, 99_950.0)]
    rich = _level(100_000.0, fill_prob=0.005)  # $0.01 over the horizon
    assert rich[0].value_usd > COST
    assert len(plan_coin(0, rich, live, CHEAP).modify) == 1


@pytest.mark.parametrize(("live_px", "live_sz", "kept"), [
    (100_020.0, 0.01, True),    # 2 bps nearer: inside the keep tolerance
    (100_050.0, 0.01, False),   # 5 bps nearer: beyond it, the order adds risk
    (99_500.0, 0.01, True),     # 50 bps deeper: less risk
    (99_950.0, 0.014, True),    # 40 % larger: under the urgent size share (50 %)
    (99_950.0, 0.016, False),   # 60 % larger: a resize that removes risk
    (99_950.0, 0.002, True),    # smaller: less risk
])
def test_an_order_of_a_cheap_level_is_kept_only_while_it_adds_no_risk(live_px, live_sz, kept):
    tg = _level(100_000.0)
    plan = plan_coin(0, tg, [_live(True, live_px, live_sz)], CHEAP)
    assert (plan.n_actions == 0) == kept


def test_an_ask_of_a_cheap_level_is_kept_deeper_and_modified_when_nearer():
    tg = _level(100_000.0, is_buy=False)
    assert plan_coin(0, tg, [_live(False, 100_050.0)], CHEAP).n_actions == 0  # 5 bps deeper
    assert len(plan_coin(0, tg, [_live(False, 99_950.0)], CHEAP).modify) == 1  # 5 bps nearer


def test_an_order_of_a_cheap_level_without_edge_at_its_own_price_is_modified():
    live = [_live(True, 100_020.0)]  # 2 bps nearer than its target, which earns 1.5 bps a fill
    tg = _level(100_000.0, edge_bps=1.5, fill_prob=0.0005)
    assert len(plan_coin(0, tg, live, CHEAP).modify) == 1
    assert plan_coin(0, _level(100_000.0, edge_bps=2.5, fill_prob=0.0005), live, CHEAP).n_actions == 0


def test_places_and_cancels_are_not_affected():
    assert len(plan_coin(0, _level(100_000.0), [], CHEAP).place) == 1  # a side with no order
    plan = plan_coin(0, [], [_live(True, 99_950.0)], CHEAP)  # the level left the ladder
    assert len(plan.cancel) == 1


def _pacing_cfg(cost: float, allowance: float = 100.0, per_usd: float = 1.0) -> np.ndarray:
    return rk.plan_config_vector(1.0, 0.1, True, 10.0, requests_per_usd=per_usd,
                                 request_allowance=allowance, request_cost_usd=cost)


@pytest.mark.parametrize(("sent", "volume_usd", "share"), [
    (0, 0.0, 0.0),       # the allowance whole: a request is not scarce
    (50, 0.0, 0.5),      # half of it spent
    (100, 0.0, 1.0),     # spent
    (400, 0.0, 1.0),
    (400, 1_000.0, 0.0),  # volume keeps the budget full
    (400, 350.0, 0.5),
])
def test_a_request_costs_in_proportion_to_the_allowance_spent(sent, volume_usd, share):
    state = pk.new_pacing_state(20.0)
    state[pk.P_URGENT] = sent
    assert pk.request_cost_now(_pacing_cfg(COST), state, volume_usd) == pytest.approx(share * COST)


def test_a_request_costs_nothing_without_a_volume_budget_or_a_cost():
    state = pk.new_pacing_state(20.0)
    state[pk.P_URGENT] = 400
    assert pk.request_cost_now(_pacing_cfg(COST, per_usd=0.0), state, 0.0) == 0.0
    assert pk.request_cost_now(_pacing_cfg(0.0), state, 0.0) == 0.0
    assert pk.request_cost_now(_pacing_cfg(COST, allowance=0.0), state, 0.0) == COST
    assert pk.request_cost_now(_pacing_cfg(COST, allowance=0.0), state, 1_000.0) == 0.0


def test_the_kernel_plan_takes_the_cost_of_the_moment():
    tg = _level(100_000.0)
    live_is_buy, live_px, live_sz = np.array([True]), np.array([99_950.0]), np.array([0.01])
    args = (live_is_buy, live_px, live_sz, 1, np.array([True]), np.array([tg[0].px]),
            np.array([tg[0].sz]), np.array([tg[0].edge_bps]), np.array([tg[0].value_usd]), 1, True,
            True, _pacing_cfg(COST))
    out = rk.new_plan_buffer(1)
    n, _ = rk.plan(*args, out, 0.0)  # the budget full: modified
    assert [int(out[r, 0]) for r in range(n)] == [rk.ACT_MODIFY]
    n, _ = rk.plan(*args, out, COST)
    assert [int(out[r, 0]) for r in range(n)] == [rk.ACT_KEEP]
    n, _ = rk.plan(*args, out, math.nan)  # never a keep on a cost that is not a number
    assert [int(out[r, 0]) for r in range(n)] == [rk.ACT_MODIFY]


def test_request_cost_mult_is_read_and_checked(tmp_path):
    assert load_config().gateway.request_cost_mult == 1.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[gateway]\nrequest_cost_mult = -1.0\n")
    with pytest.raises(ConfigError):
        load_config(str(bad))


def test_the_live_pacer_reports_what_a_request_costs_now():
    pacer = RequotePacer(PacingConfig(budget_per_min=0.0, requests_per_usd=1.0, request_allowance=10.0),
                         CHEAP, clock=lambda: 0.0)
    assert pacer.request_cost_usd == 0.0 and pacer.metrics()["requote_request_cost_usd"] == 0.0
    pacer.state[pk.P_URGENT] = 5  # half the allowance spent, nothing traded
    assert pacer.request_cost_usd == pytest.approx(0.5 * COST)
    pacer.state[pk.P_URGENT] = 50
    assert pacer.metrics()["requote_request_cost_usd"] == pytest.approx(COST)
    pacer.volume_usd = 100.0  # the volume earned the budget back
    assert pacer.request_cost_usd == 0.0
