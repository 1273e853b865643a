"""Sending actions to the venue and handling every response shape (the executor's
``OrderSender`` part).

A flush sends the plans collected in a batch window: cancels, then post-only
modifies and orders in batches apart from Gtc/Ioc ones. Every order event is
journaled before the request leaves. ``_exchange`` signs, sends (HTTP or websocket
``post``: the transport decides) and classifies the answer: per-order statuses,
whole-batch errors, 429 ``null`` (backoff), the address-cap text, an unknown signer
(which raises the kill flag). ``Cannot modify canceled or filled order`` and post-only
rejects of a modify mark the old order cancel-pending and ask for a reconcile.

Places and modifies pass the pre-trade gate first (``pretrade``; a denied modify
cancels its order instead) and are not sent when their journal record cannot be
written (fail closed). Cancels are never gated and go out even when the journal fails.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import orjson

from appliance.hyperliquid.wire import (
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    order_action,
    order_wire,
)

from .hl_fill_booking import bind, on_immediate
from .order_state import (
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
    TrackedOrder,
)
from .pretrade import OpenBook
from .reconcile_plan import LiveOrder

log = logging.getLogger("gateway")

UNKNOWN_SIGNER = ("does not exist", "Must deposit")
DMS_REFUSED = "Cannot set scheduled cancel time"
T2W_KEEP = 4096
# Orders that may still fill, as the pre-trade gate counts them (a confirmed cancel cannot).
GATED_STATES = (S_PENDING_NEW, S_RESTING, S_PARTIAL_FILLED, S_CANCEL_PENDING)


class OrderSender:
    """Mixed into ``HyperliquidExecutor``: everything that leaves for ``/exchange``."""

    # --- sending ----------------------------------------------------------------------
    def _flush(self) -> int:
        plans = [self._pending[c] for c in sorted(self._pending)]
        src = self._pending_src_ns
        self._pending.clear()
        self._pending_src_ns = 0
        self._last_flush_ms = time.monotonic() * 1e3
        cancels = [o for p in plans for o in p.cancel]
        mods = [m for p in plans for m in p.modify]
        places = [n for p in plans for n in p.place]
        work = 0
        if cancels:
            work += self._send_cancels(cancels, src)
            src = 0
        for batch in ([m for m in mods if m.tif == "Alo"], [m for m in mods if m.tif != "Alo"]):
            if batch and time.monotonic() >= self._backoff_until:
                work += self._send_modifies(batch, src)
                src = 0
        for batch in ([n for n in places if n.tif == "Alo"], [n for n in places if n.tif != "Alo"]):
            if batch and time.monotonic() >= self._backoff_until:
                work += self._send_orders(batch, src)
                src = 0
        return work

    def _exchange(self, action: dict, n_items: int, src_ns: int = 0):
        """Sign and send; (statuses list | None, error text). None + "" = no answer."""
        body = orjson.dumps(self.signer.body(action))
        r = self.transport.exchange(body)
        self.budget.charge_exchange(n_items)
        self.stats["batches"] += 1
        if src_ns and r.wire_ns:
            self._t2w_sample(src_ns, r.wire_ns)
        if r.status == 429:
            self._on_429()
            return None, "429"
        if r.status == 0:
            self.stats["transport_errors"] += 1
            log.warning("exchange %s: no answer (%s)", action["type"], r.error)
            return None, ""
        self._backoff_s = 0.0
        b = r.body
        if r.status != 200 or not isinstance(b, dict):
            self.stats["whole_batch_errors"] += 1
            log.error("exchange %s: HTTP %d %s", action["type"], r.status, r.text[:300])
            return None, f"HTTP {r.status}"
        if b.get("status") != "ok":
            text = str(b.get("response"))
            self.stats["whole_batch_errors"] += 1
            if self.budget.on_error_text(text):
                self.stats["address_cap_errors"] += 1
            elif any(s in text for s in UNKNOWN_SIGNER):
                self._fatal(f"venue does not know our signer {self.signer.key.address} "
                            f"(unfunded account or unapproved API wallet): {text}", text)
            elif not text.startswith(DMS_REFUSED):
                log.error("exchange %s refused: %s", action["type"], text)
            return None, text
        resp = b.get("response")
        data = resp.get("data") if isinstance(resp, dict) else None
        statuses = data.get("statuses") if isinstance(data, dict) else None
        if statuses is None:
            return [], ""  # {"type": "default"}
        if len(statuses) != n_items:
            self.stats["whole_batch_errors"] += 1
            log.error("exchange %s: %d statuses for %d items", action["type"], len(statuses), n_items)
            return None, "status count"
        return statuses, ""

    def _on_429(self) -> None:
        self.budget.on_429()
        self.stats["http_429"] += 1
        g = self.g
        self._backoff_s = min(g.backoff_429_max_ms / 1e3,
                              max(g.backoff_429_initial_ms / 1e3, 2 * self._backoff_s))
        self._backoff_until = time.monotonic() + self._backoff_s
        log.warning("HTTP 429 (IP rate limit): backing off %.2f s", self._backoff_s)

    def _fatal(self, reason: str, short: str = "") -> None:
        if not self.fatal_reason:
            self.fatal_reason = reason
            log.error("%s", reason)
            self.ctx.kill(("gateway: " + (short or reason))[:128])

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
        self.ctx.control["gw_pretrade_denials"] += 1
        return False

    def _send_orders(self, items: list, src_ns: int) -> int:
        orders, wires = [], []
        book = self._open_book()
        for n in items:
            c = n.coin
            if not self._gate(book, c, n.is_buy, n.px, n.sz, "order"):
                continue
            cloid = self.new_cloid()
            lad = self.ladder[c]
            side = "bid" if n.is_buy else "ask"
            lv = min(n.level, len(lad[f"{side}_px"]) - 1)
            pred_id = int(lad[f"{side}_pred_id"][lv])
            if not self.journal.append("place", cloid=cloid, coin=c, is_buy=n.is_buy, px=n.px, sz=n.sz,
                                       tif=n.tif, ro=n.reduce_only, level=n.level, pred_id=pred_id):
                # Fail closed: an order we cannot journal is one we could lose track of.
                # The journal's on_error has raised the kill flag.
                break
            o = TrackedOrder(cloid, c, n.is_buy, n.px, n.sz, n.tif, level=n.level,
                             created_ms=time.time_ns() // 1_000_000)
            self.tracker.add(o)
            self.order_meta[cloid] = (n.level, pred_id, float(lad[f"{side}_fill_prob"][lv]),
                                      float(lad[f"{side}_as_bps"][lv]))
            orders.append(o)
            wires.append(order_wire(self.asset[c], n.is_buy, n.px, n.sz, n.reduce_only, n.tif, cloid))
        if not orders:
            return 0
        statuses, err = self._exchange(order_action(wires), len(wires), src_ns)
        self.stats["orders_sent"] += len(orders)
        for i, o in enumerate(orders):
            self.positions.pos[o.coin]["orders_placed"] += 1
            if statuses is None:
                if err:  # refused as a whole: nothing was placed
                    self.journal.append("ack", cloid=o.cloid, st="error", err=err[:200])
                    self.tracker.apply(o, E_ACK_REJECTED)
                    self.stats["rejects"] += 1
                else:  # no answer: fate unknown until the venue is asked
                    self.request_reconcile(0.2)
                continue
            self._order_status(o, statuses[i])
        return len(orders)

    def _order_status(self, o: TrackedOrder, st) -> None:
        if isinstance(st, dict) and "resting" in st:
            oid = int(st["resting"]["oid"])
            self.journal.append("ack", cloid=o.cloid, oid=oid, st="resting")
            bind(self, o, oid)
            self.tracker.apply(o, E_ACK_RESTING)
        elif isinstance(st, dict) and "filled" in st:
            f = st["filled"]
            on_immediate(self, o, int(f["oid"]), float(f["totalSz"]), float(f["avgPx"]))
        elif isinstance(st, dict) and "error" in st:
            text = str(st["error"])
            self.journal.append("ack", cloid=o.cloid, st="error", err=text[:200])
            self.tracker.apply(o, E_ACK_REJECTED)
            self.stats["rejects"] += 1
            if text.startswith("Post only"):
                self.stats["alo_rejects"] += 1
            else:
                log.warning("order rejected: %s", text)
            self.replan[o.coin] = True
        else:  # "waitingForFill" / "waitingForTrigger": the order exists, oid unknown
            self.request_reconcile(0.2)

    def _send_modifies(self, items: list, src_ns: int) -> int:
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
            if not self.journal.append("modify", cloid=o.cloid, oid=o.oid, px=m.px, sz=m.sz):
                break  # fail closed, as for a new order (the kill flag cancels it)
            mods.append((o, m, order_wire(self.asset[o.coin], o.is_buy, m.px, m.sz, False, m.tif, o.cloid)))
        work = self._send_cancels(denied) if denied else 0
        if not mods:
            return work
        statuses, err = self._exchange(batch_modify_action([(o.oid, w) for o, _, w in mods]),
                                       len(mods), src_ns)
        self.stats["modifies_sent"] += len(mods)
        if statuses is None:
            self.request_reconcile(0.2)  # learn which (if any) landed
            return work + len(mods)
        for (o, m, _), st in zip(mods, statuses, strict=True):
            if isinstance(st, dict) and "resting" in st:
                oid = int(st["resting"]["oid"])
                self.journal.append("modify_ack", cloid=o.cloid, oid=oid, px=m.px, sz=m.sz)
                bind(self, o, oid)
                o.px, o.sz = m.px, o.filled_sz + m.sz
                self.positions.pos[o.coin]["orders_placed"] += 1
            elif isinstance(st, dict) and "filled" in st:
                f = st["filled"]
                self.journal.append("modify_ack", cloid=o.cloid, oid=int(f["oid"]), px=m.px, sz=m.sz)
                bind(self, o, int(f["oid"]))
                o.px, o.sz = m.px, o.filled_sz + m.sz
                self.request_reconcile(0.5)
            else:
                # "Cannot modify canceled or filled order", a post-only reject, ...: the old
                # order is gone or going; the websocket / a reconcile says which.
                text = str(st.get("error")) if isinstance(st, dict) else str(st)
                self.journal.append("modify_ack", cloid=o.cloid, err=text[:200])
                self.tracker.apply(o, E_CANCEL_SENT)
                self.stats["modify_gone"] += 1
                if text.startswith("Post only"):
                    self.stats["alo_rejects"] += 1
                self.replan[o.coin] = True
                self.request_reconcile(1.0)
        return work + len(mods)

    def _send_cancels(self, items: list, src_ns: int = 0) -> int:
        by_oid, by_cloid = [], []
        for lo in items:
            o = self.tracker.get(cloid=lo.cloid)
            if o is None:
                continue
            self.journal.append("cancel", cloid=o.cloid, oid=o.oid)
            self.tracker.apply(o, E_CANCEL_SENT)
            (by_oid if o.oid else by_cloid).append(o)
        for group, action in ((by_oid, lambda g: cancel_action([(self.asset[o.coin], o.oid) for o in g])),
                              (by_cloid, lambda g: cancel_by_cloid_action(
                                  [(self.asset[o.coin], o.cloid) for o in g]))):
            if not group:
                continue
            statuses, err = self._exchange(action(group), len(group), src_ns)
            src_ns = 0
            self.stats["cancels_sent"] += len(group)
            for i, o in enumerate(group):
                self.positions.pos[o.coin]["orders_cancelled"] += 1
                if statuses is None:
                    self.request_reconcile(0.5)  # the cancel did not land: re-sent from there
                    continue
                ok = statuses[i] == "success"
                self.journal.append("cancel_ack", cloid=o.cloid, ok=ok)
                self.tracker.apply(o, E_CANCEL_OK if ok else E_CANCEL_FAILED)
                if not ok:
                    self.request_reconcile(1.0)
        return len(by_oid) + len(by_cloid)

    def cancel_raw(self, pairs: list[tuple[int, int]]) -> bool:
        """Cancel (asset, oid) pairs we may not track (unknown orders, kill verify)."""
        if not pairs:
            return True
        statuses, _ = self._exchange(cancel_action(pairs), len(pairs))
        self.stats["cancels_sent"] += len(pairs)
        if statuses is None:
            return False
        for (_, oid), st in zip(pairs, statuses, strict=True):
            o = self.tracker.get(oid=oid)
            if o is not None and st == "success":
                self.journal.append("gone", cloid=o.cloid, oid=oid, ev=E_VENUE_CANCELED)
                if o.state != S_CANCEL_PENDING and o.state != S_CANCEL_CONFIRMED:
                    self.tracker.apply(o, E_CANCEL_SENT)
                self.tracker.apply(o, E_CANCEL_OK)
        return True

    def _t2w_sample(self, src_pub_mono_ns: int, wire_ns: int) -> None:
        """Tick to wire: the feed's receive time of the md event behind the ladder."""
        recs = self.ctx.mem.md.records
        idx = np.flatnonzero(recs["pub_mono_ns"] == src_pub_mono_ns)
        if len(idx):
            recv = int(recs["recv_ts_ns"][idx[0]])
            if recv > 0:
                self.t2w_ns.append(wire_ns - recv)
                if len(self.t2w_ns) > T2W_KEEP:
                    del self.t2w_ns[: T2W_KEEP // 2]
