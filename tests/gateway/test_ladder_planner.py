"""LadderPlanner over a real TargetLadder seqlock block (no venue): a new ladder becomes a
pending plan with the md source time; jitter inside the tolerances plans nothing; a
fill's replan forces a plan; an order of unknown fate holds the coin and asks for a
reconcile. And the small shared pieces: FollowUps, PendingPlans, requote pacing and
ladder comparison."""

from __future__ import annotations

import numpy as np
import pytest
from risk_helpers import fresh_segments

from appliance.config import load_config
from appliance.gateway.hyperliquid.follow_ups import FollowUps
from appliance.gateway.hyperliquid.ladder_planner import LadderPlanner
from appliance.gateway.hyperliquid.pending_plans import PendingPlans
from appliance.gateway.order_state import S_RESTING, OrderTracker, TrackedOrder
from appliance.gateway.rate_budget import RateBudget
from appliance.gateway.reconcile_plan import (
    LiveOrder,
    Modify,
    NewOrder,
    Plan,
    PlanConfig,
    Target,
    ladder_changed,
)
from appliance.gateway.requote_pacing import PacingConfig, RequotePacer
from appliance.gateway.venue_health import VenueHealth
from appliance.ipc import byte_rows, seqlock
from shm_layout import records

MID = 100_000.0


class Rows:
    """The PositionState rows LadderPlanner reads and marks."""

    def __init__(self, n):
        self.pos = np.zeros(n, records.POSITION_STATE)
        self.marks = []

    def mark(self, c, mid):
        self.marks.append((c, mid))


@pytest.fixture
def mem():
    with fresh_segments("lp") as m:
        yield m


def _planner(mem):
    g = load_config(None).gateway
    cfg = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1)
    tracker, follow, pending = OrderTracker(), FollowUps(1), PendingPlans()
    pacer = RequotePacer(PacingConfig(1e9, 0.0, 1e9, 5.0), cfg)
    lp = LadderPlanner(mem.ladder, 1, [5], tracker, Rows(1), RateBudget(), pacer, VenueHealth(g), cfg,
                       follow, pending, limit_sz=lambda c, mid: 1.0)
    return lp


def _write(mem, bid=MID - 10.0, ask=MID + 10.0, src=123):
    lad = np.zeros(1, records.TARGET_LADDER)
    r = lad[0]
    r["mid_px"], r["src_pub_mono_ns"], r["ladder_id"] = MID, src, 1
    r["n_bids"], r["n_asks"] = 1, 1
    r["bid_px"][0], r["bid_sz"][0], r["ask_px"][0], r["ask_sz"][0] = bid, 0.01, ask, 0.01
    seqlock.write_block(mem.ladder.seqs, mem.ladder.rows, 0, byte_rows(lad)[0])


def test_read_when_a_new_ladder_then_a_pending_plan_with_its_source_time(mem):
    lp = _planner(mem)
    assert lp.read() == 0  # nothing written yet
    _write(mem)
    assert lp.read() == 1
    plans, src = lp.pending.take()
    assert src == 123 and [len(p.place) for p in plans] == [2]
    assert lp.mid(0) == MID and lp.positions.marks == []  # marked after the flush, off the path
    lp.mark_read()
    assert lp.positions.marks == [(0, MID)]
    lp.mark_read()
    assert lp.positions.marks == [(0, MID)]  # once per ladder read
    assert lp.read() == 0  # the same ladder again: nothing to plan


def test_read_when_the_ladder_jitters_inside_tolerance_then_not_planned_unless_forced(mem):
    lp = _planner(mem)
    _write(mem)
    lp.read()
    lp.pending.take()
    _write(mem, bid=MID - 10.001)  # 0.0001 bps: the resting orders still match
    assert lp.read() == 0 and not lp.pending
    lp.follow.replan_coin(0)  # a fill: plan whatever the ladder
    _write(mem, bid=MID - 10.002)
    assert lp.read() == 1


def test_read_when_a_replan_on_the_same_ladder_then_pending_not_fresh(mem):
    lp = _planner(mem)
    _write(mem)
    lp.read()
    assert lp.pending.fresh  # planned when its ladder was read: a tick-to-wire batch
    lp.pending.take()
    assert not lp.pending.fresh
    lp.follow.replan_coin(0)  # a fill: the same ladder planned again
    lp.tracker.by_cloid.clear()
    assert lp.read() == 1 and lp.pending and not lp.pending.fresh
    _, src = lp.pending.take()
    assert src == 123  # still the ladder's source: counted, but not as ladder-caused


def test_read_when_one_level_moved_then_its_order_modified_and_the_other_kept(mem):
    lp = _planner(mem)
    lp.tracker.add(TrackedOrder("0x01", 0, True, MID - 10.0, 0.01, oid=1, state=S_RESTING))
    lp.tracker.add(TrackedOrder("0x02", 0, False, MID + 10.0, 0.01, oid=2, state=S_RESTING))
    _write(mem, bid=MID - 30.0)  # the bid 2 bps lower, the ask where it rests
    assert lp.read() == 1
    (plan,), _ = lp.pending.take()
    assert [(m.order.cloid, m.px, m.sz, m.level) for m in plan.modify] == [("0x01", MID - 30.0, 0.01, 0)]
    assert plan.cancel == [] and plan.place == []


def test_plan_when_an_order_has_unknown_fate_then_nothing_and_reconcile_asked(mem):
    lp = _planner(mem)
    lp.tracker.add(TrackedOrder("0x01", 0, True, MID - 10.0, 0.01))  # sent, no answer
    _write(mem)
    assert lp.read() == 0 and lp.follow.need_reconcile and not lp.pending


def test_follow_ups_when_reconcile_asked_with_delays_then_due_at_the_latest():
    now = [10.0]
    f = FollowUps(2, clock=lambda: now[0])
    f.replan[:] = [False, False]
    f.request_reconcile(1.0)
    f.request_reconcile(0.0)
    assert not f.take_reconcile(10.5) and f.take_reconcile(11.0) and not f.take_reconcile(12.0)
    replan = f.replan
    f.replan_all()
    assert replan is f.replan and replan == [True, True]  # readers keep the same list


def test_pending_plans_when_taken_then_in_coin_order_and_the_window_restarts():
    p = PendingPlans()
    p.put(1, Plan(1), 5)
    p.put(0, Plan(0), 9)
    p.put(1, Plan(1, place=[NewOrder(1, True, 1.0, 1.0, 0, "Alo")]), 7)
    plans, src = p.take()
    assert [q.coin for q in plans] == [0, 1] and plans[1].n_actions == 1 and src == 9
    assert not p and p.since_flush_ms() < 60_000.0


def _mod(o_px, t_px, level=0, is_buy=True, o_sz=0.01, t_sz=0.01):
    return Modify(LiveOrder("c", 1, 0, is_buy, o_px, o_sz), t_px, t_sz, level, "Alo")


def test_pacing_when_budget_short_then_only_risk_reducing_actions_go():
    now = [0.0]
    pcfg = PacingConfig(budget_per_min=60.0, horizon_h=0.0, burst=4.0, urgent_tolerance_bps=5.0)
    pacer = RequotePacer(pcfg, PlanConfig(), clock=lambda: now[0])
    plan = Plan(0, modify=[_mod(100_100.0, 100_000.0),  # bid 10 bps above its target: urgent
                           _mod(99_990.0, 100_000.0, 1),  # closer to the mid: optional
                           _mod(99_980.0, 100_000.0, 2),
                           _mod(99_970.0, 100_000.0, 3)],
                place=[NewOrder(0, False, 100_200.0, 0.01, 0, "Alo"),
                       NewOrder(0, False, 100_300.0, 0.01, 1, "Alo")])
    out, deferred = pacer.ration(plan)
    # urgent (free): the aggressive bid and the first ask of an empty side; then 4 tokens
    assert sorted(m.level for m in out.modify) == [0, 1, 2, 3]
    assert sorted(n.level for n in out.place) == [0, 1]
    assert deferred == 0
    out, deferred = pacer.ration(plan)  # no time passed: only the urgent ones; the others rest
    assert out.n_actions == 2 and deferred == 4 and pacer.retry_after_s() > 0
    assert sorted(o.px for o in out.keep) == [99_970.0, 99_980.0, 99_990.0]
    now[0] += 100.0  # refilled, capped at the burst
    out, deferred = pacer.ration(plan)
    assert deferred == 0 and pacer.tokens == 0


def test_pacing_when_size_moves_between_levels_of_a_side_then_the_shrink_waits():
    # the side rests 0.03 against 0.03 of targets: level 0 halves, level 1 doubles; no
    # exposure beyond what the ladder asks for, so neither modify is urgent
    pacer = RequotePacer(PacingConfig(60.0, 0.0, 0.0, 5.0), PlanConfig(), clock=lambda: 0.0)
    plan = Plan(0, modify=[_mod(100_000.0, 100_000.0, 0, o_sz=0.02, t_sz=0.01),
                           _mod(99_990.0, 99_990.0, 1, o_sz=0.01, t_sz=0.02)])
    out, deferred = pacer.ration(plan)
    assert out.modify == [] and deferred == 2


def test_pacing_when_a_side_rests_more_than_its_targets_then_the_shrink_goes_at_once():
    # the ladder wants 0.01 on the side (less headroom, less margin): 0.02 resting is risk
    pacer = RequotePacer(PacingConfig(60.0, 0.0, 0.0, 5.0), PlanConfig(), clock=lambda: 0.0)
    plan = Plan(0, modify=[_mod(100_000.0, 100_000.0, 0, o_sz=0.02, t_sz=0.01)])
    out, deferred = pacer.ration(plan)
    assert [m.sz for m in out.modify] == [0.01] and deferred == 0


def test_pacing_when_kept_orders_meet_the_side_targets_then_the_shrink_of_another_waits():
    # the bids rest 0.04 (a kept 0.02, a 0.02 to shrink to 0.01) against 0.04 of targets
    # (the kept one's 0.02, 0.01, a new 0.01): no exposure beyond the ladder, nothing urgent
    pacer = RequotePacer(PacingConfig(60.0, 0.0, 0.0, 5.0), PlanConfig(), clock=lambda: 0.0)
    kept = LiveOrder("k", 2, 0, True, 100_000.0, 0.02)
    plan = Plan(0, keep=[kept], modify=[_mod(99_990.0, 99_990.0, 1, o_sz=0.02, t_sz=0.01)],
                place=[NewOrder(0, True, 99_980.0, 0.01, 2, "Alo")])
    out, deferred = pacer.ration(plan)
    assert out.modify == [] and out.place == [] and deferred == 2
    assert sorted(o.cloid for o in out.keep) == ["c", "k"]


def _volume_plan():
    return Plan(0, modify=[_mod(100_100.0, 100_000.0),  # bid 10 bps above its target: urgent
                           _mod(99_990.0, 100_000.0, 1),  # closer to the mid: optional
                           _mod(99_980.0, 100_000.0, 2)],
                cancel=[LiveOrder("x", 9, 0, False, 100_500.0, 0.01)])


def test_pacing_when_volume_budget_spent_then_optional_wait_for_volume_and_urgent_go():
    # no time budget: only the volume one, 3 requests of allowance + 1 per USDC traded
    pacer = RequotePacer(PacingConfig(budget_per_min=0.0, requests_per_usd=1.0, request_allowance=3.0,
                                      exhausted_interval_s=0.0), PlanConfig(), clock=lambda: 0.0)
    # Act: the urgent modify and the cancel spend 2 of the 3; one optional goes (best level first)
    out, deferred = pacer.ration(_volume_plan())
    # Assert
    assert sorted(m.level for m in out.modify) == [0, 1] and len(out.cancel) == 1 and deferred == 1
    assert pacer.volume_credit == 0.0 and pacer.retry_after_s() == 60.0
    out, deferred = pacer.ration(_volume_plan())  # nothing earned: urgent ones still go
    assert [m.level for m in out.modify] == [0] and len(out.cancel) == 1 and deferred == 2
    pacer.volume_usd = 10.0  # 10 USDC traded: 10 requests earned, 2 of them on urgent ones
    out, deferred = pacer.ration(_volume_plan())
    assert sorted(m.level for m in out.modify) == [0, 1, 2] and deferred == 0
    assert pacer.volume_credit == 10.0 + 3.0 - pacer.urgent - pacer.optional


def test_pacing_when_volume_budget_spent_then_one_optional_per_interval_as_the_venue_allows():
    now = [0.0]
    pacer = RequotePacer(PacingConfig(budget_per_min=0.0, requests_per_usd=1.0, request_allowance=0.0,
                                      exhausted_interval_s=10.0), PlanConfig(), clock=lambda: now[0])
    # Act / Assert: nothing earned; the urgent ones go, and one optional (the best level)
    out, deferred = pacer.ration(_volume_plan())
    assert sorted(m.level for m in out.modify) == [0, 1] and deferred == 1 and pacer.retry_after_s() == 10.0
    now[0] = 9.0  # within the interval: none
    out, deferred = pacer.ration(_volume_plan())
    assert [m.level for m in out.modify] == [0] and deferred == 2
    now[0] = 19.0  # the next one
    out, deferred = pacer.ration(_volume_plan())
    assert sorted(m.level for m in out.modify) == [0, 1] and deferred == 1


def test_pacing_when_volume_budget_off_then_as_before():
    pacer = RequotePacer(PacingConfig(budget_per_min=0.0), PlanConfig(), clock=lambda: 0.0)
    assert not pacer.enabled
    out, deferred = pacer.ration(_volume_plan())
    assert out.n_actions == 4 and deferred == 0 and pacer.volume_credit == float("inf")


def test_ladder_when_levels_jitter_or_reorder_inside_tolerance_then_not_changed():
    cfg = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1)
    a = [Target(0, True, 100_000.0, 0.01, 0), Target(0, True, 99_990.0, 0.02, 1),
         Target(0, False, 100_010.0, 0.01, 0)]
    b = [Target(0, False, 100_010.5, 0.0101, 0), Target(0, True, 99_990.0, 0.02, 1),
         Target(0, True, 100_000.0, 0.01, 0)]
    assert not ladder_changed(a, b, cfg)
    assert ladder_changed(a, b[:2], cfg)
    assert ladder_changed(a, [Target(0, True, 100_020.0, 0.01, 0), *a[1:]], cfg)
