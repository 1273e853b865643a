"""The Hyperliquid executor: TargetLadder -> signed orders at the venue, behind the
gateway's ``Executor.step(kill)`` / ``cancel_all()`` seam.

A composition: the constructor builds the collaborators and hands each only what
it uses; ``step`` runs them in order. Each step: drain the user ring (``VenueSync``:
fills, order updates, fundings, resyncs), reconcile when asked (``FollowUps``),
then under the kill flag the ``KillSwitch`` step; with a venue too slow the
``VenuePull`` step; else read the ladders and plan (``LadderPlanner``), send the
pending plans at most once per batch window (``OrderSender``) and keep the dead
man's switch armed (``DeadMansSwitch``). Periodically: the position check, the
account read, the rate limit, the journal's disk (``JournalGuard``), the status
file and the gateway health in the control block.

Who owns what: ``OrderTracker`` (orders and their states), ``Positions``
(PositionState and the fills ring), ``Journal`` (write-ahead record, replayed by
``journal_replay`` and compacted by ``journal_compaction``), ``FillBooking``
(fills and fundings once), ``VenueClient`` (the transport, signing, 429 backoff).
"""

from __future__ import annotations

import errno
import logging
import os
import time

import numpy as np
import orjson

from appliance.config import sizing
from appliance.config.state_files import gateway_journal_path, gateway_stats_path
from appliance.gateway.order_state import OrderTracker, is_active
from appliance.gateway.pretrade import Limits, PreTradeGate
from appliance.gateway.rate_budget import RateBudget
from appliance.gateway.reconcile_plan import plan_config_of
from appliance.gateway.requote_pacing import RequotePacer, pacing_config_of
from appliance.gateway.venue_health import VenueHealth
from appliance.hyperliquid import venue_access
from appliance.hyperliquid.signing import L1Signer
from appliance.hyperliquid.transports import make_transport
from appliance.ipc import byte_rows, ring
from appliance.runtime.journal import Journal
from appliance.runtime.position_fields import position_fields, totals
from shm_layout import records

from . import journal_compaction, journal_replay
from .account import AccountPoller
from .dead_mans_switch import DeadMansSwitch
from .fill_booking import FillBooking
from .follow_ups import FollowUps
from .journal_guard import JournalGuard
from .kill_switch import FatalStop, KillSwitch
from .ladder_planner import LadderPlanner
from .order_lifecycle import OrderLifecycle
from .order_log import OrderLog
from .order_sender import CloidSource, OrderSender
from .pending_plans import PendingPlans
from .positions import Positions
from .tick_to_wire import TickToWire
from .venue_client import VenueClient
from .venue_pull import VenuePull
from .venue_sync import VenueSync

log = logging.getLogger("gateway")

MAX_USER_EVENTS_PER_STEP = 1024
META_TRIES = 20  # the venue's ``meta`` at start-up: this many tries, META_RETRY_S apart
META_RETRY_S = 0.25


class HyperliquidExecutor:
    def __init__(self, ctx) -> None:
        """``ctx``: the gateway's ProcessContext (config, shared memory, control block,
        heartbeat, kill)."""
        self.ctx = ctx
        cfg, g, mem, control = ctx.cfg, ctx.cfg.gateway, ctx.mem, ctx.control
        self.g = g
        self.coins = list(cfg.appliance.coins)
        self.n_coins = n = len(self.coins)
        self.coin_index = {c: i for i, c in enumerate(self.coins)}
        self.url = venue_access.api_url(cfg, ctx.instance)
        key = venue_access.load_signing_key(cfg, ctx.instance)
        self.user = venue_access.account_address(cfg, ctx.instance)
        signer = L1Signer(key, is_mainnet=venue_access.is_mainnet_signing(cfg),
                          vault=g.vault_address or None)
        self.signer_address = key.address
        del key
        # Bounded requests that stamp the heartbeat while they wait, timed for venue health.
        self.health = VenueHealth(g, control)
        self.transport = transport = make_transport(g.transport, self.url, g.http_timeout_s, beat=ctx.beat,
                                   observe=self.health.observe)
        self.budget = RateBudget(headroom_threshold=g.rate_headroom_frac,
                                 position_threshold_frac=g.rate_position_frac)
        self.fatal = FatalStop(ctx.kill)
        self.t2w = TickToWire(mem.md.records, ctx.slot, mem.params)
        self.client = VenueClient(transport, signer, self.signer_address, self.budget,
                                  g.backoff_429_initial_ms / 1e3, g.backoff_429_max_ms / 1e3,
                                  on_fatal=self.fatal.declare, on_wire=self.t2w.sample)
        self.asset, self.sz_dec = self._load_meta()

        self.follow = FollowUps(n)
        self.pending = PendingPlans()
        self.tracker = OrderTracker()
        self.positions = Positions(mem, n)
        plan_cfg = plan_config_of(g, cfg.quote.min_notional_usd)
        self.pacer = RequotePacer(pacing_config_of(g), plan_cfg)
        self.planner = LadderPlanner(mem.ladder, n, self.sz_dec, self.tracker, self.positions,
                                     self.budget, self.pacer, self.health, plan_cfg, self.follow,
                                     self.pending,
                                     lambda c, mid: sizing.coin_max_position_sz(cfg, self.coins[c], mid),
                                     on_ladder=self.t2w.ladder_read)
        jpath = gateway_journal_path(cfg, ctx.instance)
        # A journal that cannot be written (disk full, read-only) raises the kill flag
        # (JournalGuard) but never stops the start: the orders must be cancelled.
        self.journal_guard = JournalGuard(control, ctx.kill)
        # defer_sync: the interval fsync runs on a thread after the orders left (sync_due)
        self.journal = Journal(jpath, fsync=g.journal_fsync, on_error=self.journal_guard.on_error,
                               defer_sync=True)
        self.order_log = OrderLog(self.coins)
        self.booking = FillBooking(self.tracker, self.positions, self.journal, self.follow,
                                   self.coin_index, self.planner.mid, g.taker_fee_bps, self.order_log)
        self.pretrade = PreTradeGate(Limits.from_config(cfg.risk, cfg.quote, tuple(self.coins)))
        new_cloid = CloidSource()
        self.sender = OrderSender(self.client, self.tracker, self.booking, self.journal, self.positions,
                                  self.pretrade, self.follow, control, self.planner.ladder, self.asset,
                                  new_cloid, self.planner.mid, self.order_log)
        self.sync = VenueSync(self.client, self.sender, self.tracker, self.booking, self.positions,
                              self.journal, self.follow, self.user, self.coins, self.asset,
                              g.unknown_orders == "adopt", new_cloid, self._drain_user)
        self.kill_switch = KillSwitch(self.client, self.sender, self.tracker, self.positions,
                                      self.pending, control, self.user, self.coin_index, self.asset)
        self.pull = VenuePull(self.health, self.client, self.sender, self.tracker, self.pending,
                              self.follow, self.user, self.coin_index, self.asset,
                              g.unknown_orders == "cancel")
        self.dms = DeadMansSwitch(self.client, control, g.dead_man_switch_s, g.dead_man_refresh_s)
        self.account_poller = AccountPoller(g.account_refresh_s, g.account_after_fill_s)

        self._orders_published: list[tuple | None] = [None] * n  # (bids, asks) last set, per coin
        self.ev = np.zeros(1, records.USER_EVENT)
        self._ev_u8 = byte_rows(self.ev)
        self.ucur = np.zeros(2, np.int64)
        self.ucur[0] = ring.start_cursor(mem.user_ring.ring_words, from_start=True)
        self._next_pos_check = time.monotonic() + g.position_check_s
        self._next_rate = self._next_stats = self._next_prune = 0.0
        self.stats_path = gateway_stats_path(cfg, ctx.instance)
        self._stats_error = ""  # the last failure to write it (logged once per cause)

        fresh = not self.journal.records
        n_replayed = journal_replay.replay(self.journal.records, self.tracker, self.booking, self.positions)
        self.journal.records = []  # replayed: free the memory
        # Placements from here on, for the model scorer (replayed orders are not followed).
        self.lifecycle = OrderLifecycle(mem, cfg.scores.fill_horizon_s or cfg.quote.epnl_horizon_s)
        self.sender.lifecycle = self.lifecycle
        self.tracker.observer = self.lifecycle.on_transition
        if g.journal_compact_at_start and n_replayed and self.journal.ok:
            self._compact(n_replayed)
        log.info("Hyperliquid executor: %s as %s (signer %s), %s journal", self.url, self.user,
                 self.signer_address, "fresh" if fresh else "replayed")
        if not self.sync.reconcile(fresh):
            log.warning("venue did not answer the start-up reconciliation: retrying")
            self.follow.request_reconcile(1.0)
        self.dms.check_signer()
        self._publish_orders()
        self.positions.publish(force=True)
        self._publish_health()

    # --- start-up -----------------------------------------------------------------------
    def _load_meta(self) -> tuple[list[int], list[int]]:
        """The venue's asset index and size decimals of each of our coins."""
        meta = None
        for _ in range(META_TRIES):
            meta = self.client.info({"type": "meta"})
            if isinstance(meta, dict):
                break
            time.sleep(META_RETRY_S)
        if not isinstance(meta, dict):
            raise RuntimeError(f"no answer to meta from {self.url}")
        names = [u["name"] for u in meta["universe"]]
        asset, sz_dec = [], []
        for c in self.coins:
            if c not in names:
                raise RuntimeError(f"coin {c} is not listed by the venue at {self.url}")
            i = names.index(c)
            asset.append(i)
            sz_dec.append(int(meta["universe"][i]["szDecimals"]))
        return asset, sz_dec

    def _compact(self, n_replayed: int) -> None:
        """Rewrite the journal to what is still live (the old one kept as .1); on a
        full or read-only disk keep the old one and go on (the kill flag is raised)."""
        path = self.journal.path
        self.journal.close()
        snap = journal_compaction.snapshot_records(self.positions, self.tracker, self.booking)
        try:
            journal_compaction.rewrite(path, snap)
            log.info("journal compacted: %d records -> %d", n_replayed, len(snap))
        except OSError as e:
            log.error("journal compaction failed, keeping the old journal: %s", e)
            self.journal_guard.on_error(f"journal compaction {errno.errorcode.get(e.errno or 0, '')} {e}")
            try:
                os.unlink(f"{path}.compact")
            except OSError:
                pass
        self.journal.reopen()
        self.journal.records = []

    # --- the step -------------------------------------------------------------------------
    def step(self, kill: int) -> int:
        work = self._drain_user()
        now = time.monotonic()
        if not self.client.backing_off(now) and self.follow.take_reconcile(now):
            if not self.sync.reconcile(fresh=False):
                self.follow.request_reconcile(1.0)
            work += 1
        if kill or self.fatal:
            work += self.kill_switch.step(now)
        elif (pulled := self.pull.step(now)) is not None:
            work += pulled  # the venue is too slow: nothing rests, nothing is placed
        else:
            if self.kill_switch.reset():
                self.follow.replan_all()
            work += self.planner.read()
            window_ms = self.health.batch_window_ms(self.g.batch_window_ms)  # longer when slow
            if (self.pending and not self.client.backing_off(now)
                    and self.pending.since_flush_ms() >= window_ms):
                self.t2w.batch_fresh = self.pending.fresh  # its first request is the sample
                work += self.sender.flush(*self.pending.take())
                self.journal.sync_due()
            self.planner.mark_read()
            self.dms.step(now)
        self._periodic(now)
        self._publish_orders()
        self.positions.publish()
        return work

    def _drain_user(self) -> int:
        m = self.ctx.mem.user_ring
        n = 0
        while n < MAX_USER_EVENTS_PER_STEP and ring.read_next(m.ring_words, m.seqs, m.rows, self.ucur,
                                                              0, self._ev_u8[0]):
            self.sync.on_user_event(self.ev[0])
            n += 1
        if self.ucur[1]:
            log.error("user ring lapped: %d events lost; reconciling", int(self.ucur[1]))
            self.ucur[1] = 0
            self.follow.request_reconcile()
        return n

    def _periodic(self, now: float) -> None:
        if now >= self._next_pos_check and not self.follow.need_reconcile:
            self._next_pos_check = now + self.g.position_check_s
            self.sync.check_position()
        if not self.follow.need_reconcile:  # a reconciliation reads the account anyway
            last_ns = int(self.positions.pos[0]["account_update_mono_ns"]) if self.n_coins else 0
            self.account_poller.step(now, last_ns, self.booking.last_fill_mono,
                                     self.budget.ip_headroom_frac(), self.sync.read_account)
        if now >= self._next_rate:
            self._next_rate = now + 30.0
            rl = self.client.info({"type": "userRateLimit", "user": self.user})
            if isinstance(rl, dict) and "nRequestsCap" in rl:
                self.budget.update_user_rate_limit(rl)
        self.client.keepalive()
        self.journal.sync_due(now)
        self.journal_guard.check_disk(self.journal, now)
        if now >= self._next_prune:
            self._next_prune = now + 5.0
            self.tracker.forget_terminal()
        if now >= self._next_stats:
            self._next_stats = now + 1.0
            self.write_stats()
            self._publish_health()

    # --- the graceful stop ------------------------------------------------------------------
    def cancel_all(self) -> None:
        """Cancel everything, verify (bounded), unset the dead man's switch, close."""
        try:
            self.kill_switch.cancel_all_bounded(self._drain_user)
            self.dms.unset()
        except Exception:  # noqa: BLE001 - stopping must not hang on the venue
            log.exception("graceful cancel-all failed")
        self._publish_orders()
        self.positions.publish(force=True)
        self.write_stats()
        self.journal.close()
        self.client.close()

    def summary(self) -> dict:
        """The shutdown line's figures: orders by fate, fills, and the P&L per coin."""
        fills = self.booking.fills
        pos = [self.positions.pos[c] for c in range(self.n_coins)]
        return {"fills": fills.applied, "fill_duplicates": fills.duplicates,
                "orders": {k: self.sender.stats[k] for k in ("orders_sent", "modifies_sent",
                                                              "cancels_sent", "rejects")},
                "order_lines": dict(self.order_log.counts),
                **totals(pos),
                "coins": {coin: position_fields(p) for coin, p in zip(self.coins, pos, strict=True)}}

    # --- what the others read ----------------------------------------------------------------
    def _publish_orders(self) -> None:
        """Our active orders, the kill state and the ladder answered, into PositionState."""
        killed = 1 if (self.kill_switch.verified or self.fatal) else 0
        for c in range(self.n_coins):
            act = self.tracker.active(c)
            bids = sorted(((o.px, o.open_sz) for o in act if o.is_buy), key=lambda x: -x[0])
            asks = sorted(((o.px, o.open_sz) for o in act if not o.is_buy), key=lambda x: x[0])
            p = self.positions.pos[c]
            # Written (and PositionState republished) only when they changed: rewriting
            # the same orders on every step, idle ones too, cost the gateway's step more
            # than its planning (BENCHMARKS.md, issue 18).
            if (bids, asks) != self._orders_published[c]:
                self.positions.set_orders(c, bids, asks)
                self._orders_published[c] = (bids, asks)
            if int(p["kill_active"]) != killed:
                p["kill_active"] = killed
                self.positions.dirty[c] = True
            lid = int(self.planner.ladder[c]["ladder_id"])
            if int(p["last_ladder_id"]) != lid:
                p["last_ladder_id"] = lid

    def _publish_health(self) -> None:
        """Dead man's switch state and address rate headroom into the control block."""
        publish_health(self.ctx.control, self.dms, self.budget)

    def write_stats(self) -> None:
        """A JSON status file in the state dir (no secret: the address is public)."""
        fills = self.booking.fills
        d = {
            "ts_ns": time.time_ns(), "url": self.url, "account": self.user,
            "signer": self.signer_address, "dead_man_switch": self.dms.state,
            "kill_verified": self.kill_switch.verified, "fatal": self.fatal.reason,
            "open_orders": sum(1 for o in self.tracker.by_cloid.values() if is_active(o.state)),
            "illegal_transitions": self.tracker.illegal,
            "lifecycle_events": self.lifecycle.published, "lifecycle_errors": self.lifecycle.errors,
            "fills_applied": fills.applied, "fill_duplicates": fills.duplicates,
            "immediate_skipped_sz": fills.immediate_skipped_sz,
            "journal_records": self.journal.n, "journal_error": self.journal.error,
            "rate_budget": self.budget.metrics(), "requote_pacing": self.pacer.metrics(),
            "positions": {c: float(self.positions.pos[i]["position_sz"]) for i, c in enumerate(self.coins)},
            "account_reads": self.account_poller.reads,  # own clearinghouseState reads
            "venue_health": self.health.metrics(),
            "tick_to_wire_us": self.t2w.summary(),
            "transport_reconnects": self.transport.reconnects,
            "sent_by_coin": {coin: {k: v[i] for k, v in self.sender.by_coin.items()}
                             for i, coin in enumerate(self.coins)},
            **self.client.stats, **self.sender.stats, **self.sync.stats, **self.kill_switch.stats,
            **self.journal_guard.stats, "pretrade_denials": self.pretrade.denials,
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


def publish_health(control, dms: DeadMansSwitch, budget: RateBudget) -> None:
    """``gw_dms_state`` and ``gw_rate_headroom_frac`` (-1 until the venue told us its cap)."""
    dms.publish()
    control["gw_rate_headroom_frac"] = budget.address_headroom_frac() if budget.addr_cap > 0 else -1.0
