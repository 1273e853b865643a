"""The last-resort canceller: when nothing watches our orders, the risk watchdog
cancels them itself.

The gateway cancels on the kill flag and on its way out, and keeps the venue's
dead man's switch (``scheduleCancel``) armed when the venue accepts it — but a
young account is refused that switch, and a gateway that is SIGKILLed, hung, or
restarting (seconds per restart) cancels nothing. This canceller is not the
gateway: its own HTTP connection, its own signer over the same key (nonces are
millisecond timestamps per process; a rare same-millisecond duplicate is refused
by the venue and retried), its own thread in the risk process, so the watchdog's
checks keep their cadence while it waits on the venue.

It acts when the watch is lost (``lost_reason``): the gateway's pid is dead, or its
heartbeat is older than ``risk.gateway_lost_ms``; the supervisor is gone; or the
kill flag has been up ``KILL_BACKSTOP_S`` without the gateway verifying that
nothing rests. Then: ``openOrders`` -> cancel every order of ours on the
configured coins -> again, until ``openOrders`` shows none (``LRC_VERIFIED``),
re-checked every ``REVERIFY_S`` while the loss lasts. State and counts are in the
control block (``canceller_*``) for ``mmctl status`` and the metrics.
"""

from __future__ import annotations

import logging
import threading
import time

from appliance.config import Config
from appliance.hyperliquid import venue_access
from appliance.hyperliquid.http_transport import HttpTransport
from appliance.hyperliquid.signing import L1Signer
from appliance.hyperliquid.wire import cancel_action
from appliance.ipc import seqlock
from appliance.runtime.control import heartbeat_age_ms, pid_alive
from shm_layout.constants import (
    LRC_CANCELLING,
    LRC_FAILED,
    LRC_IDLE,
    LRC_OFF,
    LRC_VERIFIED,
    PROC_GATEWAY,
    PS_RUNNING,
)

log = logging.getLogger("risk")

POLL_S = 0.05
REVERIFY_S = 1.0
KILL_BACKSTOP_S = 3.0  # kill flag up this long, gateway not verified: we cancel too
HTTP_TIMEOUT_S = 1.0


def lost_reason(cfg: Config, mem, now_mono_ns: int) -> str | None:
    """Why our orders are unwatched now, or None while the gateway watches them."""
    ctl = mem.control.records[0]
    slot = ctl["procs"][PROC_GATEWAY]
    sup = int(ctl["supervisor_pid"])
    if sup and not pid_alive(sup):
        return f"supervisor pid {sup} is gone"
    pid = int(slot["pid"])
    if pid and not pid_alive(pid):
        return f"gateway pid {pid} is dead"
    age = heartbeat_age_ms(slot, now_mono_ns)
    if slot["state"] == PS_RUNNING and age is not None and age > cfg.risk.gateway_lost_ms:
        return f"gateway heartbeat {age:.0f} ms old"
    if ctl["kill_flag"]:
        up_s = (time.time_ns() - int(ctl["kill_ts_ns"])) / 1e9
        if up_s > KILL_BACKSTOP_S and not _kill_verified(mem, len(cfg.appliance.coins)):
            return f"kill flag up {up_s:.1f} s and the gateway has not verified an empty book"
    return None


def _kill_verified(mem, n_coins: int) -> bool:
    for c in range(n_coins):
        rec, seq = seqlock.snapshot(mem.position, c, max_tries=10_000)
        if seq < 0 or not rec["kill_active"]:
            return False
    return True


class LastResortCanceller:
    """``start()`` runs the watch in a daemon thread; ``final_sweep()`` is the exit path."""

    def __init__(self, cfg: Config, instance: str, mem) -> None:
        self.cfg = cfg
        self.mem = mem
        self.ctl = mem.control.records[0]
        self.coins = list(cfg.appliance.coins)
        self.enabled = cfg.gateway.venue == "hyperliquid" and cfg.risk.last_resort_cancel
        self.ctl["canceller_state"] = LRC_IDLE if self.enabled else LRC_OFF
        self.asset: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_reason = ""
        if not self.enabled:
            return
        g = cfg.gateway
        try:
            self.url = venue_access.api_url(cfg, instance)
            key = venue_access.load_signing_key(cfg, instance)
            self.user = venue_access.account_address(cfg, instance)
            self.signer = L1Signer(key, is_mainnet=venue_access.is_mainnet_signing(cfg),
                                   vault=g.vault_address or None)
            del key
            self.http = HttpTransport(self.url, min(HTTP_TIMEOUT_S, g.http_timeout_s))
        except Exception as e:  # noqa: BLE001 - the watchdog runs on without it, loudly
            log.error("last-resort canceller unavailable: %s", e)
            self.enabled = False
            self.ctl["canceller_state"] = LRC_FAILED

    # --- the venue ----------------------------------------------------------------------
    def _assets(self) -> bool:
        if len(self.asset) == len(self.coins):
            return True
        r = self.http.info({"type": "meta"})
        if not r.ok or not isinstance(r.body, dict):
            return False
        names = [u.get("name") for u in r.body.get("universe", [])]
        self.asset = {c: names.index(c) for c in self.coins if c in names}
        return len(self.asset) == len(self.coins)

    def sweep(self) -> bool | None:
        """One round: cancel every order of ours that rests. True when ``openOrders``
        showed none of ours, False when some were cancelled (check again), None when
        the venue did not answer or refused."""
        if not self._assets():
            return None
        r = self.http.info({"type": "openOrders", "user": self.user})
        if not r.ok or not isinstance(r.body, list):
            return None
        ours = [(self.asset[o["coin"]], int(o["oid"])) for o in r.body
                if isinstance(o, dict) and o.get("coin") in self.asset]
        if not ours:
            return True
        body = self.signer.body(cancel_action(ours))
        reply = self.http.exchange(body)
        if not reply.ok or not isinstance(reply.body, dict) or reply.body.get("status") != "ok":
            log.error("last-resort cancel of %d orders refused: %s %s", len(ours), reply.status,
                      (reply.text or str(reply.body))[:200])
            return None
        self.ctl["canceller_cancelled"] += len(ours)
        log.warning("last-resort canceller: cancelled %d orders", len(ours))
        return False

    # --- the watch ------------------------------------------------------------------------
    def start(self) -> None:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True, name="last-resort-cancel")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2 * HTTP_TIMEOUT_S)

    def _run(self) -> None:
        next_check = 0.0
        while not self._stop.wait(POLL_S):
            try:
                reason = lost_reason(self.cfg, self.mem, time.monotonic_ns())
                if reason is None:
                    if self.ctl["canceller_state"] != LRC_IDLE:
                        log.info("last-resort canceller: the gateway watches again")
                    self.ctl["canceller_state"] = LRC_IDLE
                    self.last_reason = ""
                    continue
                now = time.monotonic()
                if reason != self.last_reason:
                    log.error("orders unwatched (%s): cancelling every order of ours", reason)
                    self.last_reason = reason
                    self.ctl["canceller_runs"] += 1
                    self.ctl["canceller_state"] = LRC_CANCELLING
                    next_check = 0.0
                if now < next_check:
                    continue
                self._round(now)
                next_check = now + (REVERIFY_S if self.ctl["canceller_state"] == LRC_VERIFIED
                                    else POLL_S)
            except Exception:  # noqa: BLE001 - the watch must outlive any one failure
                log.exception("last-resort canceller round failed")
                self.ctl["canceller_state"] = LRC_FAILED

    def _round(self, now: float) -> None:
        done = self.sweep()
        if done:
            if self.ctl["canceller_state"] != LRC_VERIFIED:
                log.warning("last-resort canceller: no order of ours rests (openOrders)")
            self.ctl["canceller_state"] = LRC_VERIFIED
            self.ctl["canceller_last_ts_ns"] = time.time_ns()
        elif done is None:
            self.ctl["canceller_state"] = LRC_FAILED
        else:
            self.ctl["canceller_state"] = LRC_CANCELLING

    def final_sweep(self, budget_s: float = 2.0) -> bool:
        """The exit path of an orphaned watchdog: sweep until verified or out of time."""
        if not self.enabled:
            return True
        self.stop()
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            try:
                if self.sweep():
                    self.ctl["canceller_state"] = LRC_VERIFIED
                    self.ctl["canceller_last_ts_ns"] = time.time_ns()
                    log.warning("last-resort canceller (exit): no order of ours rests")
                    return True
            except Exception:  # noqa: BLE001
                log.exception("last-resort sweep failed")
            time.sleep(POLL_S)
        self.ctl["canceller_state"] = LRC_FAILED
        return False
