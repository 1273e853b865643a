"""Sending planned actions to the venue and handling every per-order answer.

A flush sends the plans collected in a batch window: cancels, then post-only
modifies and orders in batches apart from Gtc/Ioc ones. Every order event is
journaled before the request leaves; the ``VenueClient`` signs, sends and
classifies whole-batch answers. Per order: resting (oid bound), filled at once
(booked by ``FillBooking``), rejected. ``Cannot modify canceled or filled order``
and post-only rejects of a modify mark the old order cancel-pending and ask for a
reconcile; an answer that never came asks for one too (fate unknown).

Places and modifies pass the pre-trade gate first (``pretrade``; a denied modify
cancels its order instead) and are not sent when their journal record cannot be
written (fail closed). Cancels are never gated and go out even when the journal fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from appliance.gateway.order_state import (
    E_ACK_REJECTED,
    E_ACK_RESTING,
    E_CANCEL_FAILED,
    E_CANCEL_OK,
    E_CANCEL_SENT,
    E_VENUE_CANCELED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PARTIAL_FILLED,
    S_PENDING_NEW,
    S_RESTING,
    OrderTracker,
    TrackedOrder,
)
from appliance.gateway.pretrade import OpenBook, PreTradeGate
from appliance.gateway.reconcile_plan import LiveOrder, Plan
from appliance.hyperliquid.wire import (
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    order_action,
    order_wire,
)
from appliance.runtime.journal import Journal

from .fill_booking import FillBooking
from .follow_ups import FollowUps
from .order_lifecycle import OrderLifecycle
from .order_log import OrderLog
from .positions import Positions
from .venue_client import VenueClient

log = logging.getLogger("gateway")

REFUSED_REPLAN_S = 1.0  # a batch of orders refused as a whole: its coin is planned again after
# Orders that may still fill, as the pre-trade gate counts them (a confirmed cancel cannot).
GATED_STATES = (S_PENDING_NEW, S_RESTING, S_PARTIAL_FILLED, S_CANCEL_PENDING)


class CloidSource:
    """Our client order ids: a per-start prefix (``mm`` and the start time) and a counter."""

    def __init__(self) -> None:
        self._hi = (0x6D6D << 48) | (time.time_ns() // 1_000_000 & ((1 << 48) - 1))
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return f"0x{self._hi:016x}{self._n:016x}"


class OrderSender:
    """Everything that leaves for ``/exchange`` on behalf of a plan or a cancel."""

    def __init__(self, client: VenueClient, tracker: OrderTracker, booking: FillBooking,
                 journal: Journal, positions: Positions, pretrade: PreTradeGate, follow: FollowUps,
                 control: np.void, ladder: np.ndarray, asset: list[int], new_cloid: Callable[[], str],
                 mid: Callable[[int], float], order_log: OrderLog,
                 lifecycle: OrderLifecycle | None = None) -> None:
        """``control``: the control record (``gw_pretrade_denials``); ``ladder``: the
        TargetLadder rows as last read (the predictions recorded with each order);
        ``asset``: the venue's asset index per coin; ``order_log``: a line per answer;
        ``lifecycle``: where placements and modifies are published for the model
        scorer (None: nowhere)."""
        self.client = client
        self.tracker = tracker
        self.booking = booking
        self.journal = journal
        self.positions = positions
        self.pretrade = pretrade
        self.follow = follow
        self.control = control
        self.ladder = ladder
        self.asset = asset
        self.new_cloid = new_cloid
        self.mid = mid
        self.order_log = order_log
        self.lifecycle = lifecycle
        self.stats = {k: 0 for k in ("orders_sent", "cancels_sent", "modifies_sent", "rejects",
                                     "alo_rejects", "modify_gone")}
        # The same requests by coin (index), for the metrics' coin label.
        self.by_coin = {k: [0] * len(asset) for k in ("place", "modify", "cancel", "reject")}

    # --- sending ----------------------------------------------------------------------
    def flush(self, plans: list[Plan], src: int) -> int:
        """Send the actions of ``plans`` (``src``: the md event behind them, or 0)."""
        cancels = [o for p in plans for o in p.cancel]
        mods = [m for p in plans for m in p.modify]
        places = [n for p in plans for n in p.place]
        work = 0
        if cancels:
            work += self.send_cancels(cancels, src)
            src = 0
        for batch in ([m for m in mods if m.tif == "Alo"], [m for m in mods if m.tif != "Alo"]):
            if batch and not self.client.backing_off(time.monotonic()):
                work += self.send_modifies(batch, src)
                src = 0
        for batch in ([n for n in places if n.tif == "Alo"], [n for n in places if n.tif != "Alo"]):
            if batch and not self.client.backing_off(time.monotonic()):
                work += self.send_orders(batch, src)
                src = 0
        return work

    # --- the pre-trade gate (pretrade.py): places and modifies only, never cancels ----------
    def _open_book(self) -> OpenBook:
        return OpenBook.of((o.coin, o.is_buy, o.px, o.open_sz) for o in self.tracker.by_cloid.values()
                           if o.state in GATED_STATES)

    def _gate(self, book: OpenBook, c: int, is_buy: bool, px: float, sz: float, what: str) -> bool:
        """True when the order may leave (and it is then counted in ``book``)."""
        reason = self.pretrade.check(book, c, is_buy, px, sz, self.mid(c),
                                     float(self.positions.pos[c]["position_sz"]), what)
        if reason is None:
            return True
        self.control["gw_pretrade_denials"] += 1
        return False

    def send_orders(self, items: list, src_ns: int) -> int:
        book = self._open_book()
        gated = []
        for n in items:
            if self._gate(book, n.coin, n.is_buy, n.px, n.sz, "order"):
                side = "bid" if n.is_buy else "ask"
                lv = min(n.level, len(self.ladder[n.coin][f"{side}_px"]) - 1)
                gated.append((n, self.new_cloid(), side, lv))
        if not gated:
            return 0
        pred_ids = [int(self.ladder[n.coin][f"{side}_pred_id"][lv]) for n, _, side, lv in gated]
        # One journal write for the batch, before it leaves. Fail closed: orders we
        # cannot journal are ones we could lose track of (on_error raised the kill flag).
        if not self.journal.append_many(
                ("place", {"cloid": cloid, "coin": n.coin, "is_buy": n.is_buy, "px": n.px, "sz": n.sz,
                           "tif": n.tif, "ro": n.reduce_only, "level": n.level, "pred_id": pred_id})
                for (n, cloid, _, _), pred_id in zip(gated, pred_ids, strict=True)):
            return 0
        orders, wires = [], []
        created_ms = time.time_ns() // 1_000_000
        for n, cloid, _, _ in gated:
            o = TrackedOrder(cloid, n.coin, n.is_buy, n.px, n.sz, n.tif, level=n.level, created_ms=created_ms)
            self.tracker.add(o)
            orders.append(o)
            wires.append(order_wire(self.asset[n.coin], n.is_buy, n.px, n.sz, n.reduce_only, n.tif, cloid))
        statuses, err = self.client.exchange(order_action(wires), len(wires), src_ns)
        # What the fills and the model scorer need, after the request left (not on its path)
        for (n, cloid, side, lv), pred_id, o in zip(gated, pred_ids, orders, strict=True):
            lad = self.ladder[n.coin]
            self.booking.meta[cloid] = (n.level, pred_id, float(lad[f"{side}_fill_prob"][lv]),
                                      float(lad[f"{side}_as_bps"][lv]))
            if self.lifecycle is not None:
                self.lifecycle.placed(o, n.level, pred_id, self.booking.meta[cloid][2])
        self.stats["orders_sent"] += len(orders)
        for i, o in enumerate(orders):
            self._sent("place", o.coin)
            self.positions.pos[o.coin]["orders_placed"] += 1
            if statuses is None:
                if err:  # refused as a whole: nothing was placed; its ladder is planned
                    # again (not at once: a venue that refuses everything is not hammered)
                    self.journal.append("ack", cloid=o.cloid, st="error", err=err[:200])
                    self.tracker.apply(o, E_ACK_REJECTED)
                    self.follow.replan_coin_after(o.coin, REFUSED_REPLAN_S)
                    self.stats["rejects"] += 1
                    self.by_coin["reject"][o.coin] += 1
                    self.order_log.rejected(o, self._pred_id(o), "place", err)
                else:  # no answer: fate unknown until the venue is asked
                    self.follow.request_reconcile(0.2)
                    self.order_log.placed(o, self._pred_id(o), "unknown")
                continue
            self._order_status(o, statuses[i])
        return len(orders)

    def _sent(self, action: str, coin: int) -> None:
        """One request of ``action`` for ``coin``: the per-action count and PositionState's
        ``requests_sent`` (the address budget's debit the quote kernel reads)."""
        self.by_coin[action][coin] += 1
        self.positions.pos[coin]["requests_sent"] += 1

    def _order_status(self, o: TrackedOrder, st) -> None:
        if isinstance(st, dict) and "resting" in st:
            oid = int(st["resting"]["oid"])
            self.journal.append("ack", cloid=o.cloid, oid=oid, st="resting")
            self.booking.bind(o, oid)
            self.tracker.apply(o, E_ACK_RESTING)
            self.order_log.placed(o, self._pred_id(o), "resting")
        elif isinstance(st, dict) and "filled" in st:
            f = st["filled"]
            self.order_log.placed(o, self._pred_id(o), "filled", int(f["oid"]))
            self.booking.on_immediate(o, int(f["oid"]), float(f["totalSz"]), float(f["avgPx"]))
        elif isinstance(st, dict) and "error" in st:
            text = str(st["error"])
            self.journal.append("ack", cloid=o.cloid, st="error", err=text[:200])
            self.tracker.apply(o, E_ACK_REJECTED)
            self.order_log.rejected(o, self._pred_id(o), "place", text)
            self.stats["rejects"] += 1
            self.by_coin["reject"][o.coin] += 1
            if text.startswith("Post only"):
                self.stats["alo_rejects"] += 1
            else:
                log.warning("order rejected: %s", text)
            self.follow.replan_coin(o.coin)
        else:  # "waitingForFill" / "waitingForTrigger": the order exists, oid unknown
            self.follow.request_reconcile(0.2)
            self.order_log.placed(o, self._pred_id(o), "unknown")

    def _pred_id(self, o: TrackedOrder) -> int:
        """The prediction the order was placed or last modified on (0: not known here)."""
        meta = self.booking.meta.get(o.cloid)
        return int(meta[1]) if meta is not None else 0

    def send_modifies(self, items: list, src_ns: int) -> int:
        mods, denied = [], []
        book = self._open_book()
        for m in items:
            o = self.tracker.get(cloid=m.order.cloid)
            if o is None or not o.oid:
                continue
            book.remove(o.coin, o.is_buy, o.px, o.open_sz)  # the modify replaces it
            if not self._gate(book, o.coin, o.is_buy, m.px, m.sz, "modify"):
                # Its target moved where it may not go: do not leave it resting where it was.
                denied.append(LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz, o.tif))
                continue
            mods.append((o, m, order_wire(self.asset[o.coin], o.is_buy, m.px, m.sz, False, m.tif, o.cloid)))
        work = self.send_cancels(denied) if denied else 0
        if not mods:
            return work
        if not self.journal.append_many(("modify", {"cloid": o.cloid, "oid": o.oid, "px": m.px, "sz": m.sz})
                                        for o, m, _ in mods):
            return work  # fail closed, as for new orders (the kill flag cancels them)
        statuses, err = self.client.exchange(batch_modify_action([(o.oid, w) for o, _, w in mods]),
                                       len(mods), src_ns)
        self.stats["modifies_sent"] += len(mods)
        for o, _, _ in mods:
            self._sent("modify", o.coin)
        if statuses is None:
            self.follow.request_reconcile(0.2)  # learn which (if any) landed
            for o, m, _ in mods:
                self.order_log.modified(o, o.oid, self._pred_id(o), m.px, m.sz, "unknown")
            return work + len(mods)
        for (o, m, _), st in zip(mods, statuses, strict=True):
            old_oid = o.oid
            if isinstance(st, dict) and "resting" in st:
                oid = int(st["resting"]["oid"])
                self.journal.append("modify_ack", cloid=o.cloid, oid=oid, px=m.px, sz=m.sz)
                self.booking.bind(o, oid)
                o.px, o.sz = m.px, o.filled_sz + m.sz
                self._new_forecast(o, m.level)
                self.positions.pos[o.coin]["orders_placed"] += 1
                self.order_log.modified(o, old_oid, self._pred_id(o), m.px, m.sz)
            elif isinstance(st, dict) and "filled" in st:
                f = st["filled"]
                self.journal.append("modify_ack", cloid=o.cloid, oid=int(f["oid"]), px=m.px, sz=m.sz)
                self.booking.bind(o, int(f["oid"]))
                o.px, o.sz = m.px, o.filled_sz + m.sz
                self._new_forecast(o, m.level)
                self.follow.request_reconcile(0.5)
                self.order_log.modified(o, old_oid, self._pred_id(o), m.px, m.sz, "filled")
            else:
                # "Cannot modify canceled or filled order", a post-only reject, ...: the old
                # order is gone or going; the websocket / a reconcile says which.
                text = str(st.get("error")) if isinstance(st, dict) else str(st)
                self.journal.append("modify_ack", cloid=o.cloid, err=text[:200])
                self.tracker.apply(o, E_CANCEL_SENT)
                self.order_log.rejected(o, self._pred_id(o), "modify", text)
                self.stats["modify_gone"] += 1
                if text.startswith("Post only"):
                    self.stats["alo_rejects"] += 1
                self.follow.replan_coin(o.coin)
                self.follow.request_reconcile(1.0)
        return work + len(mods)

    def _new_forecast(self, o: TrackedOrder, level: int) -> None:
        """A modified order is a new one at the venue (new price, back of the queue): its
        fills carry the ladder's predictions for its level now, and the model scorer
        sees the old placement end and a new one start."""
        lad = self.ladder[o.coin]
        side = "bid" if o.is_buy else "ask"
        lv = min(level, len(lad[f"{side}_px"]) - 1)
        meta = (level, int(lad[f"{side}_pred_id"][lv]), float(lad[f"{side}_fill_prob"][lv]),
                float(lad[f"{side}_as_bps"][lv]))
        self.booking.meta[o.cloid] = meta
        if self.lifecycle is not None:
            self.lifecycle.modified(o, level, meta[1], meta[2])

    def send_cancels(self, items: list, src_ns: int = 0) -> int:
        gone = [o for lo in items if (o := self.tracker.get(cloid=lo.cloid)) is not None]
        # One journal write for the batch; cancels go out even when it fails.
        self.journal.append_many(("cancel", {"cloid": o.cloid, "oid": o.oid}) for o in gone)
        by_oid, by_cloid = [], []
        for o in gone:
            self.tracker.apply(o, E_CANCEL_SENT)
            (by_oid if o.oid else by_cloid).append(o)
        for group, action in ((by_oid, lambda g: cancel_action([(self.asset[o.coin], o.oid) for o in g])),
                              (by_cloid, lambda g: cancel_by_cloid_action(
                                  [(self.asset[o.coin], o.cloid) for o in g]))):
            if not group:
                continue
            statuses, err = self.client.exchange(action(group), len(group), src_ns)
            src_ns = 0
            self.stats["cancels_sent"] += len(group)
            for i, o in enumerate(group):
                self._sent("cancel", o.coin)
                self.positions.pos[o.coin]["orders_cancelled"] += 1
                if statuses is None:
                    self.follow.request_reconcile(0.5)  # the cancel did not land: re-sent from there
                    self.order_log.cancelled(o, self._pred_id(o), None)
                    continue
                ok = statuses[i] == "success"
                self.journal.append("cancel_ack", cloid=o.cloid, ok=ok)
                self.order_log.cancelled(o, self._pred_id(o), ok)
                self.tracker.apply(o, E_CANCEL_OK if ok else E_CANCEL_FAILED)
                if not ok:
                    self.follow.request_reconcile(1.0)
        return len(by_oid) + len(by_cloid)

    def cancel_raw(self, pairs: list[tuple[int, int]]) -> bool:
        """Cancel (asset, oid) pairs we may not track (unknown orders, kill verify)."""
        if not pairs:
            return True
        statuses, _ = self.client.exchange(cancel_action(pairs), len(pairs))
        self.stats["cancels_sent"] += len(pairs)
        for a, _ in pairs:
            if a in self.asset:  # an order of a coin we do not trade has no coin label
                self._sent("cancel", self.asset.index(a))
        if statuses is None:
            return False
        for (_, oid), st in zip(pairs, statuses, strict=True):
            o = self.tracker.get(oid=oid)
            if o is not None and st == "success":
                self.journal.append("gone", cloid=o.cloid, oid=oid, ev=E_VENUE_CANCELED)
                self.order_log.cancelled(o, self._pred_id(o), True)
                if o.state != S_CANCEL_PENDING and o.state != S_CANCEL_CONFIRMED:
                    self.tracker.apply(o, E_CANCEL_SENT)
                self.tracker.apply(o, E_CANCEL_OK)
        return True
