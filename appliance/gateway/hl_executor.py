"""The Hyperliquid executor: TargetLadder -> signed orders at the venue, behind the
gateway's ``Executor.step(kill)`` / ``cancel_all()`` seam.

Each step: drain the user ring (fills, order updates, fundings, resyncs; see
``hl_sync``), reconcile when asked, then per coin with a new ladder plan the
actions (``reconcile_plan.plan_coin``: keep within tolerance, batchModify,
cancel, place) and send them at most once per ``batch_window_ms``: cancels, then
post-only modifies and orders in batches apart. Every order event is journaled
before the request leaves; every response shape is handled (per-order statuses,
whole-batch errors, 429 ``null`` with backoff, the address-cap text, an unknown
signer, which raises the kill flag). The dead man's switch (``scheduleCancel``) is
kept ahead while healthy and reported when the venue refuses it.

Kill flag: cancel everything, verify with ``openOrders`` until nothing of ours
rests, place nothing until the flag is reset. Graceful stop: the same, bounded.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import orjson

from appliance.hyperliquid.signing import L1Signer
from appliance.hyperliquid.wire import (
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    order_action,
    order_wire,
    round_px,
    round_sz,
    schedule_cancel_action,
)
from appliance.ipc import byte_rows, ring, seqlock
from shm_layout import records

from . import hl_setup, hl_sync
from .fills import FillProcessor
from .hl_position import Positions
from .hl_transport import HttpTransport
from .journal import Journal
from .order_state import (
    E_ACK_REJECTED,
    E_ACK_RESTING,
    E_CANCEL_FAILED,
    E_CANCEL_OK,
    E_CANCEL_SENT,
    E_VENUE_CANCELED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PENDING_NEW,
    OrderTracker,
    TrackedOrder,
    is_active,
)
from .rate_budget import RateBudget
from .reconcile_plan import LiveOrder, PlanConfig, plan_coin, targets_from_ladder

log = logging.getLogger("gateway")

SEQLOCK_TRIES = 10_000
MAX_USER_EVENTS_PER_STEP = 1024
KILL_VERIFY_INTERVAL_S = 0.3
UNKNOWN_SIGNER = ("does not exist", "Must deposit")
DMS_REFUSED = "Cannot set scheduled cancel time"
DMS_RETRY_S = 300.0
T2W_KEEP = 4096


class HyperliquidExecutor:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.cfg = cfg = ctx.cfg
        g = self.g = cfg.gateway
        mem = ctx.mem
        self.coins = list(cfg.appliance.coins)
        self.n_coins = len(self.coins)
        self.coin_index = {c: i for i, c in enumerate(self.coins)}
        self.url = hl_setup.api_url(cfg, ctx.instance)
        key = hl_setup.load_signing_key(cfg, ctx.instance)
        self.user = hl_setup.account_address(cfg, ctx.instance)
        self.signer = L1Signer(key, is_mainnet=hl_setup.is_mainnet_signing(cfg),
                               vault=g.vault_address or None)
        del key
        self.http = HttpTransport(self.url, g.http_timeout_s)
        self.tracker = OrderTracker()
        self.fills = FillProcessor()
        self.budget = RateBudget(headroom_threshold=g.rate_headroom_frac,
                                 position_threshold_frac=g.rate_position_frac)
        self.plan_cfg = PlanConfig(px_tolerance_bps=g.requote_tolerance_bps,
                                   sz_tolerance_frac=g.sz_tolerance_frac, use_modify=g.use_modify,
                                   tif="Alo", min_notional_usd=cfg.quote.min_notional_usd)
        self.positions = Positions(mem, self.n_coins)
        self.order_meta: dict[str, tuple] = {}  # cloid -> (level, pred id, fill prob, AS bps)
        self.fundings_seen: set[tuple] = set()
        self.replan = [True] * self.n_coins
        self.pos_mismatch = [0] * self.n_coins
        self.last_fill_mono = 0.0
        n = mem.ladder.spec.n_records
        self.ladder = np.zeros(n, records.TARGET_LADDER)
        self._ladder_u8 = byte_rows(self.ladder)
        self.ladder_seen = np.full(self.n_coins, -1, np.int64)
        self.ladder_src_ns = [0] * self.n_coins
        self.ev = np.zeros(1, records.USER_EVENT)
        self._ev_u8 = byte_rows(self.ev)
        self.ucur = np.zeros(2, np.int64)
        self.ucur[0] = ring.start_cursor(mem.user_ring.ring_words, from_start=True)
        self._cloid_hi = (0x6D6D << 48) | (time.time_ns() // 1_000_000 & ((1 << 48) - 1))
        self._cloid_n = 0
        self._pending: dict[int, object] = {}  # coin -> Plan not sent yet
        self._pending_src_ns = 0
        self._last_flush_ms = 0.0
        self._backoff_until = 0.0
        self._backoff_s = 0.0
        self._need_reconcile = False
        self._reconcile_after = 0.0
        self._kill_seen = False
        self._kill_verified = False
        self._kill_t0 = 0.0
        self._kill_next_verify = 0.0
        self._dms_next = 0.0
        self.dms_state = "off" if not g.dead_man_switch_s else "pending"
        self._next_pos_check = time.monotonic() + g.position_check_s
        self._next_rate = 0.0
        self._next_stats = 0.0
        self._next_prune = 0.0
        self.t2w_ns: list[int] = []
        self.stats = {k: 0 for k in (
            "orders_sent", "cancels_sent", "modifies_sent", "batches", "rejects", "alo_rejects",
            "http_429", "transport_errors", "whole_batch_errors", "address_cap_errors",
            "reconciles", "unknown_cancelled", "missed_fills_applied", "position_corrections",
            "modify_gone", "kill_cancels")}
        self.stats["kill_to_verified_ms"] = None
        self.fatal_reason = ""
        self.stats_path = hl_setup.stats_path(cfg, ctx.instance)
        self._load_meta()
        self.journal = Journal(hl_setup.journal_path(cfg, ctx.instance), fsync=g.journal_fsync)
        fresh = not self.journal.records
        hl_sync.replay(self, self.journal.records)
        self.journal.records = []  # replayed: free the memory
        log.info("Hyperliquid executor: %s as %s (signer %s), %s journal", self.url, self.user,
                 self.signer.key.address, "fresh" if fresh else "replayed")
        if not hl_sync.reconcile(self, fresh):
            log.warning("venue did not answer the start-up reconciliation: retrying")
            self.request_reconcile(1.0)
        self._check_signer()
        self._publish_orders()
        self.positions.publish(force=True)

    # --- venue facts ------------------------------------------------------------------
    def _load_meta(self) -> None:
        meta = None
        for _ in range(20):
            meta = self.info({"type": "meta"})
            if isinstance(meta, dict):
                break
            time.sleep(0.25)
        if not isinstance(meta, dict):
            raise RuntimeError(f"no answer to meta from {self.url}")
        names = [u["name"] for u in meta["universe"]]
        self.asset, self.sz_dec = [], []
        for c in self.coins:
            if c not in names:
                raise RuntimeError(f"coin {c} is not listed by the venue at {self.url}")
            i = names.index(c)
            self.asset.append(i)
            self.sz_dec.append(int(meta["universe"][i]["szDecimals"]))

    def info(self, req: dict):
        if time.monotonic() < self._backoff_until:
            return None  # backing off after a 429: the caller retries later
        r = self.http.info(req)
        self.budget.charge_info(req["type"], len(r.body) if isinstance(r.body, list) else 0)
        if r.status == 429:
            self._on_429()
            return None
        if not r.ok:
            self.stats["transport_errors"] += 1
            log.warning("info %s failed: %s %s", req["type"], r.status, r.error or r.text[:200])
            return None
        self._backoff_s = 0.0
        return r.body

    def mid(self, c: int) -> float:
        return float(self.ladder[c]["mid_px"]) or float(self.positions.pos[c]["mark_px"])

    def new_cloid(self) -> str:
        self._cloid_n += 1
        return f"0x{self._cloid_hi:016x}{self._cloid_n:016x}"

    def request_reconcile(self, delay_s: float = 0.0) -> None:
        self._need_reconcile = True
        self._reconcile_after = max(self._reconcile_after, time.monotonic() + delay_s)

    # --- the step ---------------------------------------------------------------------
    def step(self, kill: int) -> int:
        work = self._drain_user()
        now = time.monotonic()
        if self._need_reconcile and now >= self._reconcile_after and now >= self._backoff_until:
            self._need_reconcile = False
            if not hl_sync.reconcile(self, fresh=False):
                self.request_reconcile(1.0)
            work += 1
        if kill or self.fatal_reason:
            work += self._kill_step(now)
        else:
            if self._kill_seen:
                log.info("kill flag reset: quoting again")
                self._kill_seen = self._kill_verified = False
                self.replan = [True] * self.n_coins
            work += self._read_ladders()
            since_ms = time.monotonic() * 1e3 - self._last_flush_ms
            if self._pending and now >= self._backoff_until and since_ms >= self.g.batch_window_ms:
                work += self._flush()
            self._dead_man(now)
        self._periodic(now)
        self._publish_orders()
        self.positions.publish()
        return work

    def _drain_user(self) -> int:
        m = self.ctx.mem.user_ring
        n = 0
        while n < MAX_USER_EVENTS_PER_STEP and ring.read_next(m.ring_words, m.seqs, m.rows, self.ucur,
                                                              0, self._ev_u8[0]):
            hl_sync.on_user_event(self, self.ev[0])
            n += 1
        if self.ucur[1]:
            log.error("user ring lapped: %d events lost; reconciling", int(self.ucur[1]))
            self.ucur[1] = 0
            self.request_reconcile()
        return n

    def _read_ladders(self) -> int:
        mem = self.ctx.mem
        work = 0
        for c in range(self.n_coins):
            s = seqlock.read_block(mem.ladder.seqs, mem.ladder.rows, c, self._ladder_u8[c], SEQLOCK_TRIES)
            if s < 0 or (s == self.ladder_seen[c] and not self.replan[c]):
                continue
            if s != self.ladder_seen[c]:
                self.ladder_src_ns[c] = int(self.ladder[c]["src_pub_mono_ns"])
            self.ladder_seen[c] = s
            self.replan[c] = False
            if s == 0:
                continue  # the quote process has not written one yet
            self.positions.mark(c, float(self.ladder[c]["mid_px"]))
            plan = self._plan(c)
            if plan is None:
                continue
            if plan.n_actions:
                self._pending[c] = plan
                self._pending_src_ns = max(self._pending_src_ns, self.ladder_src_ns[c])
            else:
                self._pending.pop(c, None)
            work += 1
        return work

    def _plan(self, c: int):
        tr = self.tracker
        if any(o.coin == c and o.state == S_PENDING_NEW for o in tr.by_cloid.values()):
            self.request_reconcile(0.5)  # an order of unknown fate: learn it before adding more
            return None
        lad = self.ladder[c]
        sd = self.sz_dec[c]
        targets = targets_from_ladder(lad, c, lambda px, is_buy: round_px(px, sd),
                                      lambda sz: round_sz(sz, sd))
        pos = self.positions.pos[c]
        side = self.budget.decide(float(pos["position_sz"]), self.cfg.risk.max_position_sz)
        pos["reducing_only"] = 1 if side else 0
        live = [LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz, o.tif) for o in tr.active(c)]
        return plan_coin(c, targets, live, self.plan_cfg, allow_buy=side >= 0, allow_sell=side <= 0,
                         reduce_only_side=int(lad["reduce_only_side"]))

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
        r = self.http.post("/exchange", body)
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

    def _send_orders(self, items: list, src_ns: int) -> int:
        orders, wires = [], []
        for n in items:
            c = n.coin
            cloid = self.new_cloid()
            o = TrackedOrder(cloid, c, n.is_buy, n.px, n.sz, n.tif, level=n.level,
                             created_ms=time.time_ns() // 1_000_000)
            self.tracker.add(o)
            lad = self.ladder[c]
            side = "bid" if n.is_buy else "ask"
            lv = min(n.level, len(lad[f"{side}_px"]) - 1)
            pred_id = int(lad[f"{side}_pred_id"][lv])
            self.order_meta[cloid] = (n.level, pred_id, float(lad[f"{side}_fill_prob"][lv]),
                                      float(lad[f"{side}_as_bps"][lv]))
            self.journal.append("place", cloid=cloid, coin=c, is_buy=n.is_buy, px=n.px, sz=n.sz,
                                tif=n.tif, ro=n.reduce_only, level=n.level, pred_id=pred_id)
            orders.append(o)
            wires.append(order_wire(self.asset[c], n.is_buy, n.px, n.sz, n.reduce_only, n.tif, cloid))
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
            hl_sync.bind(self, o, oid)
            self.tracker.apply(o, E_ACK_RESTING)
        elif isinstance(st, dict) and "filled" in st:
            f = st["filled"]
            hl_sync.on_immediate(self, o, int(f["oid"]), float(f["totalSz"]), float(f["avgPx"]))
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
        mods = []
        for m in items:
            o = self.tracker.get(cloid=m.order.cloid)
            if o is None or not o.oid:
                continue
            self.journal.append("modify", cloid=o.cloid, oid=o.oid, px=m.px, sz=m.sz)
            mods.append((o, m, order_wire(self.asset[o.coin], o.is_buy, m.px, m.sz, False, m.tif, o.cloid)))
        if not mods:
            return 0
        statuses, err = self._exchange(batch_modify_action([(o.oid, w) for o, _, w in mods]),
                                       len(mods), src_ns)
        self.stats["modifies_sent"] += len(mods)
        if statuses is None:
            self.request_reconcile(0.2)  # learn which (if any) landed
            return len(mods)
        for (o, m, _), st in zip(mods, statuses, strict=True):
            if isinstance(st, dict) and "resting" in st:
                oid = int(st["resting"]["oid"])
                self.journal.append("modify_ack", cloid=o.cloid, oid=oid, px=m.px, sz=m.sz)
                hl_sync.bind(self, o, oid)
                o.px, o.sz = m.px, o.filled_sz + m.sz
                self.positions.pos[o.coin]["orders_placed"] += 1
            elif isinstance(st, dict) and "filled" in st:
                f = st["filled"]
                self.journal.append("modify_ack", cloid=o.cloid, oid=int(f["oid"]), px=m.px, sz=m.sz)
                hl_sync.bind(self, o, int(f["oid"]))
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
        return len(mods)

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

    # --- kill -------------------------------------------------------------------------
    def _kill_step(self, now: float) -> int:
        work = 0
        if not self._kill_seen:
            self._kill_seen = True
            self._kill_verified = False
            self._kill_t0 = time.time_ns()
            self._kill_next_verify = 0.0
            self._pending.clear()
            log.warning("kill flag: cancelling every order")
        if self._kill_verified or now < self._backoff_until:
            return 0
        live = [o for o in self.tracker.by_cloid.values() if is_active(o.state) or o.state == S_PENDING_NEW]
        if live:
            work += self._send_cancels([LiveOrder(o.cloid, o.oid, o.coin, o.is_buy, o.px, o.open_sz)
                                        for o in live])
            self.stats["kill_cancels"] += len(live)
        if now >= self._kill_next_verify:
            self._kill_next_verify = now + KILL_VERIFY_INTERVAL_S
            opens = self.info({"type": "openOrders", "user": self.user})
            if isinstance(opens, list):
                ours = [(self.asset[self.coin_index[o["coin"]]], int(o["oid"])) for o in opens
                        if o.get("coin") in self.coin_index]
                if ours:
                    self.cancel_raw(ours)
                else:
                    self._kill_verified = True
                    for o in self.tracker.by_cloid.values():
                        if o.state in (S_CANCEL_PENDING, S_CANCEL_CONFIRMED) or is_active(o.state):
                            self.tracker.apply(o, E_VENUE_CANCELED)
                    kill_ts = int(self.ctx.control["kill_ts_ns"]) or self._kill_t0
                    ms = (time.time_ns() - kill_ts) / 1e6
                    self.stats["kill_to_verified_ms"] = round(ms, 3)
                    log.warning("kill: no order of ours rests at the venue (openOrders), %.1f ms "
                                "after the flag", ms)
                    for c in range(self.n_coins):
                        self.positions.pos[c]["kill_active"] = 1
                        self.positions.dirty[c] = True
            work += 1
        return work

    def cancel_all(self) -> None:
        """Graceful stop: cancel everything, verify (bounded), unset the dead man's switch."""
        deadline = time.monotonic() + 3.0
        self._kill_seen = False
        self._backoff_until = 0.0
        try:
            while time.monotonic() < deadline:
                self._drain_user()
                self._kill_step(time.monotonic())
                if self._kill_verified:
                    break
                time.sleep(0.05)
            if self.dms_state == "active":
                self._exchange(schedule_cancel_action(None), 1)
        except Exception:  # noqa: BLE001 - stopping must not hang on the venue
            log.exception("graceful cancel-all failed")
        self._publish_orders()
        self.positions.publish(force=True)
        self.write_stats()
        self.journal.close()
        self.http.close()

    # --- dead man's switch, checks, stats -------------------------------------------------
    def _dead_man(self, now: float) -> None:
        g = self.g
        if not g.dead_man_switch_s or now < self._dms_next or now < self._backoff_until:
            return
        self._dms_next = now + g.dead_man_refresh_s
        t = time.time_ns() // 1_000_000 + int(g.dead_man_switch_s * 1000)
        statuses, err = self._exchange(schedule_cancel_action(t), 1)
        if statuses is not None:
            if self.dms_state != "active":
                log.info("dead man's switch active: orders cancel %.0f s after we go quiet",
                         g.dead_man_switch_s)
            self.dms_state = "active"
        elif err.startswith(DMS_REFUSED):
            if self.dms_state != "refused":
                log.warning("dead man's switch refused by the venue (%s): running without it, "
                            "retrying in %.0f s", err, DMS_RETRY_S)
            self.dms_state = "refused"
            self._dms_next = now + DMS_RETRY_S

    def _check_signer(self) -> None:
        """Fail early and clearly when the venue does not know our key (dead man's switch
        set, or a noop when it is off: either one is signed)."""
        if self.g.dead_man_switch_s:
            self._dead_man(time.monotonic())
        else:
            self._exchange({"type": "noop"}, 1)

    def _periodic(self, now: float) -> None:
        if now >= self._next_pos_check and not self._need_reconcile:
            self._next_pos_check = now + self.g.position_check_s
            hl_sync.check_position(self)
        if now >= self._next_rate:
            self._next_rate = now + 30.0
            rl = self.info({"type": "userRateLimit", "user": self.user})
            if isinstance(rl, dict) and "nRequestsCap" in rl:
                self.budget.update_user_rate_limit(rl)
        if now >= self._next_prune:
            self._next_prune = now + 5.0
            self.tracker.forget_terminal()
        if now >= self._next_stats:
            self._next_stats = now + 1.0
            self.write_stats()

    def _publish_orders(self) -> None:
        for c in range(self.n_coins):
            act = self.tracker.active(c)
            bids = sorted(((o.px, o.open_sz) for o in act if o.is_buy), key=lambda x: -x[0])
            asks = sorted(((o.px, o.open_sz) for o in act if not o.is_buy), key=lambda x: x[0])
            p = self.positions.pos[c]
            if int(p["n_open_bids"]) != len(bids) or int(p["n_open_asks"]) != len(asks) or bids or asks:
                self.positions.set_orders(c, bids, asks)
            killed = 1 if (self._kill_verified or self.fatal_reason) else 0
            if int(p["kill_active"]) != killed:
                p["kill_active"] = killed
                self.positions.dirty[c] = True
            lid = int(self.ladder[c]["ladder_id"])
            if int(p["last_ladder_id"]) != lid:
                p["last_ladder_id"] = lid

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

    def write_stats(self) -> None:
        """A JSON status file in the state dir (no secret: the address is public)."""
        t2w = sorted(self.t2w_ns)
        q = (lambda f: round(t2w[min(len(t2w) - 1, int(f * len(t2w)))] / 1e3, 1)) if t2w else (lambda f: None)
        d = {
            "ts_ns": time.time_ns(), "url": self.url, "account": self.user,
            "signer": self.signer.key.address, "dead_man_switch": self.dms_state,
            "kill_verified": self._kill_verified, "fatal": self.fatal_reason,
            "open_orders": sum(1 for o in self.tracker.by_cloid.values() if is_active(o.state)),
            "illegal_transitions": self.tracker.illegal,
            "fills_applied": self.fills.applied, "fill_duplicates": self.fills.duplicates,
            "immediate_skipped_sz": self.fills.immediate_skipped_sz,
            "journal_records": self.journal.n,
            "rate_budget": self.budget.metrics(),
            "positions": {c: float(self.positions.pos[i]["position_sz"]) for i, c in enumerate(self.coins)},
            "tick_to_wire_us": {"p50": q(0.5), "p99": q(0.99), "n": len(t2w),
                                "samples": [round(x / 1e3, 1) for x in self.t2w_ns[-2000:]]},
            **self.stats,
        }
        tmp = self.stats_path.with_suffix(".tmp")
        try:
            tmp.write_bytes(orjson.dumps(d, option=orjson.OPT_NON_STR_KEYS))
            tmp.replace(self.stats_path)
        except OSError as e:
            log.warning("cannot write %s: %s", self.stats_path, e)
