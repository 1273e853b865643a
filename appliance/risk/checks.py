"""Risk checks: each returns a reason to pull the plug, or None.

The watchdog runs every check each cycle; the first reason raises the kill flag.
Checks fail closed: a block that cannot be read consistently is a reason too.
"""

import math
import os
import time
from dataclasses import dataclass

from appliance.ipc import seqlock
from appliance.runtime.control import heartbeat_age_ms
from shm_layout.constants import N_CHILDREN, PROC_NAMES, PROC_RISK, PS_RUNNING


@dataclass
class RiskView:
    """What one cycle of checks looks at, read once."""

    cfg: object  # appliance.config.Config
    mem: object  # shm_layout.InstanceMemory
    kill_file: str
    started_mono_ns: int
    positions: list = None  # (record, seq) per coin, read once per cycle by first_reason


def check_kill_switch_file(v: RiskView) -> str | None:
    if os.path.exists(v.kill_file):
        return f"kill switch file {v.kill_file} exists"
    return None


def read_positions(v: RiskView) -> list:
    return [seqlock.snapshot(v.mem.position, c, max_tries=100_000)
            for c in range(len(v.cfg.appliance.coins))]


def check_position(v: RiskView) -> str | None:
    limit = v.cfg.risk.max_position_sz
    for coin, (pos, seq) in zip(v.cfg.appliance.coins, v.positions, strict=True):
        if seq < 0:
            return f"{coin}: position block unreadable"
        q = float(pos["position_sz"])
        if not math.isfinite(q) or abs(q) > limit * (1 + 1e-9):
            return f"{coin}: position {q:g} beyond max_position_sz {limit:g}"
    return None


def check_loss(v: RiskView) -> str | None:
    total = 0.0
    for pos, seq in v.positions:
        if seq < 0:
            return "position block unreadable"
        total += float(pos["total_pnl_usd"])
    if not math.isfinite(total) or total < -v.cfg.risk.max_loss_usd:
        return f"loss {total:.2f} USD beyond max_loss_usd {v.cfg.risk.max_loss_usd:g}"
    return None


def check_stale_data(v: RiskView) -> str | None:
    last = int(v.mem.md.ring_header[0]["last_pub_mono_ns"])
    if last == 0:
        # No event yet in this instance: a longer allowance for connecting and compiling.
        age_s = (time.monotonic_ns() - v.started_mono_ns) / 1e9
        limit_s = v.cfg.risk.first_data_timeout_s
        if age_s > limit_s:
            return f"no market data {age_s:.1f} s after start (limit {limit_s:g} s)"
        return None
    age_s = (time.monotonic_ns() - max(last, v.started_mono_ns)) / 1e9
    if age_s > v.cfg.risk.stale_data_s:
        return f"market data stale for {age_s:.1f} s (limit {v.cfg.risk.stale_data_s:g} s)"
    return None


def check_heartbeats(v: RiskView) -> str | None:
    """A process the supervisor could not bring back in twice its timeout."""
    limit_ms = 2 * v.cfg.supervisor.heartbeat_timeout_ms
    control = v.mem.control.records[0]
    now = time.monotonic_ns()
    for p in range(N_CHILDREN):
        if p == PROC_RISK:
            continue
        slot = control["procs"][p]
        age = heartbeat_age_ms(slot, now)
        if slot["state"] == PS_RUNNING and age is not None and age > limit_ms:
            return f"lost heartbeat of {PROC_NAMES[p]} ({age:.0f} ms)"
    return None


CHECKS = (
    check_kill_switch_file,
    check_position,
    check_loss,
    check_stale_data,
    check_heartbeats,
)


def first_reason(v: RiskView) -> str | None:
    v.positions = read_positions(v)
    for check in CHECKS:
        reason = check(v)
        if reason:
            return reason
    return None
