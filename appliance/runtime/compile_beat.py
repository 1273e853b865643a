"""Heartbeats while numba compiles, and only then.

A kernel's first call with new types compiles it: seconds to minutes on a cold cache
and two busy cores, inside a loop step the supervisor judges by its heartbeat. The
gateway, say, compiles its reconciler when the first ladder arrives, long after it
reported running, and was killed for a stale heartbeat during that compile. Here a
thread stamps the heartbeat while the process's ``CompileLog`` sees a numba compile in
progress (LLVM's passes release the GIL), so a compile is not mistaken for a hung loop,
and a loop stuck anywhere else still goes stale.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .compile_log import CompileLog

BEAT_INTERVAL_S = 0.25


class CompileBeat:
    """Stamps ``slot['heartbeat_mono_ns']`` every BEAT_INTERVAL_S while ``log`` says a
    compile is in progress."""

    def __init__(self, slot: np.void, log: CompileLog, interval_s: float = BEAT_INTERVAL_S) -> None:
        self.slot = slot
        self.log = log
        self.interval_s = interval_s
        self.beats = 0
        threading.Thread(target=self._run, daemon=True, name="compile-beat").start()

    @property
    def compiling(self) -> bool:
        return self.log.compiling

    def _run(self) -> None:
        while True:
            time.sleep(self.interval_s)
            if self.log.compiling:
                self.slot["heartbeat_mono_ns"] = time.monotonic_ns()
                self.beats += 1
