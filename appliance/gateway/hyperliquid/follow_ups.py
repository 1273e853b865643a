"""What the gateway's collaborators ask the step to do next: plan a coin's ladder
again (an order filled, was cancelled by the venue, was rejected) or reconcile
with the venue (an order of unknown fate, a reconnection, a lost user event).

The one piece of state the collaborators share; each gets this object, never the
executor, and the step reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FollowUps:
    def __init__(self, n_coins: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.n_coins = n_coins
        self.clock = clock
        self.replan = [True] * n_coins  # plan this coin's ladder at the next read
        self.replan_at = [0.0] * n_coins  # ... or once time.monotonic() reaches this (0: not asked)
        self.need_reconcile = False
        self.reconcile_after = 0.0  # time.monotonic()

    def replan_coin(self, c: int) -> None:
        self.replan[c] = True

    def replan_coin_after(self, c: int, delay_s: float) -> None:
        """Plan coin ``c`` again ``delay_s`` from now (or at an earlier time already asked)."""
        t = self.clock() + delay_s
        self.replan_at[c] = min(self.replan_at[c], t) if self.replan_at[c] else t

    def take_replan_due(self, c: int, now: float) -> None:
        """Turn a timed replan of coin ``c`` that is due into a replan at this read."""
        if self.replan_at[c] and now >= self.replan_at[c]:
            self.replan_at[c] = 0.0
            self.replan[c] = True

    def replan_all(self) -> None:
        self.replan[:] = [True] * self.n_coins

    def request_reconcile(self, delay_s: float = 0.0) -> None:
        """Reconcile with the venue ``delay_s`` from now (or at a later time already asked)."""
        self.need_reconcile = True
        self.reconcile_after = max(self.reconcile_after, self.clock() + delay_s)

    def take_reconcile(self, now: float) -> bool:
        """True (and the request cleared) when a reconciliation is due at ``now``."""
        if self.need_reconcile and now >= self.reconcile_after:
            self.need_reconcile = False
            return True
        return False
