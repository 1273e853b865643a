"""Entry points of the supervisor: in the foreground (systemd, ``--foreground``)
and detached in the background (plain ``mmctl start``)."""

import logging
import os
import subprocess
import sys
import time

from appliance.config import load_config, state_dir
from appliance.runtime import metrics_socket
from shm_layout import SegmentMissing, attach
from shm_layout.constants import AS_RUNNING, AS_STOPPED

from .cores import assign, describe
from .start_checks import StartRefused, end_leftovers, running_supervisor, verify_clock
from .supervisor import Supervisor, log_to

log = logging.getLogger("supervisor")


def preflight(instance: str, config_path: str | None, cores: str | None):
    """Everything that can refuse a start, checked before anything is created.
    Returns (config, cpu plan, warnings, clock verdict).
    Raises ConfigError, CoresError, StartRefused."""
    cfg = load_config(config_path)
    plan, warnings = assign(cores if cores is not None else cfg.appliance.cores)
    pid = running_supervisor(instance)
    if pid:
        raise StartRefused(
            f"instance '{instance}' is already running (supervisor pid {pid}); "
            f"stop it first with: mmctl stop --instance {instance}"
        )
    verdict = verify_clock(cfg)
    # A dead supervisor's set: end it now (the gateway cancels on SIGTERM), and say so.
    for what in end_leftovers(instance, state_dir(cfg, instance)):
        warnings.append(f"ended a process left by a dead supervisor: {what}")
    # After the leftovers are ended: a dead set's risk process may hold the port.
    r = cfg.risk
    if r.metrics_port:
        try:
            metrics_socket.probe(r.metrics_host, r.metrics_port)
        except metrics_socket.MetricsPortError as e:
            raise StartRefused(f"instance '{instance}': {e}") from None
    return cfg, plan, warnings, verdict


def supervise(instance: str, config_path: str | None, checked, duration_s: float | None) -> int:
    """Create the instance and supervise it until stopped; ``checked`` is what
    ``preflight`` returned."""
    cfg, plan, warnings, verdict = checked
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    log_to(sd / "supervisor.log")
    for w in warnings:
        log.warning("%s", w)
    log.info("instance %s: %s", instance, describe(plan))
    sup = Supervisor(cfg, instance, config_path, plan, duration_s)
    try:
        sup.prepare(verdict)
    except (StartRefused, ValueError, OSError) as e:
        log.error("%s", e)
        return 2
    return sup.run()


def run_foreground(instance: str, config_path: str | None, cores: str | None,
                   duration_s: float | None) -> int:
    """The detached supervisor's entry: check, then supervise. Errors go to stderr,
    which ``start_background`` sends to ``supervisor.out``."""
    log_to(None)
    try:
        checked = preflight(instance, config_path, cores)
    except (StartRefused, ValueError) as e:
        log.error("%s", e)
        return 2
    return supervise(instance, config_path, checked, duration_s)


def start_background(instance: str, config_path: str | None, cfg, cores: str | None,
                     duration_s: float | None, timeout_s: float) -> tuple[int, str]:
    """Spawn a detached supervisor (``cfg`` as loaded from ``config_path``) and wait
    for it to be ready. Returns (supervisor pid, '') or (0, why it failed)."""
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "appliance.supervisor", "--instance", instance]
    if config_path:
        cmd += ["--config", os.path.abspath(config_path)]
    if cores is not None:
        cmd += ["--cores", cores]
    if duration_s is not None:
        cmd += ["--duration", str(duration_s)]
    out = open(sd / "supervisor.out", "ab")  # noqa: SIM115 (the child keeps it)
    out_start = out.tell()  # what this start writes, not an earlier run's lines
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        out.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            why = _last_error(sd / "supervisor.out", out_start)
            return 0, (f"supervisor exited with code {rc}{': ' + why if why else ''}; see "
                       f"{sd / 'supervisor.out'} and {sd / 'supervisor.log'}")
        try:
            seg = attach(instance, "control", writable=False)
        except SegmentMissing:
            time.sleep(0.05)
            continue
        try:
            state = int(seg.records[0]["state"])
            owner = int(seg.records[0]["supervisor_pid"])
        finally:
            seg.close()
        if owner != proc.pid:  # segments a dead supervisor left: ours are not made yet
            time.sleep(0.05)
            continue
        if state == AS_RUNNING:
            return proc.pid, ""
        if state == AS_STOPPED:
            return 0, f"supervisor stopped during start-up; see {sd / 'supervisor.log'}"
        time.sleep(0.05)
    return proc.pid, f"not ready after {timeout_s:g} s (still starting; see {sd})"


def _last_error(path, offset: int) -> str:
    """The message of the last ERROR line the supervisor wrote past ``offset`` (why it
    refused), or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if " ERROR " in line:
            return line.split(" ERROR ", 1)[1].strip()
    return ""
