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

from appliance.gateway import ladder_kernel as lk
from appliance.gateway import reconcile_kernel as rk
from appliance.gateway.order_state import S_PARTIAL_FILLED, S_PENDING_NEW, S_RESTING, OrderTracker
from appliance.gateway.rate_budget import RateBudget
from appliance.gateway.reconcile_plan import LiveOrder, Modify, NewOrder, Plan, PlanConfig, kernel_config
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
                 on_ladder: Callable[[int, int, int, int], None] | None = None) -> None:
        """``ladder_block``: the TargetLadder seqlock block (``mem.ladder``); ``sz_dec``:
        the venue's size decimals per coin; ``limit_sz(coin, mid_px)``: the position
        limit in coin at that mid (``config.sizing``), past which only the reducing side
        is quoted when the rate budget is short (``RateBudget.decide``). ``on_ladder(src_pub_mono_ns,
        ladder_mono_ns, read_mono_ns, coin)``: a new ladder was read (tick to wire's stages)."""
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
        # plan_ladder's arrays, reused: the targets last planned per coin, this ladder's
        # targets, the live orders and the plan's rows
        self._planned = lk.new_planned_arrays(n_coins)
        self._targets = lk.new_target_arrays()
        self._live_cap = 0
        self._grow_live(2 * lk.N_TARGETS)
        self._kcfg: tuple[PlanConfig, np.ndarray] = (plan_cfg, kernel_config(plan_cfg))
        self._to_mark: list[int] = []  # coins read since the last mark_read
        self._volume_usd = positions.pos["volume_usd"]  # a view: taking the field costs more than its sum

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
                                   time.monotonic_ns(), c)
            self.seen[c] = s
            forced, replan[c] = replan[c], False
            if s == 0:
                continue  # the quote process has not written one yet
            self._to_mark.append(c)  # marked after the flush (mark_read): not on the order's path
            plan = self.plan(c, forced)
            if plan is None:
                continue
            if plan.n_actions:
                self.pending.put(c, plan, self.src_ns[c], fresh)
            else:
                self.pending.drop(c)
            work += 1
        return work

    def mark_read(self) -> None:
        """Mark the positions of the coins whose ladders were read to their mids."""
        for c in self._to_mark:
            self.positions.mark(c, float(self.ladder[c]["mid_px"]))
        self._to_mark.clear()

    def _grow_live(self, n: int) -> None:
        self._live_cap = n
        self._live_b = np.zeros(n, np.bool_)
        self._live_f = np.zeros((2, n))  # px, open size
        self._out = np.zeros((2 * max(n, lk.N_TARGETS) + 2, 3), np.int64)

    def _cfg_vector(self, pc: PlanConfig) -> np.ndarray:
        """The reconcile kernel's vector of ``pc`` (made again only when ``pc`` changes)."""
        if self._kcfg[0] is not pc:
            self._kcfg = (pc, kernel_config(pc))
        return self._kcfg[1]

    def plan(self, c: int, forced: bool = True) -> Plan | None:
        """The actions that bring coin ``c``'s orders to its ladder; None when nothing
        is to be done now."""
        live = []
        for o in self.tracker.by_cloid.values():
            if o.coin != c:
                continue
            if o.state == S_PENDING_NEW:
                self.follow.request_reconcile(0.5)  # an order of unknown fate: learn it before adding more
                return None
            if o.state == S_RESTING or o.state == S_PARTIAL_FILLED:
                live.append(o)
        lad = self.ladder[c]
        pos = self.positions.pos[c]
        side = self.budget.decide(float(pos["position_sz"]), self.limit_sz(c, self.mid(c)))
        pos["reducing_only"] = 1 if side else 0
        pc = self.health.plan_cfg(self.plan_cfg)  # wider tolerances while the venue is slow
        if len(live) > self._live_cap:
            self._grow_live(2 * len(live))
        lb, lf = self._live_b, self._live_f
        for j, o in enumerate(live):
            lb[j] = o.is_buy
            lf[0, j] = o.px
            lf[1, j] = o.open_sz
        pacer, b = self.pacer, self.budget
        pacer.addr_left = max(0, b.addr_cap - b.addr_used) if b.addr_cap > 0 else -1
        pacer.volume_usd = float(self._volume_usd.sum())  # every coin's
        tb, tf, tl = self._targets
        out = self._out
        n, dropped, deferred, _ = lk.plan_ladder(
            self.ladder, c, self.sz_dec[c], forced, side, *self._planned, lb, lf[0], lf[1], len(live),
            self._cfg_vector(pc), pacer.kernel_cfg, pacer.state, pacer.clock(), pacer.rate_per_s(),
            pacer.volume_usd, tb, tf, tl, out)
        if n == lk.NOT_MOVED:
            return None  # jitter inside the tolerances: the resting orders still match
        if deferred:
            self.follow.replan_coin_after(c, pacer.retry_after_s())
        return self._plan_from_rows(c, out[:n], live, int(lad["reduce_only_side"]), int(dropped), pc.tif)

    def _plan_from_rows(self, c: int, rows: np.ndarray, live: list, reduce_only_side: int,
                        dropped: int, tif: str) -> Plan:
        """A ``Plan`` of the rows that act (keeps and deferred places stay out)."""
        plan = Plan(c, dropped_small=dropped)
        tb, tf, tl = self._targets
        # Python lists once, not a numpy scalar per field (this runs before the order leaves)
        px, sz, level, buy = tf[lk.F_PX].tolist(), tf[lk.F_SZ].tolist(), tl.tolist(), tb.tolist()
        for kind, j, i in rows.tolist():
            if kind == rk.ACT_MODIFY:
                plan.modify.append(Modify(_live_order(live[j]), px[i], sz[i], level[i], tif))
            elif kind == rk.ACT_CANCEL:
                plan.cancel.append(_live_order(live[j]))
            elif kind == rk.ACT_PLACE:
                plan.place.append(NewOrder(c, buy[i], px[i], sz[i], level[i], tif,
                                           reduce_only_side == (1 if buy[i] else -1)))
        return plan


def _live_order(o) -> LiveOrder:
    return LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz, o.tif)
