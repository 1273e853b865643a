"""The kill flag, as the gateway obeys it: cancel everything, verify with
``openOrders`` until nothing of ours rests, place nothing until the flag is reset.

``FatalStop`` is the gateway's own reason to stop quoting for good (the venue does
not know our signer): it raises the kill flag once and keeps the gateway in the kill
step whatever the flag says later. ``KillSwitch`` runs that step; the graceful stop
(the executor's ``cancel_all``) runs it too, bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from appliance.gateway.order_state import (
    E_VENUE_CANCELED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PENDING_NEW,
    OrderTracker,
    is_active,
)
from appliance.gateway.reconcile_plan import LiveOrder

from .order_sender import OrderSender
from .pending_plans import PendingPlans
from .positions import Positions
from .venue_client import VenueClient

log = logging.getLogger("gateway")

KILL_VERIFY_INTERVAL_S = 0.3
GRACEFUL_CANCEL_S = 3.0  # a graceful stop waits at most this long for openOrders to be empty


class FatalStop:
    """A reason to stop quoting that no flag reset lifts (the process must restart)."""

    def __init__(self, raise_kill: Callable[[str], object]) -> None:
        """``raise_kill(reason)``: the process's ``ctx.kill``."""
        self.raise_kill = raise_kill
        self.reason = ""

    def __bool__(self) -> bool:
        return bool(self.reason)

    def declare(self, reason: str, short: str = "") -> None:
        if not self.reason:
            self.reason = reason
            log.error("%s", reason)
            self.raise_kill(("gateway: " + (short or reason))[:128])


class KillSwitch:
    def __init__(self, client: VenueClient, sender: OrderSender, tracker: OrderTracker,
                 positions: Positions, pending: PendingPlans, control: np.void, user: str,
                 coin_index: dict[str, int], asset: list[int]) -> None:
        """``control``: the control record (``kill_ts_ns``, when the flag went up)."""
        self.client = client
        self.sender = sender
        self.tracker = tracker
        self.positions = positions
        self.pending = pending
        self.control = control
        self.user = user
        self.coin_index = coin_index
        self.asset = asset
        self.seen = False  # the flag is up and we are acting on it
        self.verified = False  # openOrders showed nothing of ours since
        self.t0_ns = 0
        self.next_verify = 0.0
        self.stats: dict[str, float | int | None] = {"kill_cancels": 0, "kill_to_verified_ms": None}

    def step(self, now: float) -> int:
        """One step under the kill flag; returns the work done."""
        work = 0
        if not self.seen:
            self.seen = True
            self.verified = False
            self.t0_ns = time.time_ns()
            self.next_verify = 0.0
            self.pending.clear()
            log.warning("kill flag: cancelling every order")
        if self.verified or self.client.backing_off(now):
            return 0
        live = [o for o in self.tracker.by_cloid.values() if is_active(o.state) or o.state == S_PENDING_NEW]
        if live:
            work += self.sender.send_cancels([LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz)
                                              for o in live])
            self.stats["kill_cancels"] += len(live)
        if now >= self.next_verify:
            self.next_verify = now + KILL_VERIFY_INTERVAL_S
            opens = self.client.info({"type": "openOrders", "user": self.user})
            if isinstance(opens, list):
                ours = [(self.asset[self.coin_index[o["coin"]]], int(o["oid"])) for o in opens
                        if o.get("coin") in self.coin_index]
                if ours:
                    self.sender.cancel_raw(ours)
                else:
                    self._verified()
            work += 1
        return work

    def _verified(self) -> None:
        self.verified = True
        for o in self.tracker.by_cloid.values():
            if o.state in (S_CANCEL_PENDING, S_CANCEL_CONFIRMED) or is_active(o.state):
                self.tracker.apply(o, E_VENUE_CANCELED)
        kill_ts = int(self.control["kill_ts_ns"]) or self.t0_ns
        ms = (time.time_ns() - kill_ts) / 1e6
        self.stats["kill_to_verified_ms"] = round(ms, 3)
        log.warning("kill: no order of ours rests at the venue (openOrders), %.1f ms after the flag", ms)
        for c in range(self.positions.n_coins):
            self.positions.pos[c]["kill_active"] = 1
            self.positions.dirty[c] = True

    def cancel_all_bounded(self, drain_user: Callable[[], int]) -> None:
        """The graceful stop: the kill step until nothing rests (verified), at most
        ``GRACEFUL_CANCEL_S``, whatever a 429 backoff said. ``drain_user()`` books what
        the user ring brings meanwhile."""
        deadline = time.monotonic() + GRACEFUL_CANCEL_S
        self.seen = False
        self.client.end_backoff()
        while time.monotonic() < deadline:
            drain_user()
            self.step(time.monotonic())
            if self.verified:
                break
            time.sleep(0.05)

    def reset(self) -> bool:
        """The flag is down again: True once, when we were acting on it."""
        if not self.seen:
            return False
        log.info("kill flag reset: quoting again")
        self.seen = self.verified = False
        return True
