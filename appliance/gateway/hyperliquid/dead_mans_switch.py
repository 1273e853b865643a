"""The venue's dead man's switch (``scheduleCancel``): kept ``dead_man_switch_s``
ahead while the gateway is healthy, so the venue cancels our orders if we go quiet.

The venue refuses it to young accounts (below its volume requirement): then we run
without it, say so, and retry every ``DMS_RETRY_S``, so it is in force soon after
the account qualifies. Its state goes to the control block (``gw_dms_state``;
``gw_dms_ok_ts_ns`` at every accepted ``scheduleCancel``) for ``mmctl status``, the
risk watchdog and the metrics. A graceful stop unsets it.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from appliance.hyperliquid.wire import schedule_cancel_action
from shm_layout.constants import DMS_STATE_NAMES

from .venue_client import DMS_REFUSED, VenueClient

log = logging.getLogger("gateway")

DMS_RETRY_S = 30.0  # a refused scheduleCancel is tried again this often


class DeadMansSwitch:
    def __init__(self, client: VenueClient, control: np.void, switch_s: float, refresh_s: float) -> None:
        """``switch_s``: cancel this long after our last refresh (0 = off);
        ``refresh_s``: refresh this often; ``control``: the control record."""
        self.client = client
        self.control = control
        self.switch_s = switch_s
        self.refresh_s = refresh_s
        self.next_at = 0.0
        self.state = "off" if not switch_s else "pending"

    def step(self, now: float) -> None:
        """Refresh the switch when due (never while backing off after a 429)."""
        if not self.switch_s or now < self.next_at or self.client.backing_off(now):
            return
        self.next_at = now + self.refresh_s
        t = time.time_ns() // 1_000_000 + int(self.switch_s * 1000)
        statuses, err = self.client.exchange(schedule_cancel_action(t), 1)
        if statuses is not None:
            if self.state != "active":
                log.info("dead man's switch active: orders cancel %.0f s after we go quiet", self.switch_s)
            self.control["gw_dms_ok_ts_ns"] = time.time_ns()
            self._set("active")
        elif err.startswith(DMS_REFUSED):
            if self.state != "refused":
                log.warning("dead man's switch refused by the venue (%s): running without it, "
                            "retrying every %.0f s", err, DMS_RETRY_S)
            self._set("refused")
            self.next_at = now + DMS_RETRY_S

    def unset(self) -> None:
        """Graceful stop: the orders are cancelled; nothing is left to cancel later."""
        if self.state == "active":
            self.client.exchange(schedule_cancel_action(None), 1)
            self._set("off")

    def check_signer(self) -> None:
        """Fail early and clearly when the venue does not know our key: the first signed
        request (the switch, or a noop when it is off) gets the venue's verdict."""
        if self.switch_s:
            self.step(time.monotonic())
        else:
            self.client.exchange({"type": "noop"}, 1)

    def publish(self) -> None:
        self.control["gw_dms_state"] = DMS_STATE_NAMES.index(self.state)

    def _set(self, state: str) -> None:
        self.state = state
        self.publish()
