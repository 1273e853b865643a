"""Keeping the gateway's orders and position in step with the venue.

* ``on_user_event``: fills, orderUpdates, nonUserCancel, fundings, liquidations and
  the resync of every websocket (re)connection, from the user ring.
* ``reconcile``: start-up and after every websocket (re)connection:
  ``frontendOpenOrders`` (bind cloids, unknown orders cancelled or adopted,
  vanished orders closed), ``userFills`` (missed fills applied once) and
  ``clearinghouseState`` (the position: adopted on a fresh start, checked later;
  the account's margin into PositionState: ``account``).
* ``check_position``: the position against ``clearinghouseState``; a mismatch
  seen twice in a row with no fill in between is corrected (counted, logged).

The journal of the last run is replayed by ``journal_replay``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from appliance.gateway.fills import Fill
from appliance.gateway.order_state import (
    E_ACK_RESTING,
    E_VENUE_CANCELED,
    E_VENUE_REJECTED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PARTIAL_FILLED,
    S_PENDING_NEW,
    S_RESTING,
    OrderTracker,
    TrackedOrder,
)
from appliance.runtime.journal import Journal
from shm_layout.constants import (
    COIN_UNKNOWN,
    UE_FILL,
    UE_FUNDING,
    UE_LIQUIDATION,
    UE_NON_USER_CANCEL,
    UE_ORDER,
    UE_RESYNC,
    order_status_is_cancel,
    order_status_is_reject,
)

from . import account
from .fill_booking import FillBooking
from .follow_ups import FollowUps
from .order_sender import OrderSender
from .positions import Positions
from .venue_client import VenueClient

log = logging.getLogger("gateway")

OPEN_STATES = (S_PENDING_NEW, S_RESTING, S_PARTIAL_FILLED, S_CANCEL_PENDING, S_CANCEL_CONFIRMED)


class VenueSync:
    def __init__(self, client: VenueClient, sender: OrderSender, tracker: OrderTracker,
                 booking: FillBooking, positions: Positions, journal: Journal, follow: FollowUps,
                 user: str, coins: list[str], asset: list[int], adopt_unknown: bool,
                 new_cloid: Callable[[], str], drain_user: Callable[[], int]) -> None:
        """``user``: the account followed; ``coins``/``asset``: our coins and their venue
        asset indices; ``adopt_unknown``: adopt orders we did not place (else cancel
        them); ``drain_user()``: book what the user ring holds (the position check
        calls it after its request)."""
        self.client = client
        self.sender = sender
        self.tracker = tracker
        self.booking = booking
        self.positions = positions
        self.journal = journal
        self.follow = follow
        self.user = user
        self.coins = coins
        self.n_coins = len(coins)
        self.coin_index = {c: i for i, c in enumerate(coins)}
        self.asset = asset
        self.adopt_unknown = adopt_unknown
        self.new_cloid = new_cloid
        self.drain_user = drain_user
        self.pos_mismatch = [0] * self.n_coins
        self.stats = {k: 0 for k in ("reconciles", "unknown_cancelled", "missed_fills_applied",
                                     "position_corrections")}

    # --- websocket user events ------------------------------------------------------------
    def on_user_event(self, ev: np.void) -> None:
        """One USER_EVENT record of the user ring."""
        kind = int(ev["kind"])
        if kind == UE_RESYNC:
            log.info("websocket (re)connected (connection %d): reconciling", int(ev["tid"]))
            self.follow.request_reconcile()
            return
        if int(ev["coin"]) == COIN_UNKNOWN and kind != UE_LIQUIDATION:
            return
        tr = self.tracker
        if kind == UE_FILL:
            self.booking.on_fill(Fill.from_user_event(ev))
        elif kind == UE_ORDER:
            code = int(ev["status"])
            o = tr.get(oid=int(ev["oid"]))
            if o is None:
                return
            if order_status_is_cancel(code):
                self.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
                tr.apply(o, E_VENUE_CANCELED)
                self.follow.replan_coin(o.coin)
            elif order_status_is_reject(code):
                self.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_REJECTED)
                tr.apply(o, E_VENUE_REJECTED)
        elif kind == UE_NON_USER_CANCEL:
            o = tr.get(oid=int(ev["oid"]))
            if o is not None:
                self.journal.append("ou", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
                tr.apply(o, E_VENUE_CANCELED)
                self.follow.replan_coin(o.coin)
        elif kind == UE_FUNDING:
            self.booking.on_funding(int(ev["coin"]), float(ev["usdc"]), float(ev["szi"]),
                                    float(ev["funding_rate"]), int(ev["time_ms"]),
                                    int(ev["recv_ts_ns"]) // 1_000_000)
        elif kind == UE_LIQUIDATION:
            log.error("liquidation event on our account: reconciling")
            self.follow.request_reconcile()

    # --- reconciliation with the venue --------------------------------------------------------
    def reconcile(self, fresh: bool) -> bool:
        """Make orders and position agree with the venue; False if the venue did not answer."""
        t0 = time.monotonic()
        # Open orders first, then fills: a fill that lands between the two requests is in the
        # fills list (booked once here; its websocket copy is a duplicate), and an order missing
        # from the open orders that filled before the snapshot is found filled below, not taken
        # for cancelled. Fills timed after the snapshot request ("late") are not yet reflected
        # in the open sizes it shows.
        t_opens_ms = time.time_ns() // 1_000_000
        opens = self.client.info({"type": "frontendOpenOrders", "user": self.user})
        if not isinstance(opens, list):
            return False
        fills = self.client.info({"type": "userFills", "user": self.user})
        bk = self.booking
        missed = 0
        late: dict[str, float] = {}  # cloid -> size filled after the open-orders snapshot
        if isinstance(fills, list):
            for f in reversed(fills):  # the venue lists newest first
                fill = bk.from_wire(f)
                if fill is None:
                    continue
                new = not bk.fills.seen(fill)
                missed += bk.on_fill(fill, book=not fresh) > 0.0
                o = self.tracker.get(cloid=fill.cloid or None, oid=fill.oid) if new else None
                if o is not None and fill.time_ms >= t_opens_ms:
                    late[o.cloid] = late.get(o.cloid, 0.0) + fill.sz
        bk.fills.cloids.update_from_open_orders(opens)
        tr = self.tracker
        present: set[str] = set()
        to_cancel: list[tuple[int, int]] = []
        adopted = unknown = 0
        for v in opens:
            c = self.coin_index.get(v.get("coin"))
            if c is None:
                continue
            oid = int(v["oid"])
            cloid = (v.get("cloid") or "").lower()
            px, open_sz = float(v["limitPx"]), float(v["sz"])
            o = tr.get(cloid=cloid or None, oid=oid)
            if o is None:
                if self.adopt_unknown:
                    cl = cloid or self.new_cloid()
                    o = TrackedOrder(cl, c, v["side"] == "B", px, open_sz, v.get("tif") or "Alo", oid=oid,
                                     state=S_RESTING)
                    self.journal.append("adopt", cloid=cl, coin=c, is_buy=o.is_buy, px=px, sz=open_sz,
                                        tif=o.tif, oid=oid)
                    tr.add(o)
                    bk.bind(o, oid)
                    present.add(cl)
                    adopted += 1
                else:
                    to_cancel.append((self.asset[c], oid))
                    unknown += 1
                continue
            present.add(o.cloid)
            if o.oid != oid:
                bk.bind(o, oid)
            o.px, o.sz = px, o.filled_sz - late.get(o.cloid, 0.0) + open_sz
            if o.state == S_PENDING_NEW:
                self.journal.append("ack", cloid=o.cloid, oid=oid, st="resting")
                tr.apply(o, E_ACK_RESTING)
            elif o.state in (S_CANCEL_PENDING, S_CANCEL_CONFIRMED):
                to_cancel.append((self.asset[c], oid))  # still resting: the cancel did not land
        gone = 0
        for o in list(tr.by_cloid.values()):
            if o.cloid not in present and o.state in OPEN_STATES:
                self.journal.append("gone", cloid=o.cloid, oid=o.oid, ev=E_VENUE_CANCELED)
                tr.apply(o, E_VENUE_CANCELED)
                gone += 1
        if to_cancel:
            self.sender.cancel_raw(to_cancel)
        ch = self.client.info({"type": "clearinghouseState", "user": self.user})
        account.apply(self.positions, self.coin_index, ch)  # margin, leverage, liquidation px
        venue_pos = self.positions_of(ch)
        if fresh and venue_pos is not None:
            for c, (szi, entry) in venue_pos.items():
                self.journal.append("venue_pos", coin=c, szi=szi, entry_px=entry)
                self.positions.set_position(c, szi, entry)
        self.follow.replan_all()
        log.info("reconciled with the venue in %.0f ms: %d open there, %d unknown cancelled, %d adopted, "
                 "%d ours gone, %d missed fills applied%s", (time.monotonic() - t0) * 1e3, len(opens),
                 unknown, adopted, gone, missed, ", position adopted" if fresh else "")
        self.stats["reconciles"] += 1
        self.stats["unknown_cancelled"] += unknown
        self.stats["missed_fills_applied"] += missed
        return True

    def positions_of(self, ch) -> dict[int, tuple[float, float]] | None:
        """{coin: (szi, entry px)} from a clearinghouseState body (0 for coins not listed)."""
        if not isinstance(ch, dict) or "assetPositions" not in ch:
            return None
        out = {c: (0.0, 0.0) for c in range(self.n_coins)}
        for c, p in account.our_positions(ch, self.coin_index):
            out[c] = (float(p.get("szi", 0.0)), float(p.get("entryPx") or 0.0))
        return out

    def read_account(self) -> bool:
        """One clearinghouseState read for the account alone; False without an answer."""
        return account.apply(self.positions, self.coin_index,
                             self.client.info({"type": "clearinghouseState", "user": self.user}))

    def check_position(self) -> None:
        """Our position against the venue's; adopt the venue's after two mismatches in a row."""
        asked = time.monotonic()
        ch = self.client.info({"type": "clearinghouseState", "user": self.user})
        # Fills the websocket delivered while we waited (a slow venue) are booked first, and a
        # fill booked since shortly before the question makes the comparison meaningless.
        self.drain_user()
        account.apply(self.positions, self.coin_index, ch)
        venue_pos = self.positions_of(ch)
        if venue_pos is None:
            return
        quiet = asked - self.booking.last_fill_mono > 2.0
        for c, (szi, entry) in venue_pos.items():
            ours = float(self.positions.pos[c]["position_sz"])
            pending = any(o.state == S_PENDING_NEW and o.coin == c for o in self.tracker.by_cloid.values())
            if abs(szi - ours) <= 1e-9 or not quiet or pending:
                self.pos_mismatch[c] = 0
                continue
            self.pos_mismatch[c] += 1
            if self.pos_mismatch[c] >= 2:
                log.warning("%s: position %g differs from the venue's %g twice in a row: adopting the "
                            "venue's", self.coins[c], ours, szi)
                self.journal.append("venue_pos", coin=c, szi=szi, entry_px=entry)
                self.positions.set_position(c, szi, entry)
                self.stats["position_corrections"] += 1
                self.pos_mismatch[c] = 0
