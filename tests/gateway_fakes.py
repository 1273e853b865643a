"""For the gateway's failure tests: a Hyperliquid executor without a venue or shared
memory (the real ``OrderSender`` and ``KillSwitch`` mixins over a scripted transport
that plays a tiny venue), and a small tmpfs to fill up (``small_tmpfs``)."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
from pathlib import Path

import numpy as np
import orjson
import pytest

from appliance.config import load_config
from appliance.gateway.fills import FillProcessor
from appliance.gateway.hl_kill import KillSwitch
from appliance.gateway.hl_orders import OrderSender
from appliance.gateway.hl_transport import Reply
from appliance.gateway.journal import Journal
from appliance.gateway.order_state import OrderTracker
from appliance.gateway.pretrade import Limits, PreTradeGate
from appliance.gateway.rate_budget import RateBudget
from appliance.runtime.control import set_kill
from shm_layout import records


class FakeVenue:
    """Scripted /exchange and openOrders: orders rest, cancels succeed."""

    def __init__(self) -> None:
        self.actions: list[dict] = []
        self.resting: dict[int, dict] = {}  # oid -> order wire
        self._oids = itertools.count(1000)
        self.refuse_dms = False  # scheduleCancel refused, as for a young account

    def exchange(self, body) -> Reply:
        action = orjson.loads(body)
        self.actions.append(action)
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

    def kinds(self) -> list[str]:
        return [a["type"] for a in self.actions]

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSigner:
    class key:  # noqa: N801
        address = "0x" + "0" * 40

    def body(self, action: dict) -> dict:
        return action


class FakeCtx:
    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.control = np.zeros(1, records.CONTROL)[0]
        self.kills: list[str] = []

    def kill(self, reason: str) -> bool:
        self.kills.append(reason)
        return set_kill(self.control, reason, "gateway")


class FakePositions:
    def __init__(self, n: int) -> None:
        self.pos = np.zeros(n, records.POSITION_STATE)
        self.dirty = [False] * n

    def publish_fill(self, *a) -> None:
        pass

    def apply_fill(self, c, side, px, sz, fee) -> None:
        self.pos[c]["position_sz"] += side * sz

    def publish(self, force: bool = False) -> None:
        pass


class FakeExecutor(OrderSender, KillSwitch):
    """One coin (BTC, asset 0) at ``mid_px``; the journal at ``journal_path``."""

    def __init__(self, journal_path, mid_px: float = 100_000.0, cfg=None) -> None:
        self.cfg = cfg or load_config(None)
        self.g = self.cfg.gateway
        self.ctx = FakeCtx(self.cfg)
        self.coins, self.coin_index, self.n_coins, self.asset, self.sz_dec = (
            ["BTC"], {"BTC": 0}, 1, [0], [5])
        self.user = "0x" + "a" * 40
        self.signer = FakeSigner()
        self.transport = self.venue = FakeVenue()
        self.budget = RateBudget()
        self.tracker = OrderTracker()
        self.fills = FillProcessor()
        self.positions = FakePositions(1)
        self.ladder = np.zeros(1, records.TARGET_LADDER)
        self.ladder[0]["mid_px"] = mid_px
        self.order_meta: dict = {}
        self.replan = [False]
        self._pending: dict = {}
        self._backoff_until = self._backoff_s = 0.0
        self._kill_seen = self._kill_verified = False
        self._kill_t0 = 0
        self._kill_next_verify = 0.0
        self._dms_next = 0.0
        self._next_disk_check = 0.0
        self.dms_state = "pending"
        self.fatal_reason = ""
        self.reconciles = 0
        self.stats = {k: 0 for k in ("orders_sent", "cancels_sent", "modifies_sent", "batches", "rejects",
                                     "alo_rejects", "http_429", "transport_errors", "whole_batch_errors",
                                     "address_cap_errors", "modify_gone", "kill_cancels", "journal_errors")}
        self.pretrade = PreTradeGate(Limits.from_config(self.cfg.risk))
        self.journal = Journal(journal_path, fsync="never", on_error=self._on_journal_error)
        self._n = itertools.count(1)

    def _on_journal_error(self, reason: str) -> None:
        self.stats["journal_errors"] += 1
        self.ctx.control["gw_journal_errors"] += 1
        self.ctx.kill(f"gateway: {reason}"[:128])

    def mid(self, c: int) -> float:
        return float(self.ladder[c]["mid_px"])

    def new_cloid(self) -> str:
        return f"0x6d6d{next(self._n):028x}"

    def request_reconcile(self, delay_s: float = 0.0) -> None:
        self.reconciles += 1

    def info(self, req: dict):
        if req["type"] == "openOrders":
            return [{"coin": "BTC", "oid": oid} for oid in self.venue.resting]
        return None

    def _drain_user(self) -> int:
        return 0

    def _publish_orders(self) -> None:
        pass

    def write_stats(self) -> None:
        pass


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
