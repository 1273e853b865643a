"""Heartbeats while numba compiles, and only then.

A kernel's first call with new types compiles it: seconds to minutes on a cold cache
and two busy cores, inside a loop step the supervisor judges by its heartbeat. The
gateway, say, compiles its reconciler when the first ladder arrives, long after it
reported running, and was killed for a stale heartbeat during that compile. Here a
thread stamps the heartbeat while a numba compile is in progress (numba's
``numba:compile`` events bracket each one; LLVM's passes release the GIL), so a compile
is not mistaken for a hung loop, and a loop stuck anywhere else still goes stale.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from numba.core import event

BEAT_INTERVAL_S = 0.25


class CompileBeat(event.Listener):
    """Stamps ``slot['heartbeat_mono_ns']`` every BEAT_INTERVAL_S while compiling."""

    def __init__(self, slot: np.void, interval_s: float = BEAT_INTERVAL_S) -> None:
        self.slot = slot
        self.interval_s = interval_s
        self._depth = 0  # compiles nest (a kernel compiles the functions it calls)
        self._lock = threading.Lock()
        self.compiles = 0
        self.beats = 0
        event.register("numba:compile", self)
        threading.Thread(target=self._run, daemon=True, name="compile-beat").start()

    def on_start(self, ev: event.Event) -> None:
        with self._lock:
            self._depth += 1
            self.compiles += 1

    def on_end(self, ev: event.Event) -> None:
        with self._lock:
            self._depth = max(0, self._depth - 1)

    @property
    def compiling(self) -> bool:
        return self._depth > 0

    def _run(self) -> None:
        while True:
            time.sleep(self.interval_s)
            if self._depth > 0:
                self.slot["heartbeat_mono_ns"] = time.monotonic_ns()
                self.beats += 1
