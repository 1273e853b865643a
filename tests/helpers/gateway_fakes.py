"""For the gateway's unit and failure tests: the Hyperliquid executor's real
collaborators (``GatewayParts``: venue client, order sender, fill booking, kill
switch, dead man's switch, journal guard) wired over a scripted transport that plays
a tiny venue, without shared memory; and a small tmpfs to fill up (``small_tmpfs``)."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
from pathlib import Path

import numpy as np
import orjson
import pytest

from appliance.config import load_config
from appliance.gateway.hyperliquid.dead_mans_switch import DeadMansSwitch
from appliance.gateway.hyperliquid.fill_booking import FillBooking
from appliance.gateway.hyperliquid.follow_ups import FollowUps
from appliance.gateway.hyperliquid.journal_guard import JournalGuard
from appliance.gateway.hyperliquid.kill_switch import FatalStop, KillSwitch
from appliance.gateway.hyperliquid.order_log import OrderLog
from appliance.gateway.hyperliquid.order_sender import OrderSender
from appliance.gateway.hyperliquid.pending_plans import PendingPlans
from appliance.gateway.hyperliquid.venue_client import VenueClient
from appliance.gateway.order_state import OrderTracker
from appliance.gateway.pretrade import Limits, PreTradeGate
from appliance.gateway.rate_budget import RateBudget
from appliance.hyperliquid.http_transport import Reply
from appliance.runtime.control import set_kill
from appliance.runtime.journal import Journal
from shm_layout import records

USER = "0x" + "a" * 40
SIGNER = "0x" + "0" * 40


class FakeVenue:
    """Scripted /exchange and openOrders: orders rest, cancels succeed."""

    def __init__(self) -> None:
        self.actions: list[dict] = []
        self.resting: dict[int, dict] = {}  # oid -> order wire
        self._oids = itertools.count(1000)
        self.refuse_dms = False  # scheduleCancel refused, as for a young account
        self.infos: list[str] = []  # the /info request types asked
        self.answers: dict[str, object] = {}  # scripted /info bodies by type (else null)
        self.script: list[Reply] = []  # scripted /exchange answers, used first

    def exchange(self, body) -> Reply:
        action = orjson.loads(body)
        self.actions.append(action)
        if self.script:
            return self.script.pop(0)
        t = action["type"]
        if t == "order":
            st = []
            for w in action["orders"]:
                oid = next(self._oids)
                self.resting[oid] = w
                st.append({"resting": {"oid": oid}})
        elif t == "cancel":
            st = ["success" if self.resting.pop(c["o"], None) else {"error": "gone"}
                  for c in action["cancels"]]
        elif t == "cancelByCloid":
            st = ["success"] * len(action["cancels"])
        elif t == "batchModify":
            st = []
            for m in action["modifies"]:
                self.resting.pop(m["oid"], None)
                oid = next(self._oids)
                self.resting[oid] = m["order"]
                st.append({"resting": {"oid": oid}})
        elif t == "scheduleCancel" and self.refuse_dms:
            return Reply(200, {"status": "err", "response": "Cannot set scheduled cancel time until "
                                                            "enough volume traded."})
        else:
            return Reply(200, {"status": "ok", "response": {"type": "default"}})
        return Reply(200, {"status": "ok", "response": {"type": t, "data": {"statuses": st}}})

    def info(self, req: dict) -> Reply:
        self.infos.append(req["type"])
        if req["type"] == "openOrders":
            return Reply(200, [{"coin": "BTC", "oid": oid} for oid in self.resting])
        return Reply(200, self.answers.get(req["type"]))

    def kinds(self) -> list[str]:
        return [a["type"] for a in self.actions]

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSigner:
    def body(self, action: dict) -> dict:
        return action


class FakeCtx:
    """The control record and ``kill`` of a process context."""

    def __init__(self) -> None:
        self.control = np.zeros(1, records.CONTROL)[0]
        self.kills: list[str] = []

    def kill(self, reason: str) -> bool:
        self.kills.append(reason)
        return set_kill(self.control, reason, "gateway")


class FakePositions:
    """PositionState rows without shared memory (publishing is a no-op)."""

    def __init__(self, n: int) -> None:
        self.n_coins = n
        self.pos = np.zeros(n, records.POSITION_STATE)
        self.dirty = [False] * n
        self.published: list[tuple] = []

    def publish_fill(self, *a) -> None:
        self.published.append(a)

    def apply_fill(self, c, side, px, sz, fee) -> None:
        p = self.pos[c]
        p["position_sz"] += side * sz
        p["fees_usd"] += fee
        p["volume_usd"] += px * sz
        p["n_fills"] += 1

    def add_funding(self, c, usdc) -> None:
        self.pos[c]["realized_pnl_usd"] += usdc

    def set_position(self, c, szi, entry) -> None:
        self.pos[c]["position_sz"] = szi
        self.pos[c]["avg_entry_px"] = entry

    def mark(self, c, mid) -> None:
        pass

    def publish(self, force: bool = False) -> None:
        pass


class GatewayParts:
    """One coin (BTC, asset 0) at ``mid_px``; the journal at ``journal_path``; the
    collaborators wired as the executor wires them."""

    def __init__(self, journal_path, mid_px: float = 100_000.0, cfg=None) -> None:
        self.cfg = cfg or load_config(None)
        g = self.cfg.gateway
        self.ctx = FakeCtx()
        self.control = self.ctx.control
        self.coin_index, self.asset = {"BTC": 0}, [0]
        self.venue = FakeVenue()
        self.budget = RateBudget()
        self.fatal = FatalStop(self.ctx.kill)
        self.client = VenueClient(self.venue, FakeSigner(), SIGNER, self.budget,
                                  g.backoff_429_initial_ms / 1e3, g.backoff_429_max_ms / 1e3,
                                  on_fatal=self.fatal.declare)
        self.follow = FollowUps(1)
        self.pending = PendingPlans()
        self.tracker = OrderTracker()
        self.positions = FakePositions(1)
        self.ladder = np.zeros(1, records.TARGET_LADDER)
        self.ladder[0]["mid_px"] = mid_px
        self.guard = JournalGuard(self.control, self.ctx.kill)
        self.journal = Journal(journal_path, fsync="never", on_error=self.guard.on_error)
        self.order_log = OrderLog(["BTC"])
        self.booking = FillBooking(self.tracker, self.positions, self.journal, self.follow,
                                   self.coin_index, self.mid, g.taker_fee_bps, self.order_log)
        self.pretrade = PreTradeGate(Limits.from_config(self.cfg.risk))
        n = itertools.count(1)
        self.new_cloid = lambda: f"0x6d6d{next(n):028x}"
        self.sender = OrderSender(self.client, self.tracker, self.booking, self.journal, self.positions,
                                  self.pretrade, self.follow, self.control, self.ladder, self.asset,
                                  self.new_cloid, self.mid, self.order_log)
        self.kill_switch = KillSwitch(self.client, self.sender, self.tracker, self.positions,
                                      self.pending, self.control, USER, self.coin_index, self.asset)
        self.dms = DeadMansSwitch(self.client, self.control, g.dead_man_switch_s, g.dead_man_refresh_s)

    def mid(self, c: int) -> float:
        return float(self.ladder[c]["mid_px"])


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "1m"):
    """A tmpfs of ``size`` mounted at ``path`` (unmounted on exit); skips the test when
    this process may not mount (not root, or no CAP_SYS_ADMIN in a container)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, opts: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{opts}", str(path)], check=True, capture_output=True)


def fill_disk(path: Path, chunk: int = 64 * 1024) -> int:
    """Write ``path`` until the filesystem is full (ENOSPC); returns the bytes written."""
    n = 0
    buf = b"\0" * chunk
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                w = f.write(buf)
            except OSError:
                if chunk == 1:
                    return n
                chunk //= 2  # fill the last blocks too
                buf = buf[:chunk]
                continue
            n += w or 0
