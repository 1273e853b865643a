"""How well the venue answers, and what the gateway does about a slow one.

Every request the transports make reports its response time here (``observe``); a
request with no answer (timeout, reset, refused) counts as one that took
``gateway.http_timeout_s``. From an EWMA of those times (published as
``control.gw_venue_latency_ms``) and the run of unanswered requests:

* ``ok``: as configured.
* ``slow`` (EWMA >= ``gateway.venue_slow_ms``): fewer, batched requests. Plans are
  collected for at least ``gateway.slow_batch_window_ms`` before a flush, and resting
  orders are kept within ``slow_tolerance_mult`` x the requote tolerance (never beyond
  the urgent tolerance, so a risk-reducing requote still goes out at once).
* ``pulled`` (EWMA >= ``gateway.venue_pull_ms``, or ``gateway.venue_pull_failures``
  requests in a row unanswered): the ladder is pulled. Every order of ours is
  cancelled, nothing is placed, and ``openOrders`` is asked every ``PROBE_S`` (it
  verifies the book and measures the venue) until the EWMA is back under
  ``RECOVER_FRAC`` x the threshold, held at least ``PULL_MIN_S``.

What the gateway does while pulled: ``hyperliquid/venue_pull.py``. A slow venue
therefore degrades the quoting; it never stops the heartbeat (the
transports beat while they wait, ``bounded_net``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from .reconcile_plan import PlanConfig

log = logging.getLogger("gateway")

OK, SLOW, PULLED = "ok", "slow", "pulled"
EWMA_ALPHA = 0.3  # weight of the newest response time
RECOVER_FRAC = 0.6  # leave a state once the EWMA is under this share of its threshold
PULL_MIN_S = 5.0  # a pull lasts at least this long (no flapping cancel/place cycles)
PROBE_S = 1.0  # while pulled: openOrders this often


class VenueHealth:
    def __init__(self, g, control=None, clock: Callable[[], float] = time.monotonic) -> None:
        """``g``: the GatewayConfig; ``control``: the control record (or None)."""
        self.slow_ms = g.venue_slow_ms
        self.pull_ms = g.venue_pull_ms
        self.pull_failures = g.venue_pull_failures
        self.slow_batch_window_ms = g.slow_batch_window_ms
        self.slow_tolerance_mult = g.slow_tolerance_mult
        self.urgent_tolerance_bps = g.urgent_tolerance_bps
        self.timeout_ms = g.http_timeout_s * 1e3
        self.control = control
        self.clock = clock
        self.state = OK
        self.ewma_ms = 0.0
        self.last_ms = 0.0
        self.failures_in_row = 0
        self.samples = 0
        self.unanswered = 0
        self.pulls = 0
        self.slow_periods = 0
        self.pulled_since = 0.0
        self.pulled_s_total = 0.0
        self.pull_acted = False  # the executor has cancelled for the current pull
        self.next_probe = 0.0
        self._plan_cache: tuple[PlanConfig, PlanConfig] | None = None

    # --- measuring -------------------------------------------------------------------
    def observe(self, latency_ms: float, answered: bool) -> None:
        """One request's response time (the transports' ``observe`` hook)."""
        if not answered:
            latency_ms = max(latency_ms, self.timeout_ms)
            self.failures_in_row += 1
            self.unanswered += 1
        else:
            self.failures_in_row = 0
        self.samples += 1
        self.last_ms = latency_ms
        self.ewma_ms = latency_ms if self.samples == 1 else (
            EWMA_ALPHA * latency_ms + (1.0 - EWMA_ALPHA) * self.ewma_ms)
        if self.control is not None:
            self.control["gw_venue_latency_ms"] = self.ewma_ms
        self._update()

    def _update(self) -> None:
        now = self.clock()
        e = self.ewma_ms
        if e >= self.pull_ms or self.failures_in_row >= self.pull_failures:
            self._enter(PULLED, now)
        elif self.state == PULLED:
            if (now - self.pulled_since >= PULL_MIN_S and e < RECOVER_FRAC * self.pull_ms
                    and self.failures_in_row == 0):
                self._enter(SLOW if e >= RECOVER_FRAC * self.slow_ms else OK, now)
        elif e >= self.slow_ms:
            self._enter(SLOW, now)
        elif self.state == SLOW and e < RECOVER_FRAC * self.slow_ms:
            self._enter(OK, now)

    def _enter(self, state: str, now: float) -> None:
        if state == self.state:
            return
        if state == PULLED:
            self.pulls += 1
            self.pulled_since = now
            self.pull_acted = False
            log.warning("venue too slow (response time EWMA %.0f ms, %d unanswered in a row): "
                        "pulling the ladder until it recovers", self.ewma_ms, self.failures_in_row)
        elif self.state == PULLED:
            self.pulled_s_total += now - self.pulled_since
            log.warning("venue answering again (EWMA %.0f ms): quoting (%s)", self.ewma_ms, state)
        if state == SLOW:
            self.slow_periods += 1
            if self.state == OK:
                log.warning("venue slow (response time EWMA %.0f ms): batching requests",
                            self.ewma_ms)
        elif state == OK:
            log.info("venue response time back to normal (EWMA %.0f ms)", self.ewma_ms)
        self.state = state

    # --- what the executor asks ----------------------------------------------------------
    @property
    def pulled(self) -> bool:
        return self.state == PULLED

    def batch_window_ms(self, base_ms: float) -> float:
        return max(base_ms, self.slow_batch_window_ms) if self.state != OK else base_ms

    def plan_cfg(self, base: PlanConfig) -> PlanConfig:
        """The plan tolerances: widened when slow (capped at the urgent tolerance)."""
        if self.state == OK:
            return base
        if self._plan_cache is None or self._plan_cache[0] is not base:
            wide = min(base.px_tolerance_bps * self.slow_tolerance_mult,
                       max(base.px_tolerance_bps, self.urgent_tolerance_bps))
            self._plan_cache = (base, replace(base, px_tolerance_bps=wide))
        return self._plan_cache[1]

    def metrics(self) -> dict:
        pulled_s = self.pulled_s_total + (self.clock() - self.pulled_since if self.pulled else 0.0)
        return {"state": self.state, "latency_ewma_ms": round(self.ewma_ms, 1),
                "latency_last_ms": round(self.last_ms, 1), "samples": self.samples,
                "unanswered": self.unanswered, "unanswered_in_row": self.failures_in_row,
                "pulls": self.pulls, "slow_periods": self.slow_periods,
                "pulled_s": round(pulled_s, 1)}
