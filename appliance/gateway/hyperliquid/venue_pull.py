"""The gateway's step while the venue is too slow (``venue_health`` says pulled):
cancel what rests, place nothing, and probe with ``openOrders`` every ``PROBE_S``
(it verifies the book and measures the venue). Unknown orders are cancelled too
when ``gateway.unknown_orders = "cancel"``. On recovery every coin plans afresh.
"""

from __future__ import annotations

from appliance.gateway.order_state import OrderTracker, is_active
from appliance.gateway.reconcile_plan import LiveOrder
from appliance.gateway.venue_health import PROBE_S, VenueHealth

from .follow_ups import FollowUps
from .order_sender import OrderSender
from .pending_plans import PendingPlans
from .venue_client import VenueClient


class VenuePull:
    def __init__(self, health: VenueHealth, client: VenueClient, sender: OrderSender,
                 tracker: OrderTracker, pending: PendingPlans, follow: FollowUps, user: str,
                 coin_index: dict[str, int], asset: list[int], cancel_unknown: bool) -> None:
        self.health = health
        self.client = client
        self.sender = sender
        self.tracker = tracker
        self.pending = pending
        self.follow = follow
        self.user = user
        self.coin_index = coin_index
        self.asset = asset
        self.cancel_unknown = cancel_unknown

    def step(self, now: float) -> int | None:
        """The work done while pulled; None when not pulled (quote as usual)."""
        h = self.health
        if not h.pulled:
            if h.pull_acted:  # just recovered: plan every coin afresh
                h.pull_acted = False
                self.follow.replan_all()
            return None
        work = 0
        if not h.pull_acted:
            h.pull_acted = True
            h.next_probe = 0.0
            self.pending.clear()
        if self.client.backing_off(now):
            return 0
        live = [o for o in self.tracker.by_cloid.values() if is_active(o.state)]
        if live:
            work += self.sender.send_cancels([LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz)
                                              for o in live])
        if now >= h.next_probe:
            h.next_probe = now + PROBE_S
            opens = self.client.info({"type": "openOrders", "user": self.user})
            if isinstance(opens, list):
                ours = [(self.asset[self.coin_index[o["coin"]]], int(o["oid"])) for o in opens
                        if o.get("coin") in self.coin_index and (
                            self.cancel_unknown or self.tracker.get(oid=int(o["oid"])))]
                if ours:
                    self.sender.cancel_raw(ours)
            work += 1
        return work
