"""From the quote process's TargetLadder to plans of venue actions, per coin.

Each step reads every coin's ladder (seqlock). A coin is planned when its ladder
is new, or when asked (``FollowUps.replan``: a fill, a cancel by the venue, a
reconciliation) or when actions it deferred for the requote budget are due. A
ladder that did not change materially since the last plan of its coin (every level
within the requote tolerances) is not planned again: the resting orders already
match it. The plan is the one call into ``reconcile_plan.plan_coin`` (keep within
tolerance, batchModify, cancel, place), rationed by the requote pacer, and goes
to the pending plans for the next batch window. A coin is also planned again when a
timed replan falls due (``FollowUps.replan_coin_after``: actions deferred for the
budget, a batch the venue refused as a whole).

While an order of its coin has an unknown fate (sent, no answer) nothing is
planned: a reconciliation is asked first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from appliance.gateway.order_state import S_PENDING_NEW, OrderTracker
from appliance.gateway.rate_budget import RateBudget
from appliance.gateway.reconcile_plan import (
    LiveOrder,
    Plan,
    PlanConfig,
    ladder_changed,
    plan_coin,
    targets_from_ladder,
)
from appliance.gateway.requote_pacing import RequotePacer
from appliance.gateway.venue_health import VenueHealth
from appliance.ipc import byte_rows, seqlock
from shm_layout import records

from .follow_ups import FollowUps
from .pending_plans import PendingPlans
from .positions import Positions

SEQLOCK_TRIES = 10_000


class LadderPlanner:
    def __init__(self, ladder_block, n_coins: int, sz_dec: list[int], tracker: OrderTracker,
                 positions: Positions, budget: RateBudget, pacer: RequotePacer, health: VenueHealth,
                 plan_cfg: PlanConfig, follow: FollowUps, pending: PendingPlans,
                 limit_sz: Callable[[int, float], float],
                 on_ladder: Callable[[int, int, int], None] | None = None) -> None:
        """``ladder_block``: the TargetLadder seqlock block (``mem.ladder``); ``sz_dec``:
        the venue's size decimals per coin; ``limit_sz(coin, mid_px)``: the position
        limit in coin at that mid (``config.sizing``), past which only the reducing side
        is quoted when the rate budget is short (``RateBudget.decide``). ``on_ladder(src_pub_mono_ns,
        ladder_mono_ns, read_mono_ns)``: a new ladder was read (tick to wire's stages)."""
        self.block = ladder_block
        self.on_ladder = on_ladder
        self.n_coins = n_coins
        self.sz_dec = sz_dec
        self.tracker = tracker
        self.positions = positions
        self.budget = budget
        self.pacer = pacer
        self.health = health
        self.plan_cfg = plan_cfg
        self.follow = follow
        self.pending = pending
        self.limit_sz = limit_sz
        self.ladder = np.zeros(ladder_block.spec.n_records, records.TARGET_LADDER)  # as last read
        self._ladder_u8 = byte_rows(self.ladder)
        self.seen = np.full(n_coins, -1, np.int64)  # seqlock sequence last read, per coin
        self.src_ns = [0] * n_coins  # md pub_mono_ns behind each coin's ladder
        self.last_targets: list[list | None] = [None] * n_coins  # last planned, per coin

    def mid(self, c: int) -> float:
        """The ladder's mid, else the last mark (0 when neither is known)."""
        return float(self.ladder[c]["mid_px"]) or float(self.positions.pos[c]["mark_px"])

    def read(self) -> int:
        """Read every coin's ladder and plan the ones due; returns the coins planned."""
        b = self.block
        replan = self.follow.replan
        work = 0
        now = time.monotonic()
        for c in range(self.n_coins):
            s = seqlock.read_block(b.seqs, b.rows, c, self._ladder_u8[c], SEQLOCK_TRIES)
            self.follow.take_replan_due(c, now)  # deferred actions, a refused batch
            if s < 0 or (s == self.seen[c] and not replan[c]):
                continue
            fresh = s != self.seen[c]
            if fresh:
                self.src_ns[c] = int(self.ladder[c]["src_pub_mono_ns"])
                if self.on_ladder is not None:
                    self.on_ladder(self.src_ns[c], int(self.ladder[c]["update_mono_ns"]),
                                   time.monotonic_ns())
            self.seen[c] = s
            forced, replan[c] = replan[c], False
            if s == 0:
                continue  # the quote process has not written one yet
            self.positions.mark(c, float(self.ladder[c]["mid_px"]))
            plan = self.plan(c, forced)
            if plan is None:
                continue
            if plan.n_actions:
                self.pending.put(c, plan, self.src_ns[c], fresh)
            else:
                self.pending.drop(c)
            work += 1
        return work

    def plan(self, c: int, forced: bool = True) -> Plan | None:
        """The actions that bring coin ``c``'s orders to its ladder; None when nothing
        is to be done now."""
        tr = self.tracker
        if any(o.coin == c and o.state == S_PENDING_NEW for o in tr.by_cloid.values()):
            self.follow.request_reconcile(0.5)  # an order of unknown fate: learn it before adding more
            return None
        lad = self.ladder[c]
        sd = self.sz_dec[c]
        targets = targets_from_ladder(lad, c, sz_decimals=sd)  # passive: bids down, asks up
        pos = self.positions.pos[c]
        side = self.budget.decide(float(pos["position_sz"]), self.limit_sz(c, self.mid(c)))
        pos["reducing_only"] = 1 if side else 0
        pc = self.health.plan_cfg(self.plan_cfg)  # wider tolerances while the venue is slow
        if not forced and side == 0 and not ladder_changed(self.last_targets[c], targets, pc):
            return None  # jitter inside the tolerances: the resting orders still match
        self.last_targets[c] = targets
        live = [LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz, o.tif) for o in tr.active(c)]
        plan = plan_coin(c, targets, live, pc, allow_buy=side >= 0, allow_sell=side <= 0,
                         reduce_only_side=int(lad["reduce_only_side"]))
        b = self.budget
        self.pacer.addr_left = max(0, b.addr_cap - b.addr_used) if b.addr_cap > 0 else -1
        self.pacer.volume_usd = float(self.positions.pos["volume_usd"].sum())  # every coin's
        plan, deferred = self.pacer.ration(plan)
        if deferred:
            self.follow.replan_coin_after(c, self.pacer.retry_after_s())
        return plan
