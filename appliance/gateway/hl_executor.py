"""The Hyperliquid executor: TargetLadder -> signed orders at the venue, behind the
gateway's ``Executor.step(kill)`` / ``cancel_all()`` seam.

Each step: drain the user ring (fills, order updates, fundings, resyncs; see
``hl_sync``), reconcile when asked, then per coin with a new ladder plan the
actions (``reconcile_plan.plan_coin``: keep within tolerance, batchModify,
cancel, place) and send them at most once per ``batch_window_ms`` (``hl_orders``).
A ladder that did not change materially since the last plan of its coin (every
level within the requote tolerances) is not planned again: the resting orders
already match it. Kill flag and dead man's switch: ``hl_kill``. Fill booking and
publishing: ``hl_fill_booking``. Transports (HTTP keep-alive, websocket ``post``):
``hl_transport`` / ``hl_ws_post``.
"""

from __future__ import annotations

import errno
import logging
import os
import time

import numpy as np
import orjson

from appliance.hyperliquid.signing import L1Signer
from appliance.ipc import byte_rows, ring, seqlock
from shm_layout import records

from . import hl_account, hl_compact, hl_setup, hl_sync, venue_health
from .fills import FillProcessor
from .fundings import FundingBook
from .hl_kill import DMS_RETRY_S, KILL_VERIFY_INTERVAL_S, KillSwitch  # noqa: F401 - re-exported
from .hl_orders import DMS_REFUSED, T2W_KEEP, UNKNOWN_SIGNER, OrderSender  # noqa: F401 - re-exported
from .hl_position import Positions
from .hl_transport import make_transport
from .journal import Journal
from .order_state import S_PENDING_NEW, OrderTracker, is_active
from .pretrade import Limits, PreTradeGate
from .rate_budget import RateBudget
from .reconcile_plan import LiveOrder, PlanConfig, ladder_changed, plan_coin, targets_from_ladder
from .requote_pacing import PacingConfig, RequotePacer

log = logging.getLogger("gateway")

SEQLOCK_TRIES = 10_000
MAX_USER_EVENTS_PER_STEP = 1024


class HyperliquidExecutor(OrderSender, KillSwitch):
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
        # Bounded requests that stamp the heartbeat while they wait, timed for venue health.
        self.health = venue_health.VenueHealth(g, ctx.control)
        self.transport = make_transport(g.transport, self.url, g.http_timeout_s, beat=ctx.beat,
                                        observe=self.health.observe)
        self.tracker = OrderTracker()
        self.fills = FillProcessor()
        self.budget = RateBudget(headroom_threshold=g.rate_headroom_frac,
                                 position_threshold_frac=g.rate_position_frac)
        self.plan_cfg = PlanConfig(px_tolerance_bps=g.requote_tolerance_bps,
                                   sz_tolerance_frac=g.sz_tolerance_frac, use_modify=g.use_modify,
                                   tif="Alo", min_notional_usd=cfg.quote.min_notional_usd)
        self.pacer = RequotePacer(PacingConfig(g.requote_budget_per_min, g.requote_horizon_h,
                                               g.requote_burst, g.urgent_tolerance_bps), self.plan_cfg)
        self.last_targets: list[list | None] = [None] * self.n_coins  # last planned, per coin
        self.retry_at = [0.0] * self.n_coins  # deferred optional actions: plan again then
        self.positions = Positions(mem, self.n_coins)
        self.order_meta: dict[str, tuple] = {}  # cloid -> (level, pred id, fill prob, AS bps)
        self.fundings = FundingBook()
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
        self.account_poller = hl_account.AccountPoller(g.account_refresh_s, g.account_after_fill_s)
        self._next_rate = 0.0
        self._next_stats = 0.0
        self._next_disk_check = 0.0
        self._next_prune = 0.0
        self.t2w_ns: list[int] = []
        self.stats = {k: 0 for k in (
            "orders_sent", "cancels_sent", "modifies_sent", "batches", "rejects", "alo_rejects",
            "http_429", "transport_errors", "whole_batch_errors", "address_cap_errors",
            "reconciles", "unknown_cancelled", "missed_fills_applied", "position_corrections",
            "modify_gone", "kill_cancels", "journal_errors")}
        self.stats["kill_to_verified_ms"] = None
        self.pretrade = PreTradeGate(Limits.from_config(cfg.risk))
        self.stats["pretrade_denials"] = self.pretrade.denials  # by reason, live
        self.fatal_reason = ""
        self.stats_path = hl_setup.stats_path(cfg, ctx.instance)
        self._stats_error = ""  # the last failure to write it (logged once per cause)
        self._load_meta()
        jpath = hl_setup.journal_path(cfg, ctx.instance)
        # A journal that cannot be written (disk full, read-only) raises the kill flag
        # (_on_journal_error) but never stops the start: the orders must be cancelled.
        self.journal = Journal(jpath, fsync=g.journal_fsync, on_error=self._on_journal_error)
        fresh = not self.journal.records
        n_replayed = hl_sync.replay(self, self.journal.records)
        self.journal.records = []  # replayed: free the memory
        if g.journal_compact_at_start and n_replayed and self.journal.ok:
            self._compact(jpath, n_replayed)
        log.info("Hyperliquid executor: %s as %s (signer %s), %s journal", self.url, self.user,
                 self.signer.key.address, "fresh" if fresh else "replayed")
        if not hl_sync.reconcile(self, fresh):
            log.warning("venue did not answer the start-up reconciliation: retrying")
            self.request_reconcile(1.0)
        self._check_signer()
        self._publish_orders()
        self.positions.publish(force=True)
        self._publish_health()

    def _compact(self, jpath, n_replayed: int) -> None:
        """Rewrite the journal to what is still live (the old one kept as .1); on a
        full or read-only disk keep the old one and go on (the kill flag is raised)."""
        self.journal.close()
        snap = hl_compact.snapshot_records(self)
        try:
            hl_compact.rewrite(jpath, snap)
            log.info("journal compacted: %d records -> %d", n_replayed, len(snap))
        except OSError as e:
            log.error("journal compaction failed, keeping the old journal: %s", e)
            self._on_journal_error(f"journal compaction {errno.errorcode.get(e.errno or 0, '')} {e}")
            try:
                os.unlink(f"{jpath}.compact")
            except OSError:
                pass
        self.journal = Journal(jpath, fsync=self.g.journal_fsync, on_error=self._on_journal_error)
        self.journal.records = []

    def _on_journal_error(self, reason: str) -> None:
        """A journal write failed: counted; the kill flag goes up (cancel everything; no
        order is placed while the journal fails, see ``hl_orders``)."""
        self.stats["journal_errors"] += 1
        self.ctx.control["gw_journal_errors"] += 1
        self.ctx.kill(f"gateway: {reason}"[:128])

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
        r = self.transport.info(req)
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
        elif (pulled := venue_health.pull_step(self, now)) is not None:
            work += pulled  # the venue is too slow: nothing rests, nothing is placed
        else:
            if self._kill_seen:
                log.info("kill flag reset: quoting again")
                self._kill_seen = self._kill_verified = False
                self.replan = [True] * self.n_coins
            work += self._read_ladders()
            since_ms = time.monotonic() * 1e3 - self._last_flush_ms
            window_ms = self.health.batch_window_ms(self.g.batch_window_ms)  # longer when slow
            if self._pending and now >= self._backoff_until and since_ms >= window_ms:
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
        now = time.monotonic()
        for c in range(self.n_coins):
            s = seqlock.read_block(mem.ladder.seqs, mem.ladder.rows, c, self._ladder_u8[c], SEQLOCK_TRIES)
            if self.retry_at[c] and now >= self.retry_at[c]:
                self.retry_at[c] = 0.0
                self.replan[c] = True
            if s < 0 or (s == self.ladder_seen[c] and not self.replan[c]):
                continue
            if s != self.ladder_seen[c]:
                self.ladder_src_ns[c] = int(self.ladder[c]["src_pub_mono_ns"])
            self.ladder_seen[c] = s
            forced, self.replan[c] = self.replan[c], False
            if s == 0:
                continue  # the quote process has not written one yet
            self.positions.mark(c, float(self.ladder[c]["mid_px"]))
            plan = self._plan(c, forced)
            if plan is None:
                continue
            if plan.n_actions:
                self._pending[c] = plan
                self._pending_src_ns = max(self._pending_src_ns, self.ladder_src_ns[c])
            else:
                self._pending.pop(c, None)
            work += 1
        return work

    def _plan(self, c: int, forced: bool = True):
        tr = self.tracker
        if any(o.coin == c and o.state == S_PENDING_NEW for o in tr.by_cloid.values()):
            self.request_reconcile(0.5)  # an order of unknown fate: learn it before adding more
            return None
        lad = self.ladder[c]
        sd = self.sz_dec[c]
        targets = targets_from_ladder(lad, c, sz_decimals=sd)  # passive: bids down, asks up
        pos = self.positions.pos[c]
        side = self.budget.decide(float(pos["position_sz"]), self.cfg.risk.max_position_sz)
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
        plan, deferred = self.pacer.ration(plan)
        if deferred:
            self.retry_at[c] = time.monotonic() + self.pacer.retry_after_s()
        return plan

    def _periodic(self, now: float) -> None:
        if now >= self._next_pos_check and not self._need_reconcile:
            self._next_pos_check = now + self.g.position_check_s
            hl_sync.check_position(self)
        if not self._need_reconcile:  # a reconciliation reads the account anyway
            self.account_poller.step(self, now)
        if now >= self._next_rate:
            self._next_rate = now + 30.0
            rl = self.info({"type": "userRateLimit", "user": self.user})
            if isinstance(rl, dict) and "nRequestsCap" in rl:
                self.budget.update_user_rate_limit(rl)
        self.transport.keepalive()
        self._check_disk(now)
        if now >= self._next_prune:
            self._next_prune = now + 5.0
            self.tracker.forget_terminal()
        if now >= self._next_stats:
            self._next_stats = now + 1.0
            self.write_stats()
            self._publish_health()

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
            "journal_records": self.journal.n, "journal_error": self.journal.error,
            "rate_budget": self.budget.metrics(), "requote_pacing": self.pacer.metrics(),
            "positions": {c: float(self.positions.pos[i]["position_sz"]) for i, c in enumerate(self.coins)},
            "account_reads": self.account_poller.reads,  # own clearinghouseState reads
            "venue_health": self.health.metrics(),
            "tick_to_wire_us": {"p50": q(0.5), "p99": q(0.99), "n": len(t2w),
                                "samples": [round(x / 1e3, 1) for x in self.t2w_ns[-2000:]]},
            **self.stats,
        }
        tmp = self.stats_path.with_suffix(".tmp")
        try:
            tmp.write_bytes(orjson.dumps(d, option=orjson.OPT_NON_STR_KEYS))
            tmp.replace(self.stats_path)
            self._stats_error = ""
        except OSError as e:
            if str(e) != self._stats_error:  # once per cause, not every second
                log.warning("cannot write %s: %s", self.stats_path, e)
            self._stats_error = str(e)
