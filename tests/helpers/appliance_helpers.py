"""Helpers for tests that run the real appliance through mmctl in subprocesses."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from shm_layout import InstanceMemory

MMCTL = [sys.executable, "-m", "appliance.cli"]
START_TIMEOUT_S = 660  # above supervisor.startup_timeout_s (600): mmctl start fails first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp: Path, extra: str = "") -> tuple[Path, int]:
    port = free_port()
    cfg = tmp / "mm.toml"
    cfg.write_text(
        f'[appliance]\nstate_dir = "{tmp}/state-{{instance}}"\n'
        f"[risk]\nmetrics_port = {port}\n" + extra
    )
    return cfg, port


def mmctl(*args, check=True, timeout=None, env=None) -> subprocess.CompletedProcess:
    if timeout is None:  # a start waits for quoting, compiling first on a cold cache
        timeout = START_TIMEOUT_S if args and args[0] == "start" else 240
    p = subprocess.run([*MMCTL, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"mmctl {' '.join(map(str, args))} exited {p.returncode}:\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


def status(instance: str) -> dict:
    return json.loads(mmctl("status", "--instance", instance, "--json").stdout)


def inspect(instance: str, what: str) -> dict:
    return json.loads(mmctl("inspect", what, "--instance", instance, "--json").stdout)


def wait_for(pred, timeout_s: float, interval_s: float = 0.05, transient: tuple = ()):
    """Poll ``pred`` until it returns a truthy value; that value, or None at timeout.
    Exceptions of the ``transient`` types count as "not yet" (e.g. OSError while the
    local venue compiles its kernels on a cold cache)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            v = pred()
        except transient:
            v = None
        if v:
            return v
        time.sleep(interval_s)
    return None


def force_cleanup(instance: str) -> None:
    """Kill whatever a failed test left running and unlink its segments."""
    try:
        mem = InstanceMemory.attach(instance, writable=False, names=["control"])
    except Exception:
        mem = None
    if mem is not None:
        ctl = mem.control.records[0]
        pids = [int(ctl["supervisor_pid"])] + [int(ctl["procs"][p]["pid"]) for p in range(5)]
        mem.close()
        for pid in pids:
            if pid > 0:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
    InstanceMemory.unlink_all(instance)


def end_process(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; reaped either way."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
