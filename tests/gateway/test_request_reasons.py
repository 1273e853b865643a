"""Size hysteresis and the keep band in the one reconciler, and the reason of every
request (issue 16): kernel-level checks on hand-built plans."""

from __future__ import annotations

import math

import numpy as np

from appliance.gateway import pacing_kernel as pk
from appliance.gateway import reconcile_kernel as rk
from appliance.gateway import request_reasons as rr
from appliance.gateway.reconcile_plan import LiveOrder, PlanConfig, Target, plan_coin

SZ_BAND = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0, keep_sz_frac=0.5)
NO_BAND = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0)


def _live(i: int, is_buy: bool, px: float, sz: float) -> LiveOrder:
    return LiveOrder(cloid=f"0x{i:032x}", oid=100 + i, coin=0, is_buy=is_buy, px=px, sz=sz, tif="Alo")


def test_size_kept_when_smaller_within_band_then_kept_and_larger_beyond_tolerance_never():
    assert rk.size_kept(0.006, 0.01, 0.1, 0.5)  # 40 % smaller: inside the 50 % band
    assert not rk.size_kept(0.004, 0.01, 0.1, 0.5)  # 60 % smaller: beyond it
    assert not rk.size_kept(0.006, 0.01, 0.1, 0.0)  # no band: the 10 % tolerance only
    assert not rk.size_kept(0.012, 0.01, 0.1, 0.5)  # larger by 20 %: more risk, never kept
    assert rk.size_kept(0.0105, 0.01, 0.1, 0.0)


def test_plan_when_target_grows_within_the_size_band_then_the_order_keeps_its_queue_place():
    live = [_live(1, True, 99_990.0, 0.01)]
    tg = [Target(0, True, 99_990.0, 0.018, 0, 2.0)]  # the ladder wants 80 % more: 0.01 >= 0.009
    assert plan_coin(0, tg, live, SZ_BAND).keep == live
    assert len(plan_coin(0, tg, live, NO_BAND).modify) == 1
    bigger = [Target(0, True, 99_990.0, 0.025, 0, 2.0)]  # 0.01 < half of 0.025: resized
    assert [m.sz for m in plan_coin(0, bigger, live, SZ_BAND).modify] == [0.025]


def test_plan_when_target_shrinks_then_the_larger_order_is_resized_despite_the_band():
    live = [_live(1, True, 99_990.0, 0.02)]
    tg = [Target(0, True, 99_990.0, 0.01, 0, 2.0)]
    assert [m.sz for m in plan_coin(0, tg, live, SZ_BAND).modify] == [0.01]


def test_keeps_when_deeper_than_target_within_the_depth_band_then_kept():
    # the bid target moved 6 bps up (toward the mid): the order rests 6 bps deeper
    assert rk.keeps(True, 99_940.0, 0.01, 100_000.0, 0.01, 1.0, 1.0, 3.0, 0.1, 0.0, 10.0, False)
    assert not rk.keeps(True, 99_940.0, 0.01, 100_000.0, 0.01, 1.0, 1.0, 3.0, 0.1, 0.0, 0.0, False)
    assert not rk.keeps(True, 99_880.0, 0.01, 100_000.0, 0.01, 1.0, 1.0, 3.0, 0.1, 0.0, 10.0, False)  # 12 bps
    # the ask side mirrored: 6 bps above its target
    assert rk.keeps(False, 100_060.0, 0.01, 100_000.0, 0.01, 1.0, 1.0, 3.0, 0.1, 0.0, 10.0, False)


def test_keeps_when_nearer_than_target_then_to_the_edge_zero_only():
    # the order rests 6 bps nearer than its target, which earns 8 bps a fill: 2 bps left
    assert rk.keeps(True, 100_060.0, 0.01, 100_000.0, 0.01, 8.0, 1.0, 3.0, 0.1, 0.0, 0.0, True)
    assert not rk.keeps(True, 100_060.0, 0.01, 100_000.0, 0.01, 8.0, 1.0, 3.0, 0.1, 0.0, 0.0, False)
    # with 5 bps a fill at the target it would lose 1 bps where it rests: not kept
    assert not rk.keeps(True, 100_060.0, 0.01, 100_000.0, 0.01, 5.0, 1.0, 3.0, 0.1, 0.0, 0.0, True)
    assert not rk.keeps(True, 100_060.0, 0.01, 100_000.0, 0.01, math.nan, 1.0, 3.0, 0.1, 0.0, 0.0, True)


def test_plan_with_the_keep_band_when_the_ladder_moves_then_orders_with_edge_stay():
    band = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1, keep_tolerance_bps=3.0,
                      keep_depth_bps=10.0, keep_to_edge_zero=True)
    live = [_live(1, True, 99_940.0, 0.01), _live(2, False, 100_000.0, 0.01)]
    # bid target 6 bps above the bid (edge 1 bps); ask target 8 bps above the ask (edge 10 bps)
    tg = [Target(0, True, 100_000.0, 0.01, 0, 1.0), Target(0, False, 100_080.0, 0.01, 0, 10.0)]
    assert plan_coin(0, tg, live, band).keep == live
    assert len(plan_coin(0, tg, live, NO_BAND).modify) == 2


def _classify(kinds, live, targets, cfg=None):
    """Reasons of a hand-built plan: ``kinds`` rows (kind, live index, target index)."""
    out = np.array(kinds, np.int64).reshape(-1, 3)
    lb = np.array([o[0] for o in live], np.bool_)
    lp = np.array([o[1] for o in live], np.float64)
    ls = np.array([o[2] for o in live], np.float64)
    tb = np.array([t[0] for t in targets], np.bool_)
    tp = np.array([t[1] for t in targets], np.float64)
    ts = np.array([t[2] for t in targets], np.float64)
    te = np.array([t[3] for t in targets], np.float64)
    cfg = cfg if cfg is not None else rk.plan_config_vector(1.0, 0.1, True, 10.0, urgent_tolerance_bps=5.0,
                                                             keep_tolerance_bps=3.0)
    reasons = np.empty(out.shape[0], np.int64)
    rr.classify(out, out.shape[0], lb, lp, ls, tb, tp, ts, te, cfg, reasons)
    return [rr.REASON_NAMES[r] if r >= 0 else None for r in reasons]


def test_classify_when_a_side_has_no_target_then_its_cancels_are_side_empty_else_surplus():
    live = [(True, 99_990.0, 0.01), (True, 99_980.0, 0.01), (False, 100_010.0, 0.01)]
    targets = [(True, 99_990.0, 0.01, 2.0)]
    got = _classify([(rk.ACT_KEEP, 0, 0), (rk.ACT_CANCEL, 1, -1), (rk.ACT_CANCEL, 2, -1)], live, targets)
    assert got == [None, "cancel_surplus_level", "cancel_side_empty"]


def test_classify_when_places_then_the_first_of_an_empty_side_only_is_first():
    live = [(False, 100_010.0, 0.01)]
    targets = [(True, 99_990.0, 0.01, 2.0), (True, 99_980.0, 0.01, 2.0), (False, 100_010.0, 0.01, 2.0),
               (False, 100_020.0, 0.01, 2.0)]
    got = _classify([(rk.ACT_KEEP, 0, 2), (rk.ACT_PLACE, -1, 0), (rk.ACT_PLACE, -1, 1),
                     (rk.ACT_PLACE, -1, 3)], live, targets)
    assert got == [None, "place_first_of_side", "place_further_level", "place_further_level"]


def test_classify_modifies_by_cause():
    live = [(True, 100_000.0, 0.01),  # 10 bps above its target: too aggressive, risk
            (True, 99_950.0, 0.01),  # 5 bps below, more than the 3 bps keep band: a move
            (True, 99_980.0, 0.01),  # 2 bps above, with 1 bps of edge at the target: edge gone
            (True, 99_940.0, 0.01)]  # at its target's price, less than half its size: size
    targets = [(True, 99_900.0, 0.01, 2.0), (True, 100_000.0, 0.01, 2.0), (True, 99_960.0, 0.01, 1.0),
               (True, 99_940.0, 0.025, 2.0)]
    rows = [(rk.ACT_MODIFY, k, k) for k in range(4)]
    assert _classify(rows, live, targets) == ["modify_risk_px", "modify_move", "modify_edge", "modify_size"]
    # larger than its target by more than half while the side rests more than its targets: risk
    big = [(True, 99_940.0, 0.03)]
    assert _classify([(rk.ACT_MODIFY, 0, 0)], big, [(True, 99_940.0, 0.01, 2.0)]) == ["modify_risk_size"]


def test_ration_when_budget_spent_then_only_the_urgent_reasons_go():
    # no volume, no allowance, no trickle: every optional action is put off
    cfg = rk.plan_config_vector(1.0, 0.1, True, 10.0, urgent_tolerance_bps=5.0, keep_tolerance_bps=3.0,
                                requests_per_usd=1.0, request_allowance=0.0, exhausted_interval_s=0.0)
    state = pk.new_pacing_state(20.0)
    live_b, live_p, live_s = np.array([True, True]), np.array([100_000.0, 99_950.0]), np.array([0.01, 0.01])
    tgt_b = np.array([True, True, False, False])
    tgt_p = np.array([99_900.0, 100_000.0, 100_010.0, 100_020.0])
    tgt_s = np.full(4, 0.01)
    lvl = np.array([0, 1, 0, 1])
    out = np.array([(rk.ACT_MODIFY, 0, 0), (rk.ACT_MODIFY, 1, 1), (rk.ACT_PLACE, -1, 2),
                    (rk.ACT_PLACE, -1, 3)], np.int64)
    deferred = pk.ration(out, 4, live_b, live_p, live_s, tgt_b, tgt_p, tgt_s, lvl, cfg, state, 0.0, 0.0, 0.0)
    assert deferred == 2
    # the risk modify and the ask side's first order go; the move is kept, the second ask waits
    assert out[:, 0].tolist() == [rk.ACT_MODIFY, rk.ACT_KEEP, rk.ACT_PLACE, rk.ACT_DEFERRED]
    assert state[pk.P_URGENT] == 2 and math.isclose(float(pk.volume_credit(cfg, state, 0.0)), -2.0)
