"""Entry points of the supervisor: in the foreground (systemd, ``--foreground``)
and detached in the background (plain ``mmctl start``)."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

from appliance.config import load_config, log_dir, state_dir
from appliance.config.state_files import gateway_stats_path
from appliance.runtime import logs, metrics_socket
from shm_layout import InstanceMemory, SegmentMissing, SegmentNotReady
from shm_layout.constants import AS_RUNNING, AS_STOPPED, N_CHILDREN, PROC_NAMES, PS_RUNNING

from .cores import assign, describe
from .fork_run import fork_run, single_threaded
from .forked_child import ChildProcess
from .stages import quoting_state
from .start_checks import StartRefused, end_leftovers, running_supervisor, verify_clock
from .supervisor import Supervisor

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
    state_dir(cfg, instance).mkdir(parents=True, exist_ok=True)
    logs.setup("supervisor", instance, cfg)
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
    logs.setup("supervisor", instance)  # stderr until the config is read
    try:
        checked = preflight(instance, config_path, cores)
    except (StartRefused, ValueError) as e:
        log.error("%s", e)
        return 2
    return supervise(instance, config_path, checked, duration_s)


def start_background(instance: str, config_path: str | None, cfg, cores: str | None,
                     duration_s: float | None, timeout_s: float,
                     say=lambda rec: None) -> tuple[int, str]:
    """Spawn a detached supervisor (``cfg`` as loaded from ``config_path``) and wait
    until it quotes, passing each record the supervisor logs to ``say`` (its start-up
    stages; ``parse_line``'s dict). Returns (supervisor pid, '') when quoting, (pid, why
    not) when all are healthy but nothing rests on the venue (the kill flag is up, say),
    or (0, why it failed): exited, stopped, or not quoting after ``timeout_s``, when it
    is stopped."""
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    ld = log_dir(cfg, instance)
    gw_stats = gateway_stats_path(cfg, instance) if cfg.gateway.venue == "hyperliquid" else None
    cmd = [sys.executable, "-m", "appliance.supervisor", "--instance", instance]
    if config_path:
        cmd += ["--config", os.path.abspath(config_path)]
    if cores is not None:
        cmd += ["--cores", cores]
    if duration_s is not None:
        cmd += ["--duration", str(duration_s)]
    tail = LogTail(ld / "supervisor.log")
    # What the supervisor says before its log file is open (a refused start), or outside
    # logging (a crash): 0600, moved aside past the log size.
    out = logs.open_private(sd / "supervisor.out", cfg.logs.max_file_bytes)
    out_start = os.lseek(out, 0, os.SEEK_END)  # what this start writes, not an earlier run's
    try:
        proc = _detach(cmd, out, instance, config_path, cores, duration_s)
    finally:
        os.close(out)
    coins = list(cfg.appliance.coins)
    deadline = time.monotonic() + timeout_s
    mem = None
    last_error = [""]
    ready_said = [False]  # the supervisor's own "ready: ..." line, relayed already

    def relay() -> list[dict]:
        recs = [parse_line(line) for line in tail.new_lines()]
        for rec in recs:
            if rec.get("level") == "ERROR":
                last_error[0] = rec["message"]
            if str(rec.get("message", "")).startswith("ready: "):
                ready_said[0] = True
            say(rec)
        return recs

    try:
        while time.monotonic() < deadline:
            relay()
            rc = proc.poll()
            if rc is not None:
                relay()
                why = _last_error(sd / "supervisor.out", out_start) or last_error[0]
                return 0, (f"supervisor exited with code {rc}{': ' + why if why else ''}; see "
                           f"{sd / 'supervisor.out'} and {ld / 'supervisor.log'}")
            if mem is None:
                mem = _attach_own(instance, proc.pid)
                if mem is None:
                    time.sleep(0.02)
                    continue
            state = int(mem.control.records[0]["state"])
            if state == AS_STOPPED:  # its last lines (why) are written as it exits
                try:
                    proc.wait(READY_LINE_WAIT_S)
                except subprocess.TimeoutExpired:
                    pass
                relay()
                why = _last_error(sd / "supervisor.out", out_start) or last_error[0]
                return 0, (f"supervisor stopped during start-up{': ' + why if why else ''}; "
                           f"see {ld / 'supervisor.log'}")
            if state == AS_RUNNING:
                quoting, why = quoting_state(mem, coins, gw_stats)
                if quoting:  # the supervisor says so on its next round: show that line too
                    # (it may have been relayed already: then there is nothing to wait for)
                    end = time.monotonic() + READY_LINE_WAIT_S
                    relay()
                    while not ready_said[0] and time.monotonic() < end:
                        time.sleep(0.02)
                        relay()
                    return proc.pid, ""
                if mem.control.records[0]["kill_flag"]:
                    return proc.pid, f"running, NOT quoting: {why}"
            time.sleep(0.02)
        waiting = "" if mem is None else _still_starting(mem)
        why = quoting_state(mem, coins, gw_stats)[1] if mem is not None and not waiting else ""
    except BaseException:
        # fail closed: a start that did not finish its watch (an error here, ^C) leaves no
        # supervisor quoting behind the operator's back
        _stop(proc, instance)
        raise
    finally:
        if mem is not None:
            mem.close()
    _stop(proc, instance)
    return 0, (f"not quoting after {timeout_s:g} s ({waiting or why or 'segments not created'}); "
               f"stopped it. See {ld}/*.log; a longer --timeout (or "
               f"supervisor.startup_timeout_s) gives a cold compile more time")


def _detach(cmd: list[str], out: int, instance: str, config_path: str | None,
            cores: str | None, duration_s: float | None) -> ChildProcess:
    """The detached supervisor, in its own session, stdout and stderr to ``out``:
    forked from this process when it is single-threaded (it has the config, numpy and
    numba imported: a new interpreter spends 0.4-0.7 CPU-s importing them again),
    else ``cmd``, a new interpreter. Either way it runs ``run_foreground`` (the checks
    again, then ``supervise``); the forked one is titled as ``cmd``."""
    if not single_threaded():
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)

    return fork_run(lambda: run_foreground(instance, config_path, cores, duration_s),
                    title=" ".join(cmd), stream=out, new_session=True)


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
    except (SegmentMissing, SegmentNotReady):
        return None  # not made yet, or made and its header not yet written (the magic is last)
    if int(mem.control.records[0]["supervisor_pid"]) != pid:
        mem.close()
        return None
    return mem


def _still_starting(mem: InstanceMemory) -> str:
    procs = mem.control.records[0]["procs"]
    names = [PROC_NAMES[p] for p in range(N_CHILDREN) if int(procs[p]["state"]) != PS_RUNNING]
    return f"still starting: {', '.join(names)}" if names else ""


def _stop(proc: ChildProcess, instance: str) -> None:
    """SIGTERM the supervisor (it cancels, stops its children and venue, unlinks)."""
    proc.terminate()
    try:
        proc.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        log.warning("supervisor of '%s' did not stop in %g s: killed", instance, STOP_WAIT_S)
        proc.kill()
        proc.wait()


def parse_line(line: str) -> dict:
    """A log line as a record: the JSON object, or a plain line as its message (a
    traceback's lines, an older format)."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {"message": line}
    return rec if isinstance(rec, dict) and "message" in rec else {"message": line}


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
        rec = parse_line(line)
        if rec.get("level") == "ERROR":
            return str(rec["message"]).strip()
        if " ERROR " in line:  # the text format (a terminal)
            return line.split(" ERROR ", 1)[1].strip()
    return ""
