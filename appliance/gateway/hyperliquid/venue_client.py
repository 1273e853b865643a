"""The gateway's one way to the venue: ``/info`` requests and signed ``/exchange``
actions over the configured transport, each charged to the rate budget, with the
HTTP 429 backoff and the classification of every answer.

``exchange`` signs, sends (HTTP or websocket ``post``: the transport decides) and
returns ``(statuses, error text)``: per-item statuses on success; ``None`` and ""
when nothing came back (fate unknown); ``None`` and the text for a whole-batch
error, 429 (backoff), the address-cap text (rate budget), or an unknown signer,
which is fatal (``on_fatal``: the kill flag goes up). A refused ``scheduleCancel``
is the dead man's switch's business and not logged as an error here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import orjson

from appliance.gateway.rate_budget import RateBudget
from appliance.hyperliquid.http_transport import Reply

log = logging.getLogger("gateway")

UNKNOWN_SIGNER = ("does not exist", "Must deposit")
DMS_REFUSED = "Cannot set scheduled cancel time"


class Transport(Protocol):
    def info(self, req: dict) -> Reply: ...
    def exchange(self, body: bytes) -> Reply: ...
    def keepalive(self) -> None: ...
    def close(self) -> None: ...


class Signer(Protocol):
    def body(self, action: dict) -> dict: ...


class VenueClient:
    def __init__(self, transport: Transport, signer: Signer, signer_address: str, budget: RateBudget,
                 backoff_initial_s: float, backoff_max_s: float,
                 on_fatal: Callable[[str, str], None],
                 on_wire: Callable[[int, int, tuple[int, int]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``on_fatal(reason, short)``: the venue does not know our signer.
        ``on_wire(src_pub_mono_ns, wire_ns, (sign_start, sign_end))``: an action with a
        known market-event source left at ``wire_ns`` (tick to wire); it was signed
        between the two monotonic stamps."""
        self.transport = transport
        self.signer = signer
        self.signer_address = signer_address
        self.budget = budget
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.on_fatal = on_fatal
        self.on_wire = on_wire
        self.clock = clock
        self.backoff_until = 0.0
        self.backoff_s = 0.0
        self.stats = {k: 0 for k in ("batches", "http_429", "transport_errors", "whole_batch_errors",
                                     "address_cap_errors")}

    def backing_off(self, now: float) -> bool:
        """After a 429: no request until the backoff ends."""
        return now < self.backoff_until

    def end_backoff(self) -> None:
        """The graceful stop cancels whatever the backoff says."""
        self.backoff_until = 0.0

    def info(self, req: dict) -> object:
        """The parsed answer, or None (no answer, an error, or backing off)."""
        if self.clock() < self.backoff_until:
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
        self.backoff_s = 0.0
        return r.body

    def exchange(self, action: dict, n_items: int, src_ns: int = 0) -> tuple[list | None, str]:
        """Sign and send; (statuses list | None, error text). None + "" = no answer."""
        t0 = time.monotonic_ns()
        body = orjson.dumps(self.signer.body(action))
        t1 = time.monotonic_ns()
        r = self.transport.exchange(body)
        self.budget.charge_exchange(n_items)
        self.stats["batches"] += 1
        if src_ns and r.wire_ns and self.on_wire is not None:
            self.on_wire(src_ns, r.wire_ns, (t0, t1))
        if r.status == 429:
            self._on_429()
            return None, "429"
        if r.status == 0:
            self.stats["transport_errors"] += 1
            log.warning("exchange %s: no answer (%s)", action["type"], r.error)
            return None, ""
        self.backoff_s = 0.0
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
                self.on_fatal(f"venue does not know our signer {self.signer_address} "
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
        self.backoff_s = min(self.backoff_max_s, max(self.backoff_initial_s, 2 * self.backoff_s))
        self.backoff_until = self.clock() + self.backoff_s
        log.warning("HTTP 429 (IP rate limit): backing off %.2f s", self.backoff_s)

    def keepalive(self) -> None:
        self.transport.keepalive()

    def close(self) -> None:
        self.transport.close()
