"""What must hold before a start, and what a start clears: no live supervisor of the
instance, the instance lock (ending what a dead supervisor left), no stale segments,
a clock fit to trade on. Each refusal is a ``StartRefused`` that says what to do.

Used by ``run.preflight`` (before anything is created) and by ``Supervisor.prepare``.
"""

import logging
import time
from pathlib import Path

from appliance.config import Config
from appliance.runtime.control import pid_alive
from appliance.runtime.waiting import unlink_bells
from shm_layout import InstanceMemory, LayoutMismatch, SegmentMissing, attach
from shm_layout.constants import N_CHILDREN, PROC_NAMES
from shm_layout.shm import existing_segments

from . import ownership
from .clock import check_clock

log = logging.getLogger("supervisor")


class StartRefused(RuntimeError):
    """The appliance must not start; the message says why and what to do."""


def running_supervisor(instance: str) -> int:
    """The pid of a live supervisor of this instance, or 0."""
    try:
        seg = attach(instance, "control", writable=False)
    except (SegmentMissing, LayoutMismatch):
        return 0
    try:
        pid = int(seg.records[0]["supervisor_pid"])
    finally:
        seg.close()
    return pid if pid_alive(pid) else 0


def control_pids(instance: str) -> list[tuple[str, int]]:
    """The set recorded in the control block (supervisor, children, venue), if any."""
    try:
        seg = attach(instance, "control", writable=False)
    except (SegmentMissing, LayoutMismatch):
        return []
    try:
        ctl = seg.records[0]
        out = [("supervisor", int(ctl["supervisor_pid"]))]
        out += [(PROC_NAMES[p], int(ctl["procs"][p]["pid"])) for p in range(N_CHILDREN)]
        out.append(("venue", int(ctl["venue_pid"])))
    finally:
        seg.close()
    return [(n, p) for n, p in out if p > 0]


def end_leftovers(instance: str, sd: Path) -> list[str]:
    """End what a dead supervisor left running (StartRefused if it is alive)."""
    try:
        return ownership.end_leftovers(instance, sd, control_pids(instance))
    except ownership.InstanceBusy as e:
        raise StartRefused(str(e)) from None


def take_instance_lock(instance: str, sd: Path, wait_s: float = 5.0) -> ownership.InstanceLock:
    """The instance lock, after ending any leftover holder; StartRefused if it stays held."""
    lock = ownership.try_lock(sd)
    if lock is None:
        for what in end_leftovers(instance, sd):
            log.warning("ended a process left by a dead supervisor: %s", what)
        deadline = time.monotonic() + wait_s
        while lock is None and time.monotonic() < deadline:
            time.sleep(0.05)
            lock = ownership.try_lock(sd)
    if lock is None:
        holders = ownership.lock_holders(sd)
        raise StartRefused(f"instance '{instance}': {ownership.lock_path(sd)} is held by "
                           f"pid(s) {holders or '?'} that could not be ended; end them and retry")
    return lock


def clean_stale(instance: str) -> list[str]:
    """Refuse a running instance; remove the segments a crashed one left (its processes
    are ended first by ``take_instance_lock``). Returns what was removed."""
    left = existing_segments(instance)
    if not left:
        return []
    pid = running_supervisor(instance)
    if pid:
        raise StartRefused(
            f"instance '{instance}' is already running (supervisor pid {pid}); "
            f"stop it first with: mmctl stop --instance {instance}"
        )
    InstanceMemory.unlink_all(instance)
    unlink_bells(instance, range(N_CHILDREN))
    return left


def clock_verdict(cfg: Config):
    c = cfg.clock
    return check_clock(c.ntp_servers, c.max_offset_ms, c.ntp_timeout_s,
                       c.require_ntp, c.require_kernel_sync)


def verify_clock(cfg: Config):
    """The clock verdict; StartRefused if the appliance must not trade on it."""
    verdict = clock_verdict(cfg)
    if not verdict.ok:
        raise StartRefused("clock check failed: " + "; ".join(verdict.reasons))
    return verdict
