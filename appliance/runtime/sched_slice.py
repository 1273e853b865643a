"""A shorter scheduler slice for the processes on the tick-to-wire path.

Under EEVDF (Linux >= 6.12 takes a fair task's own slice from ``sched_attr.sched_runtime``)
a task's virtual deadline is its eligible time plus its slice. A task woken by a
doorbell or a timer preempts the one running only when its deadline comes first, so
with the default slice (0.75 ms x (1 + log2 CPUs): 1.4 ms on two) a woken process on a
busy CPU may wait up to the running task's whole slice; a short slice puts it first.
Its CPU share is unchanged (the weight sets that), but it is preempted as readily in
turn: on the shared 2-vCPU box 100 and 300 µs measured no better than the doorbell
alone, and 100 µs worse at load 20+ (the gateway preempted mid-step), so ``[wait]
slice_us`` is 0 (off) by default (BENCHMARKS.md, issue 18).

Written by hand with ``ctypes``: Python's ``os`` module has ``sched_setscheduler``
but not ``sched_setattr``, and glibc has no wrapper for it (a raw syscall). Older
kernels accept the call and ignore the slice; other architectures are skipped.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

SYS_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274}
SCHED_NORMAL = 0
SCHED_ATTR_SIZE = 56  # SCHED_ATTR_SIZE_VER1: with util_min / util_max
MIN_SLICE_US = 100  # the kernel clamps a custom slice to 0.1 .. 100 ms


def set_slice(slice_us: int, tid: int = 0) -> bool:
    """Give thread ``tid`` (0 = the caller) a scheduler slice of ``slice_us``; True
    when the kernel took the call. ``slice_us`` <= 0 leaves the kernel's default.
    The nice value is kept (``sched_setattr`` sets it, so it is read first)."""
    if slice_us <= 0:
        return False
    nr = SYS_SCHED_SETATTR.get(platform.machine())
    if nr is None:
        return False
    nice = os.getpriority(os.PRIO_PROCESS, tid)
    runtime_ns = max(slice_us, MIN_SLICE_US) * 1000
    attr = struct.pack("IIQiIQQQII", SCHED_ATTR_SIZE, SCHED_NORMAL, 0, nice, 0, runtime_ns, 0, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, SCHED_ATTR_SIZE)
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(nr, tid, buf, 0) == 0


def current_slice_ns(pid: int = 0) -> int | None:
    """``se.slice`` from ``/proc/PID/sched`` (None when the kernel does not show it)."""
    try:
        with open(f"/proc/{pid or os.getpid()}/sched") as f:
            for line in f:
                if line.startswith("se.slice"):
                    return int(line.split(":", 1)[1])
    except (OSError, ValueError):
        return None
    return None
