"""Kill flag and dead man's switch (the executor's ``KillSwitch`` part).

Kill flag: cancel everything, verify with ``openOrders`` until nothing of ours rests,
place nothing until the flag is reset. Graceful stop: the same, bounded, then the
dead man's switch unset. The dead man's switch (``scheduleCancel``) is kept
``dead_man_switch_s`` ahead while healthy; the venue refuses it to young accounts
(below its volume requirement): then we run without it, say so, and retry every
``DMS_RETRY_S``, so it is in force soon after the account qualifies.

Gateway health in the control block (``_publish_health``, every second and on each
change): the switch's state (``gw_dms_state``, ``gw_dms_ok_ts_ns`` at every accepted
``scheduleCancel``) and the address request budget left (``gw_rate_headroom_frac``),
for ``mmctl status``, the risk watchdog and the metrics. The journal's disk is
checked every ``DISK_CHECK_S`` (``Journal.space_error``): full or read-only raises
the kill flag.
"""

from __future__ import annotations

import logging
import time

from appliance.hyperliquid.wire import schedule_cancel_action
from shm_layout.constants import DMS_STATE_NAMES

from .hl_orders import DMS_REFUSED
from .order_state import (
    E_VENUE_CANCELED,
    S_CANCEL_CONFIRMED,
    S_CANCEL_PENDING,
    S_PENDING_NEW,
    is_active,
)
from .reconcile_plan import LiveOrder

log = logging.getLogger("gateway")

KILL_VERIFY_INTERVAL_S = 0.3
DMS_RETRY_S = 30.0  # a refused scheduleCancel is tried again this often
DISK_CHECK_S = 0.25  # statvfs of the journal's disk this often (one cheap syscall)


class KillSwitch:
    """Mixed into ``HyperliquidExecutor``: the kill flag, graceful stop, dead man's switch."""

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
                self._set_dms("off")
        except Exception:  # noqa: BLE001 - stopping must not hang on the venue
            log.exception("graceful cancel-all failed")
        self._publish_orders()
        self.positions.publish(force=True)
        self.write_stats()
        self.journal.close()
        self.transport.close()

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
            self.ctx.control["gw_dms_ok_ts_ns"] = time.time_ns()
            self._set_dms("active")
        elif err.startswith(DMS_REFUSED):
            if self.dms_state != "refused":
                log.warning("dead man's switch refused by the venue (%s): running without it, "
                            "retrying every %.0f s", err, DMS_RETRY_S)
            self._set_dms("refused")
            self._dms_next = now + DMS_RETRY_S

    def _set_dms(self, state: str) -> None:
        self.dms_state = state
        self.ctx.control["gw_dms_state"] = DMS_STATE_NAMES.index(state)

    def _check_disk(self, now: float) -> None:
        """A full or read-only journal disk raises the kill flag before a write fails
        (a quiet gateway may not write for a while)."""
        if now < self._next_disk_check:
            return
        self._next_disk_check = now + DISK_CHECK_S
        disk = self.journal.space_error()
        if disk:
            self.ctx.kill(f"gateway: {disk}"[:128])

    def _publish_health(self) -> None:
        """Dead man's switch state and rate headroom into the control block."""
        control = self.ctx.control
        control["gw_dms_state"] = DMS_STATE_NAMES.index(self.dms_state)
        b = self.budget
        control["gw_rate_headroom_frac"] = b.address_headroom_frac() if b.addr_cap > 0 else -1.0

    def _check_signer(self) -> None:
        """Fail early and clearly when the venue does not know our key (dead man's switch
        set, or a noop when it is off: either one is signed)."""
        if self.g.dead_man_switch_s:
            self._dead_man(time.monotonic())
        else:
            self._exchange({"type": "noop"}, 1)
