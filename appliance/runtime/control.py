"""Reading and writing the control block: the kill flag, process slots, health.

The control block is not a seqlock: each field has one writer (see
``shm_layout.records.CONTROL``) and is an aligned word. The kill flag has several
writers (risk, supervisor, mmctl); each writes the reason first, then the flag,
so a reader that sees the flag finds a reason.
"""

import os
import time

import numpy as np

from shm_layout.constants import (
    N_CHILDREN,
    PROC_NAMES,
    PROC_STATE_NAMES,
    PS_RUNNING,
)


def set_kill(control: np.void, reason: str, source: str) -> bool:
    """Raise the kill flag. Returns False if it was already up (first reason kept)."""
    if control["kill_flag"]:
        return False
    control["kill_reason"] = reason.encode()[:128]
    control["kill_source"] = source.encode()[:16]
    control["kill_ts_ns"] = time.time_ns()
    control["kill_seq"] += 1
    control["kill_flag"] = 1
    return True


def reset_kill(control: np.void) -> None:
    control["kill_flag"] = 0
    control["kill_seq"] += 1
    control["kill_reason"] = b""
    control["kill_source"] = b""
    control["kill_ts_ns"] = 0


def kill_state(control: np.void) -> dict:
    return {
        "active": bool(control["kill_flag"]),
        "reason": control["kill_reason"].decode(errors="replace"),
        "source": control["kill_source"].decode(errors="replace"),
        "ts_ns": int(control["kill_ts_ns"]),
        "seq": int(control["kill_seq"]),
    }


def cpus_of_mask(mask: int) -> list[int]:
    return [c for c in range(64) if mask >> c & 1]


def mask_of_cpus(cpus) -> int:
    m = 0
    for c in cpus:
        m |= 1 << c
    return m


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def heartbeat_age_ms(slot: np.void, now_mono_ns: int | None = None) -> float | None:
    hb = int(slot["heartbeat_mono_ns"])
    if hb == 0:
        return None
    now = time.monotonic_ns() if now_mono_ns is None else now_mono_ns
    return max(0.0, (now - hb) / 1e6)  # a beat stamped after `now` was read is fresh, not negative


def children_healthy(control: np.void, heartbeat_timeout_ms: float) -> bool:
    now = time.monotonic_ns()
    for p in range(N_CHILDREN):
        slot = control["procs"][p]
        age = heartbeat_age_ms(slot, now)
        if slot["state"] != PS_RUNNING or age is None or age > heartbeat_timeout_ms:
            return False
        if not pid_alive(int(slot["pid"])):
            return False
    return True


def proc_status(control: np.void, p: int, now_mono_ns: int) -> dict:
    slot = control["procs"][p]
    pid = int(slot["pid"])
    age = heartbeat_age_ms(slot, now_mono_ns)
    return {
        "name": PROC_NAMES[p],
        "pid": pid,
        "cpus": _live_cpus(pid, int(slot["cpus_mask"])),
        "alive": pid_alive(pid),
        "state": PROC_STATE_NAMES[int(slot["state"])] if slot["state"] < len(PROC_STATE_NAMES) else "?",
        "heartbeat_age_ms": None if age is None else round(age, 3),
        "restarts": int(slot["restarts"]),
        "last_exit_code": int(slot["last_exit_code"]),
        "loops": int(slot["loops"]),
        "events": int(slot["events"]),
        "errors": int(slot["errors"]),
        "md_lost": int(slot["md_lost"]),
        "fills_lost": int(slot["fills_lost"]),
        "compile_s": round(compile_seconds(slot, now_mono_ns), 1),
        "compiling": bool(slot["compiling_since_ns"]),
    }


def compile_seconds(slot: np.void, now_mono_ns: int) -> float:
    """Seconds a process has spent in numba compiles, one in progress included (its
    CompileLog keeps the slot's two fields)."""
    since = int(slot["compiling_since_ns"])
    return (int(slot["compile_ns"]) + (now_mono_ns - since if since > 0 else 0)) / 1e9


def _live_cpus(pid: int, mask: int) -> list[int]:
    """The CPUs the kernel reports for pid now; the slot's record if it is gone."""
    try:
        return sorted(os.sched_getaffinity(pid))
    except OSError:
        return cpus_of_mask(mask)
