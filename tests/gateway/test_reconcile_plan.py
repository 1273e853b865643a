"""Reconciling a TargetLadder with live orders: keep, modify, cancel, place, and
the batches they go out in."""

from __future__ import annotations

import numpy as np

from appliance.gateway.reconcile_plan import (
    ActionBatcher,
    LiveOrder,
    PlanConfig,
    Target,
    plan_coin,
    targets_from_ladder,
)
from shm_layout.records import TARGET_LADDER

CFG = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1)


def _live(i: int, is_buy: bool, px: float, sz: float = 0.01, coin: int = 0, tif: str = "Alo"):
    return LiveOrder(cloid=f"0x{i:032x}", oid=100 + i, coin=coin, is_buy=is_buy, px=px, sz=sz, tif=tif)


def _ladder(bids, asks, sz=0.01, pulled=0):
    lad = np.zeros((), TARGET_LADDER)
    lad["n_bids"], lad["n_asks"], lad["pulled_reason"] = len(bids), len(asks), pulled
    lad["bid_px"][: len(bids)], lad["ask_px"][: len(asks)] = bids, asks
    lad["bid_sz"][: len(bids)], lad["ask_sz"][: len(asks)] = sz, sz
    return lad


def test_plan_when_live_orders_within_tolerance_then_all_kept():
    live = [_live(1, True, 99_990.0), _live(2, True, 99_980.0), _live(3, False, 100_010.0)]
    # 0.5 bps away and 5 % smaller: inside tolerance, so the queue place is kept
    tg = targets_from_ladder(_ladder([99_995.0, 99_980.0], [100_010.0], sz=0.0105), coin=0)
    plan = plan_coin(0, tg, live, CFG)
    assert plan.keep == live and plan.n_actions == 0


def test_plan_when_price_moves_then_modify_or_cancel_place():
    live = [_live(1, True, 99_990.0), _live(2, False, 100_010.0)]
    tg = targets_from_ladder(_ladder([99_950.0], [100_010.0]), coin=0)
    plan = plan_coin(0, tg, live, CFG)
    assert [k.oid for k in plan.keep] == [102]
    assert len(plan.modify) == 1 and plan.modify[0].order.oid == 101 and plan.modify[0].px == 99_950.0
    assert plan.cancel == [] and plan.place == []
    no_mod = plan_coin(0, tg, live, PlanConfig(use_modify=False))
    assert [c.oid for c in no_mod.cancel] == [101] and [p.px for p in no_mod.place] == [99_950.0]


def test_plan_when_side_pulled_or_ladder_pulled_then_that_side_cancelled():
    live = [_live(1, True, 99_990.0), _live(2, True, 99_980.0), _live(3, False, 100_010.0)]
    tg = targets_from_ladder(_ladder([], [100_010.0]), coin=0)
    plan = plan_coin(0, tg, live, CFG)
    assert sorted(c.oid for c in plan.cancel) == [101, 102] and [k.oid for k in plan.keep] == [103]
    assert targets_from_ladder(_ladder([99_990.0], [100_010.0], pulled=3), coin=0) == []
    all_pulled = plan_coin(0, [], live, CFG)
    assert len(all_pulled.cancel) == 3


def test_plan_when_more_targets_than_orders_then_extra_levels_placed_and_tiny_ones_dropped():
    live = [_live(1, True, 99_990.0)]
    tg = [Target(0, True, 99_990.0, 0.01, 0), Target(0, True, 99_980.0, 0.02, 1),
          Target(0, True, 99_970.0, 0.00005, 2)]  # $5: under the minimum notional
    plan = plan_coin(0, tg, live, CFG)
    assert [p.px for p in plan.place] == [99_980.0] and plan.dropped_small == 1


def test_plan_when_reducing_side_only_then_other_side_cancelled_and_new_orders_reduce_only():
    live = [_live(1, True, 99_990.0), _live(2, False, 100_010.0)]
    tg = targets_from_ladder(_ladder([99_990.0], [100_010.0, 100_020.0]), coin=0)
    plan = plan_coin(0, tg, live, CFG, allow_buy=False, reduce_only_side=-1)  # long: sells only
    assert [c.oid for c in plan.cancel] == [101]
    assert [p.px for p in plan.place] == [100_020.0] and plan.place[0].reduce_only


def test_batcher_when_window_passes_then_cancels_modifies_orders_with_alo_apart():
    b = ActionBatcher(window_ms=100)
    live0 = [_live(1, True, 99_990.0), _live(2, False, 100_010.0, tif="Gtc")]
    p0 = plan_coin(0, [Target(0, True, 99_900.0, 0.01, 0)], live0, CFG)  # modify bid, cancel ask
    p1 = plan_coin(1, [Target(1, False, 2_001.0, 0.1, 0)], [], CFG)  # place an Alo ask
    p1.place.append(p1.place[0].__class__(1, True, 1_999.0, 0.1, 0, "Gtc"))  # and a Gtc bid
    b.add(p0, now_ms=1_000.0)
    b.add(p1, now_ms=1_050.0)
    assert not b.due(1_099.0) and b.due(1_100.0)
    batches = b.flush()
    kinds = [(x.kind, x.post_only, len(x.items)) for x in batches]
    assert kinds == [("cancel", False, 1), ("modify", True, 1), ("order", True, 1), ("order", False, 1)]
    assert all(i.tif == "Alo" for x in batches if x.post_only for i in x.items)
    assert b.pending() == 0 and not b.due(10_000.0)


def test_batcher_when_newer_plan_for_same_coin_then_it_replaces_the_unsent_one():
    b = ActionBatcher(window_ms=100)
    live = [_live(1, True, 99_990.0)]
    b.add(plan_coin(0, [], live, CFG), 0.0)  # pull: cancel
    b.add(plan_coin(0, [Target(0, True, 99_990.0, 0.01, 0)], live, CFG), 50.0)  # back: keep
    assert b.pending() == 0 and b.flush() == []


# --- requote hysteresis (issue 16): keep vs modify vs cancel with hand-built ladders -------

HYST = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0)


def _edge_ladder(bids, asks, edge_bps, sz=0.01, fill_prob=0.5):
    """A ladder whose every level has a per-fill edge of ``edge_bps`` (E[PnL] / P(fill))."""
    lad = _ladder(bids, asks, sz)
    lad["bid_fill_prob"][: len(bids)], lad["ask_fill_prob"][: len(asks)] = fill_prob, fill_prob
    lad["bid_epnl_bps"][: len(bids)] = edge_bps * fill_prob
    lad["ask_epnl_bps"][: len(asks)] = edge_bps * fill_prob
    return lad


def test_targets_when_ladder_has_epnl_then_each_carries_its_per_fill_edge():
    tg = targets_from_ladder(_edge_ladder([99_990.0], [100_010.0], edge_bps=2.0), coin=0)
    assert [t.edge_bps for t in tg] == [2.0, 2.0]


def test_plan_when_target_moved_inside_keep_tolerance_with_edge_then_order_kept():
    # the targets moved ~2 bps toward the mid: beyond 1 bps, inside 3; the orders rest ~2 bps
    # deeper than them, so at their own price they earn more than the targets
    live = [_live(1, True, 99_980.0), _live(2, False, 100_020.0)]
    tg = targets_from_ladder(_edge_ladder([99_999.0], [100_000.5], edge_bps=1.0), coin=0)
    plan = plan_coin(0, tg, live, HYST)
    assert plan.keep == live and plan.n_actions == 0
    assert plan_coin(0, tg, live, CFG).n_actions == 2  # without hysteresis: two modifies


def test_plan_when_order_rests_closer_than_target_and_its_edge_turns_negative_then_modified():
    # the bid target moved 2 bps away from the mid: the resting bid is 2 bps more aggressive
    # than it; with 1.5 bps of edge per fill at the target it has -0.5 bps at its own price
    live = [_live(1, True, 100_000.0)]
    tg = targets_from_ladder(_edge_ladder([99_980.0], [], edge_bps=1.5), coin=0)
    plan = plan_coin(0, tg, live, HYST)
    assert plan.keep == [] and len(plan.modify) == 1 and plan.modify[0].px == 99_980.0
    # with 2.5 bps of edge at the target it still earns 0.5 bps where it rests: kept
    rich = targets_from_ladder(_edge_ladder([99_980.0], [], edge_bps=2.5), coin=0)
    assert plan_coin(0, rich, live, HYST).keep == live


def test_plan_when_target_moved_beyond_keep_tolerance_then_modified():
    live = [_live(1, True, 99_950.0)]
    tg = targets_from_ladder(_edge_ladder([99_990.0], [], edge_bps=5.0), coin=0)  # 4 bps away
    plan = plan_coin(0, tg, live, HYST)
    assert plan.keep == [] and [m.px for m in plan.modify] == [99_990.0]


def test_plan_when_edge_not_known_then_only_the_tight_tolerance_keeps():
    live = [_live(1, True, 99_980.0)]
    tg = [Target(0, True, 99_999.0, 0.01, 0)]  # no edge (NaN): 1.9 bps off is too far
    assert len(plan_coin(0, tg, live, HYST).modify) == 1


def test_plan_when_level_left_the_ladder_then_its_order_cancelled_despite_tolerance():
    # the second bid level's E[PnL] turned <= 0: the kernel dropped it, its order goes
    live = [_live(1, True, 99_990.0), _live(2, True, 99_970.0)]
    tg = targets_from_ladder(_edge_ladder([99_990.0], [], edge_bps=2.0), coin=0)
    plan = plan_coin(0, tg, live, HYST)
    assert [k.oid for k in plan.keep] == [101] and [c.oid for c in plan.cancel] == [102]


def test_plan_when_risk_pulls_then_everything_cancelled_despite_tolerance():
    live = [_live(1, True, 99_990.0), _live(2, False, 100_010.0)]
    lad = _edge_ladder([99_990.0], [100_010.0], edge_bps=5.0)
    lad["pulled_reason"] = 3
    plan = plan_coin(0, targets_from_ladder(lad, coin=0), live, HYST)
    assert len(plan.cancel) == 2 and plan.keep == []
    side = plan_coin(0, targets_from_ladder(_edge_ladder([99_990.0], [100_010.0], edge_bps=5.0), coin=0),
                     live, HYST, allow_buy=False)
    assert [c.oid for c in side.cancel] == [101] and [k.oid for k in side.keep] == [102]


def test_plan_when_size_moved_beyond_its_tolerance_then_modified_even_at_the_same_price():
    live = [_live(1, True, 99_990.0, sz=0.01)]
    tg = targets_from_ladder(_edge_ladder([99_990.0], [], edge_bps=5.0, sz=0.02), coin=0)
    plan = plan_coin(0, tg, live, HYST)
    assert plan.keep == [] and [m.sz for m in plan.modify] == [0.02]
