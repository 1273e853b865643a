"""Entry points of the supervisor: in the foreground (systemd, ``--foreground``)
and detached in the background (plain ``mmctl start``)."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from appliance.config import load_config, state_dir
from appliance.runtime import metrics_socket
from shm_layout import InstanceMemory, SegmentMissing
from shm_layout.constants import AS_RUNNING, AS_STOPPED, N_CHILDREN, PROC_NAMES, PS_RUNNING

from .cores import assign, describe
from .stages import quoting_state
from .start_checks import StartRefused, end_leftovers, running_supervisor, verify_clock
from .supervisor import Supervisor, log_to

log = logging.getLogger("supervisor")
STOP_WAIT_S = 30.0  # the supervisor's own stop: gateway cancel-all, children, venue
READY_LINE_WAIT_S = 5.0  # for the supervisor's own "ready: quoting" line


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
                     duration_s: float | None, timeout_s: float,
                     say=lambda line: None) -> tuple[int, str]:
    """Spawn a detached supervisor (``cfg`` as loaded from ``config_path``) and wait
    until it quotes, passing each line the supervisor logs to ``say`` (its start-up
    stages). Returns (supervisor pid, '') when quoting, (pid, why not) when all are
    healthy but nothing rests on the venue (the kill flag is up, say), or (0, why it
    failed): exited, stopped, or not quoting after ``timeout_s``, when it is stopped."""
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "appliance.supervisor", "--instance", instance]
    if config_path:
        cmd += ["--config", os.path.abspath(config_path)]
    if cores is not None:
        cmd += ["--cores", cores]
    if duration_s is not None:
        cmd += ["--duration", str(duration_s)]
    tail = LogTail(sd / "supervisor.log")
    out = open(sd / "supervisor.out", "ab")  # noqa: SIM115 (the child keeps it)
    out_start = out.tell()  # what this start writes, not an earlier run's lines
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        out.close()
    coins = list(cfg.appliance.coins)
    deadline = time.monotonic() + timeout_s
    mem = None
    try:
        while time.monotonic() < deadline:
            for line in tail.new_lines():
                say(line)
            rc = proc.poll()
            if rc is not None:
                why = _last_error(sd / "supervisor.out", out_start)
                return 0, (f"supervisor exited with code {rc}{': ' + why if why else ''}; see "
                           f"{sd / 'supervisor.out'} and {sd / 'supervisor.log'}")
            if mem is None:
                mem = _attach_own(instance, proc.pid)
                if mem is None:
                    time.sleep(0.05)
                    continue
            state = int(mem.control.records[0]["state"])
            if state == AS_STOPPED:
                return 0, f"supervisor stopped during start-up; see {sd / 'supervisor.log'}"
            if state == AS_RUNNING:
                quoting, why = quoting_state(mem, coins)
                if quoting:  # the supervisor says so on its next round: show that line too
                    end = time.monotonic() + READY_LINE_WAIT_S
                    while time.monotonic() < end:
                        lines = tail.new_lines()
                        for line in lines:
                            say(line)
                        if any(" ready: " in ln for ln in lines):
                            break
                        time.sleep(0.05)
                    return proc.pid, ""
                if mem.control.records[0]["kill_flag"]:
                    return proc.pid, f"running, NOT quoting: {why}"
            time.sleep(0.1)
        waiting = "" if mem is None else _still_starting(mem)
        why = quoting_state(mem, coins)[1] if mem is not None and not waiting else ""
    finally:
        if mem is not None:
            mem.close()
    _stop(proc, instance)
    return 0, (f"not quoting after {timeout_s:g} s ({waiting or why or 'segments not created'}); "
               f"stopped it. See {sd}/*.log; a longer --timeout (or "
               f"supervisor.startup_timeout_s) gives a cold compile more time")


class LogTail:
    """The lines appended to a log file since this object was made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pos = path.stat().st_size if path.exists() else 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [ln.decode(errors="replace") for ln in lines]


def _attach_own(instance: str, pid: int) -> InstanceMemory | None:
    """The instance's segments once our supervisor made them (not a dead one's)."""
    try:
        mem = InstanceMemory.attach(instance, writable=False,
                                    names=["control", "position", "ladder"])
    except SegmentMissing:
        return None
    if int(mem.control.records[0]["supervisor_pid"]) != pid:
        mem.close()
        return None
    return mem


def _still_starting(mem: InstanceMemory) -> str:
    procs = mem.control.records[0]["procs"]
    names = [PROC_NAMES[p] for p in range(N_CHILDREN) if int(procs[p]["state"]) != PS_RUNNING]
    return f"still starting: {', '.join(names)}" if names else ""


def _stop(proc: subprocess.Popen, instance: str) -> None:
    """SIGTERM the supervisor (it cancels, stops its children and venue, unlinks)."""
    proc.terminate()
    try:
        proc.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        log.warning("supervisor of '%s' did not stop in %g s: killed", instance, STOP_WAIT_S)
        proc.kill()
        proc.wait()


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
