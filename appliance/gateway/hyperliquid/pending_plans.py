"""Plans waiting for the batch window: the newest plan per coin, the source time of
the market event behind them (tick-to-wire) and when the last batch left.

The ladder planner puts plans here, the step flushes them once per
``batch_window_ms``, and the kill switch and the slow-venue pull drop them.
"""

from __future__ import annotations

import time

from appliance.gateway.reconcile_plan import Plan


class PendingPlans:
    def __init__(self) -> None:
        self.plans: dict[int, Plan] = {}  # coin -> plan not sent yet
        self.src_ns = 0  # newest md pub_mono_ns behind them (0 = not known)
        # A plan made when its ladder was read (not a replan after a fill, a reject or a
        # deferral, which reuses the ladder's source): tick to wire counts those apart.
        self.fresh = False
        self.last_flush_ms = 0.0  # time.monotonic() * 1e3

    def __bool__(self) -> bool:
        return bool(self.plans)

    def put(self, c: int, plan: Plan, src_ns: int, fresh: bool = False) -> None:
        self.plans[c] = plan
        self.src_ns = max(self.src_ns, src_ns)
        self.fresh = self.fresh or fresh

    def drop(self, c: int) -> None:
        self.plans.pop(c, None)

    def clear(self) -> None:
        self.plans.clear()

    def since_flush_ms(self) -> float:
        return time.monotonic() * 1e3 - self.last_flush_ms

    def take(self) -> tuple[list[Plan], int]:
        """The plans in coin order and their source time; the window starts again."""
        plans = [self.plans[c] for c in sorted(self.plans)]
        src = self.src_ns
        self.plans.clear()
        self.src_ns = 0
        self.fresh = False
        self.last_flush_ms = time.monotonic() * 1e3
        return plans, src
