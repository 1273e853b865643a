"""Fault injection for the local venue, driven by tests at run time.

One ``FaultPlan`` per server. Tests change it through the Python API (embedded
venue) or the loopback-only admin endpoint ``POST /_faults`` with a JSON object of
the same fields (``{"clear": true}`` resets everything). Every random choice comes
from one seeded generator, so a faulted run repeats with the same seed.

Faults:
- ``ws_drop()``: close every websocket now (code 1006-like abrupt close).
- ``ws_stall_s``: stop sending websocket frames for this long (connections stay open).
- ``ws_duplicate_share`` / ``ws_reorder_share`` / ``ws_corrupt_share``: share of
  outgoing data frames sent twice / held back and sent after the next one / cut
  short so they no longer parse.
- ``http_429_burst``: the next N REST requests get HTTP 429 with body ``null``.
- ``order_reject_share``: share of orders rejected with ``order_reject_text``.
- ``response_delay_ms``: every REST and ws post answer waits this long.
- ``depth_gap_share``: share of market book events dropped before the engine and
  subscribers see them (a gap in replayed depth).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field, fields

_SHARES = ("ws_duplicate_share", "ws_reorder_share", "ws_corrupt_share", "order_reject_share",
           "depth_gap_share")


@dataclass
class FaultPlan:
    ws_stall_until_mono: float = 0.0
    ws_duplicate_share: float = 0.0
    ws_reorder_share: float = 0.0
    ws_corrupt_share: float = 0.0
    http_429_burst: int = 0
    order_reject_share: float = 0.0
    order_reject_text: str = "Insufficient margin to place order."
    response_delay_ms: float = 0.0
    depth_gap_share: float = 0.0
    seed: int = 0
    drops_requested: int = 0  # bumped by ws_drop(); the hub closes sockets when it changes
    counters: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    # --- control (tests) ---------------------------------------------------------
    def ws_drop(self) -> None:
        with self._lock:
            self.drops_requested += 1

    def ws_stall(self, seconds: float) -> None:
        self.ws_stall_until_mono = time.monotonic() + float(seconds)

    def burst_429(self, n: int) -> None:
        with self._lock:
            self.http_429_burst += int(n)

    def clear(self) -> None:
        with self._lock:
            for f in fields(self):
                if f.name in ("seed", "drops_requested", "counters"):
                    continue
                setattr(self, f.name, f.default)

    def apply(self, spec: dict) -> dict:
        """Apply a JSON fault spec (the admin endpoint's body); returns the state."""
        if not isinstance(spec, dict):
            raise ValueError("fault spec must be a JSON object")
        if spec.get("clear"):
            self.clear()
        for key, value in spec.items():
            if key == "clear":
                continue
            if key == "ws_drop":
                if value:
                    self.ws_drop()
            elif key == "ws_stall_s":
                self.ws_stall(float(value))
            elif key == "http_429_burst":
                self.burst_429(int(value))
            elif key == "seed":
                self.seed = int(value)
                self._rng = random.Random(self.seed)
            elif key in _SHARES:
                v = float(value)
                if not 0.0 <= v <= 1.0:
                    raise ValueError(f"{key} must be within [0, 1], got {v}")
                setattr(self, key, v)
            elif key == "response_delay_ms":
                self.response_delay_ms = max(0.0, float(value))
            elif key == "order_reject_text":
                self.order_reject_text = str(value)
            else:
                raise ValueError(f"unknown fault {key!r}")
        return self.state()

    def state(self) -> dict:
        return {
            "ws_stall_remaining_s": max(0.0, self.ws_stall_until_mono - time.monotonic()),
            "ws_duplicate_share": self.ws_duplicate_share,
            "ws_reorder_share": self.ws_reorder_share,
            "ws_corrupt_share": self.ws_corrupt_share,
            "http_429_burst": self.http_429_burst,
            "order_reject_share": self.order_reject_share,
            "response_delay_ms": self.response_delay_ms,
            "depth_gap_share": self.depth_gap_share,
            "drops_requested": self.drops_requested,
            "counters": dict(self.counters),
        }

    # --- queries (server) --------------------------------------------------------
    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def _hit(self, share: float, name: str) -> bool:
        if share <= 0.0:
            return False
        with self._lock:
            hit = self._rng.random() < share
        if hit:
            self._count(name)
        return hit

    def ws_stalled(self) -> bool:
        return time.monotonic() < self.ws_stall_until_mono

    def take_429(self) -> bool:
        with self._lock:
            if self.http_429_burst <= 0:
                return False
            self.http_429_burst -= 1
        self._count("http_429")
        return True

    def reject_order(self) -> bool:
        return self._hit(self.order_reject_share, "order_reject")

    def drop_depth(self) -> bool:
        return self._hit(self.depth_gap_share, "depth_gap")

    def duplicate_frame(self) -> bool:
        return self._hit(self.ws_duplicate_share, "ws_duplicate")

    def reorder_frame(self) -> bool:
        return self._hit(self.ws_reorder_share, "ws_reorder")

    def corrupt_frame(self) -> bool:
        return self._hit(self.ws_corrupt_share, "ws_corrupt")

    @property
    def delay_s(self) -> float:
        return self.response_delay_ms / 1000.0
