"""What numba compiled in this process, and how long each compile took.

A cold start spends minutes compiling (issue 18: 38-303 s to ready on a cold cache),
and which kernel costs what was guessed at. numba brackets every real compile (never a
cache load) with a ``numba:compile`` event; compiles nest, since a kernel compiles the
functions it calls first, so each record carries its total time and its self time
(total minus the compiles nested in it), each as wall and as this thread's CPU
seconds (on a busy box the wall figure is mostly waiting for a core). The sum of the top-level totals is the
process's compile time. Given the process's control-block slot, the log also keeps
``compile_ns`` (finished compiles) and ``compiling_since_ns`` (a compile in progress)
there: the risk watchdog does not count a feed's compile against its first-data
allowance, and ``mmctl status`` can say where a slow start went.

With ``HL_MM_COMPILE_LOG`` naming a file, every compile is appended to it as one JSON
line (``mmctl warm --compile-log FILE`` sets it for a throw-away instance;
``tools/compile_profile.py`` turns the file into a table). Without it, only the counts
are kept, for the process's own log lines.
"""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
from numba.core import event

ENV = "HL_MM_COMPILE_LOG"


def _fn_name(dispatcher) -> str:
    fn = getattr(dispatcher, "py_func", None)
    if fn is None:
        return repr(dispatcher)
    return f"{fn.__module__}.{fn.__qualname__}"


class CompileLog(event.Listener):
    """Counts numba compiles and their seconds; appends each to ``path`` when given."""

    def __init__(self, proc: str, path: str | None = None, slot: np.void | None = None) -> None:
        self.proc = proc
        self.slot = slot
        self.path = path if path is not None else os.environ.get(ENV) or None
        self._local = threading.local()
        self._lock = threading.Lock()
        self.compiles = 0  # every compile, nested ones included
        self.top_level_s = 0.0  # seconds spent compiling, each second counted once
        self.longest: tuple[str, float] = ("", 0.0)  # the slowest top-level compile
        self._active = 0  # top-level compiles in progress, over every thread
        event.register("numba:compile", self)

    def _stack(self) -> list:
        st = getattr(self._local, "stack", None)
        if st is None:
            st = self._local.stack = []
        return st

    def on_start(self, ev: event.Event) -> None:
        st = self._stack()
        if not st:
            with self._lock:
                self._active += 1
            if self.slot is not None:
                self.slot["compiling_since_ns"] = time.monotonic_ns()
        # [wall t0, CPU t0, wall and CPU seconds of nested compiles]
        st.append([time.perf_counter(), time.thread_time(), 0.0, 0.0])

    def on_end(self, ev: event.Event) -> None:
        st = self._stack()
        if not st:
            return
        t0, cpu0, nested_s, nested_cpu_s = st.pop()
        total_s = time.perf_counter() - t0
        cpu_s = time.thread_time() - cpu0
        data = ev.data or {}
        name = _fn_name(data.get("dispatcher"))
        with self._lock:
            self.compiles += 1
            if st:
                st[-1][2] += total_s
                st[-1][3] += cpu_s
            else:
                self._active = max(0, self._active - 1)
                self.top_level_s += total_s
                if total_s > self.longest[1]:
                    self.longest = (name, total_s)
                if self.slot is not None:
                    self.slot["compile_ns"] += int(total_s * 1e9)
                    self.slot["compiling_since_ns"] = 0
        if self.path:
            rec = {"proc": self.proc, "pid": os.getpid(), "fn": name,
                   "args": str(data.get("args", "")), "depth": len(st),
                   "total_s": round(total_s, 4), "self_s": round(total_s - nested_s, 4),
                   "cpu_s": round(cpu_s, 4), "self_cpu_s": round(cpu_s - nested_cpu_s, 4)}
            try:
                with open(self.path, "a") as f:  # one short append per compile: lines stay whole
                    f.write(json.dumps(rec) + "\n")
            except OSError:
                self.path = None  # a profile that cannot be written is not worth failing for

    @property
    def compiling(self) -> bool:
        """A compile is in progress in some thread of this process."""
        return self._active > 0

    def summary(self) -> str:
        """``12 compiles, 41.3 s (longest: appliance.x.f 30.2 s)`` or ``""`` when none."""
        if not self.compiles:
            return ""
        name, s = self.longest
        return f"{self.compiles} compiles, {self.top_level_s:.1f} s (longest: {name} {s:.1f} s)"


def read_log(path: str) -> list[dict]:
    """The records of a compile log; a torn line (a process killed mid-write) is skipped."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    except FileNotFoundError:
        pass
    return out


def per_process(records: list[dict]) -> dict[str, dict]:
    """Per process: compiles, and the wall and CPU seconds of its top-level compiles."""
    procs: dict[str, dict] = {}
    for r in records:
        p = procs.setdefault(r["proc"], {"compiles": 0, "compile_s": 0.0, "cpu_s": 0.0})
        p["compiles"] += 1
        if r["depth"] == 0:
            p["compile_s"] += r["total_s"]
            p["cpu_s"] += r["cpu_s"]
    return dict(sorted(procs.items()))
