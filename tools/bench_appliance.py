"""Benchmark of a running appliance: event -> ladder latency, RSS/PSS/USS per process, total
shared memory, and the time from ``kill -9`` of each child to healthy again.

Also the time from creating the kill switch file to no resting order.
Starts a real instance (synthetic market at a chosen event rate, paper gateway),
lets it run, reads the quote process's latency histogram, and kills each child
once. Every figure comes from the running processes themselves.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appliance.ipc import seqlock
from appliance.runtime import latency
from appliance.runtime.control import heartbeat_age_ms, pid_alive
from appliance.runtime.proc_memory import process_memory
from appliance.supervisor.ownership import read_pids
from shm_layout import InstanceMemory, total_bytes
from shm_layout.constants import N_CHILDREN, PROC_NAMES, PROC_QUOTE, PS_RUNNING
from tools.bench_ipc import machine_facts

MMCTL = [sys.executable, "-m", "appliance.cli"]


def _restart_time(mem, p: int, timeout_s: float = 30.0) -> float | None:
    ctl = mem.control.records[0]
    slot = ctl["procs"][p]
    old = int(slot["pid"])
    os.kill(old, signal.SIGKILL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        pid = int(slot["pid"])
        age = heartbeat_age_ms(slot)
        if (pid != old and pid_alive(pid) and slot["state"] == PS_RUNNING
                and age is not None and age < 100):
            return time.monotonic() - t0
        time.sleep(0.002)
    return None


def _kill_switch_times(mem, kill_file: Path, instance: str, reps: int = 5) -> list[float]:
    """Seconds from creating the kill switch file to no resting order, ``reps`` times."""
    def open_orders() -> int:
        pos, _ = seqlock.snapshot(mem.position, 0)
        return int(pos["n_open_bids"] + pos["n_open_asks"])

    times = []
    for _ in range(reps):
        deadline = time.monotonic() + 30
        while open_orders() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.monotonic()
        kill_file.touch()
        while open_orders() > 0 and time.monotonic() - t0 < 30:
            time.sleep(0.0005)
        times.append(time.monotonic() - t0)
        kill_file.unlink()
        subprocess.run([*MMCTL, "kill", "--reset", "--reason", "bench", "--instance", instance], check=True,
                       capture_output=True, timeout=60)
    return times


def run_appliance_bench(seconds: float = 20.0, events_per_s: float = 1000.0,
                        wait_policy: str = "hybrid", json_out: str | None = None,
                        child_start: str = "fork", preload_kernels: bool = True) -> dict:
    """``child_start``: "fork" (the fork server's children; its own memory is counted
    in ``pss_total_with_server_mib``) or "spawn" (a fresh interpreter per child);
    ``preload_kernels``: the fork server loads the cached kernels before forking."""
    instance = f"bench{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(
            f'[appliance]\nstate_dir = "{tmp}/{{instance}}"\n'
            f"[feed]\nsynthetic_events_per_s = {events_per_s}\n"
            f'[wait]\npolicy = "{wait_policy}"\n[risk]\nmetrics_port = 0\n'
            f'[supervisor]\nchild_start = "{child_start}"\n'
            f"preload_kernels = {str(preload_kernels).lower()}\n"
        )
        t0 = time.monotonic()
        subprocess.run([*MMCTL, "start", "--instance", instance, "--config", str(cfg)],
                       check=True, capture_output=True, timeout=300)
        start_s = time.monotonic() - t0  # `mmctl start` until quoting
        try:
            mem = InstanceMemory.attach(instance, writable=False)
            ctl = mem.control.records[0]
            time.sleep(2.0)  # let the estimator warm up before counting
            hist0 = ctl["procs"][PROC_QUOTE]["lat_hist"].copy()
            time.sleep(seconds)
            hist = ctl["procs"][PROC_QUOTE]["lat_hist"] - hist0
            q50, q99 = latency.quantiles(hist)
            memory = {PROC_NAMES[p]: process_memory(int(ctl["procs"][p]["pid"]))
                      for p in range(N_CHILDREN)}
            server = dict(read_pids(Path(tmp) / instance)).get("fork server", 0)
            server_mem = process_memory(server) if server else None
            events = int(ctl["procs"][0]["events"])
            kill_s = _kill_switch_times(mem, Path(tmp) / instance / "KILL", instance)
            restarts = {PROC_NAMES[p]: _restart_time(mem, p) for p in range(N_CHILDREN)}
            mem.close()
        finally:
            subprocess.run([*MMCTL, "stop", "--instance", instance], capture_output=True,
                           timeout=120)
    result = {
        "machine": machine_facts(),
        "config": {"seconds": seconds, "events_per_s": events_per_s, "wait_policy": wait_policy,
                   "child_start": child_start, "preload_kernels": preload_kernels},
        "start_to_quoting_s": round(start_s, 2),
        "events_published": events,
        "ladders": int(hist.sum()),
        "event_to_ladder_us": {"p50": q50 and round(q50 / 1e3, 2), "p99": q99 and round(q99 / 1e3, 2)},
        "memory_mib": memory,  # rss, pss, uss, swap per process (smaps_rollup)
        "rss_total_mib": round(sum(m["rss_mib"] for m in memory.values() if m), 1),
        "pss_total_mib": round(sum(m["pss_mib"] for m in memory.values() if m), 1),
        "uss_total_mib": round(sum(m["uss_mib"] for m in memory.values() if m), 1),
        "fork_server_mib": server_mem,
        "pss_total_with_server_mib": round(sum(m["pss_mib"] for m in memory.values() if m)
                                           + (server_mem["pss_mib"] if server_mem else 0.0), 1),
        "shared_memory_mib": round(total_bytes() / 2**20, 2),
        "kill_file_to_no_orders_ms": [round(t * 1e3, 1) for t in kill_s],
        "restart_to_healthy_s": {k: v and round(v, 3) for k, v in restarts.items()},
    }
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2))
    return result
