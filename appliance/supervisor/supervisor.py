"""The supervisor: creates the segments, spawns and pins the five processes,
restarts the dead and the stalled, feeds systemd's watchdog, and stops cleanly.

Restarted processes re-attach to the existing segments, so estimator and quote
state (and the ring cursors in their control slots) resume warm. What must hold
before a start (lock, no live supervisor, stale segments, the clock) is in
``start_checks``.
"""

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from appliance.config import Config, log_dir, state_dir
from appliance.config.state_files import gateway_journal_path, gateway_stats_path
from appliance.hyperliquid import venue_access
from appliance.runtime import logs, metrics_socket
from appliance.runtime.control import children_healthy, set_kill
from appliance.runtime.parent import SUPERVISOR_PID_ENV
from appliance.runtime.waiting import create_bells, unlink_bells
from shm_layout import InstanceMemory
from shm_layout.constants import (
    AS_RUNNING,
    AS_STARTING,
    AS_STOPPED,
    AS_STOPPING,
    N_CHILDREN,
    PROC_GATEWAY,
    PROC_NAMES,
    PROC_RISK,
    PROC_SUPERVISOR,
    PS_EXITED,
    PS_RESTARTING,
    PS_RUNNING,
    PS_STARTING,
)
from shm_layout.segments import LAYOUT_HASH

from . import ownership
from .child_start import ChildStarter
from .forked_child import ChildProcess, ForkedChild
from .local_venue import LocalVenue
from .sdnotify import SdNotifier
from .stages import StartupStages
from .start_checks import StartRefused, clean_stale, clock_verdict, take_instance_lock

HEALTHY_RESET_S = 10.0  # a process up this long has its restart backoff reset
STOP_GRACE_S = 10.0  # the gateway's cancel-all against a slow venue takes ~6 s
DURATION_START_ALLOWANCE_S = 300.0  # --duration: longest wait for "all healthy"
SYSTEMD_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")

log = logging.getLogger("supervisor")


class Supervisor:
    def __init__(self, cfg: Config, instance: str, config_path: str | None, plan,
                 duration_s: float | None = None, notifier: SdNotifier | None = None):
        self.cfg = cfg
        self.instance = instance
        self.config_path = config_path
        self.plan = plan
        self.duration_s = duration_s
        self.notifier = notifier or SdNotifier()
        self.state_dir = state_dir(cfg, instance)
        self.log_dir = log_dir(cfg, instance)
        # Under journald the children's stderr is the journal's stream (their crashes
        # land there); otherwise <log_dir>/<name>.out.
        self.to_journal = logs.under_journald()
        self.children: list[ChildProcess | None] = [None] * N_CHILDREN
        self.restart_due = [0] * N_CHILDREN  # monotonic ns; 0 = none pending
        self.fail_streak = [0] * N_CHILDREN
        self.restart_times: collections.deque = collections.deque()
        self._signalled = False
        self.venue: LocalVenue | None = None  # gateway.network = "local"
        self.metrics_sock = None  # the exporter's listening socket, served by risk

    # --- set-up ---------------------------------------------------------------
    def prepare(self, verdict) -> None:
        """Create the segments and bells; ``verdict`` is the start-up clock check."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # One instance, one set: the lock is held while any process of ours lives.
        self.lock = take_instance_lock(self.instance, self.state_dir)
        self._bind_metrics()  # before anything is created: a taken port refuses the start
        os.environ[SUPERVISOR_PID_ENV] = str(os.getpid())  # children die with us
        # Forked from the fork server (child_start = "fork") or spawned; the server is
        # started now, before any thread, and imports while the segments are made.
        keep = (self.lock.fd,) + ((self.metrics_sock.fileno(),) if self.metrics_sock else ())
        self.starter = ChildStarter(self.cfg.supervisor.child_start, self.instance, keep,
                                    self.cfg.supervisor.preload_kernels)
        self.starter.begin(self._child_env())
        removed = clean_stale(self.instance)
        if removed:
            log.warning("removed segments left by a crashed run of '%s': %s",
                        self.instance, ", ".join(removed))
        self.mem = InstanceMemory.create(self.instance, lock=self.cfg.appliance.lock_memory)
        if self.cfg.appliance.lock_memory and not self.mem.locked:
            log.warning("segments not locked in memory (raise LimitMEMLOCK / ulimit -l)")
        create_bells(self.instance, range(N_CHILDREN))
        self._prepare_hyperliquid()
        ctl = self.control = self.mem.control.records[0]
        ctl["supervisor_pid"] = os.getpid()
        ctl["started_ts_ns"] = time.time_ns()
        ctl["layout_hash"] = LAYOUT_HASH
        ctl["instance"] = self.instance.encode()[:32]
        ctl["n_coins"] = len(self.cfg.appliance.coins)
        ctl["n_procs"] = N_CHILDREN
        for i, coin in enumerate(self.cfg.appliance.coins):
            ctl["coins"][i] = coin.encode()
        self._record_clock(verdict)
        ctl["state"] = AS_STARTING
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _prepare_hyperliquid(self) -> None:
        """Live client on the local venue: demo key (0600) into the state dir, and a
        fresh venue means a fresh account, so the last run's journal is moved aside."""
        g = self.cfg.gateway
        if g.venue != "hyperliquid" or g.network != "local":
            return
        venue_access.ensure_demo_key(self.cfg, self.instance)
        j = gateway_journal_path(self.cfg, self.instance)
        if j.exists():
            j.replace(j.with_name(j.name + ".prev"))
        self.venue = LocalVenue(self.cfg, self.instance, self.config_path, self.lock.fd)

    def _bind_metrics(self) -> None:
        r = self.cfg.risk
        if not r.metrics_port:
            return
        try:
            self.metrics_sock = metrics_socket.listen(r.metrics_host, r.metrics_port)
        except metrics_socket.MetricsPortError as e:
            raise StartRefused(f"instance '{self.instance}': {e}") from None
        log.info("metrics exporter on http://%s:%d/metrics", r.metrics_host, r.metrics_port)

    def _on_signal(self, signum, frame) -> None:
        self._signalled = True

    def _record_clock(self, verdict) -> None:
        ctl = self.control
        ctl["clock_offset_ns"] = verdict.offset_ns or 0
        ctl["clock_max_error_us"] = verdict.kernel.max_error_us
        ctl["clock_checked_ts_ns"] = time.time_ns()
        ctl["clock_ok"] = int(verdict.ok)
        # The risk watchdog acts on risk.max_clock_failed_checks failures in a row.
        ctl["clock_fail_streak"] = 0 if verdict.ok else int(ctl["clock_fail_streak"]) + 1
        if not verdict.ok:
            log.error("clock check failed (%d in a row): %s", int(ctl["clock_fail_streak"]),
                      "; ".join(verdict.reasons))

    # --- children -------------------------------------------------------------
    def spawn(self, p: int) -> None:
        name = PROC_NAMES[p]
        cmd = [sys.executable, "-m", f"appliance.{name}", "--instance", self.instance]
        if self.config_path:
            cmd += ["--config", str(self.config_path)]
        env = self._child_env()
        fds = (self.lock.fd,)  # the instance lock lives while any child does
        if p == PROC_RISK and self.metrics_sock is not None:
            env[metrics_socket.METRICS_FD_ENV] = str(self.metrics_sock.fileno())
            fds += (self.metrics_sock.fileno(),)
        cpus = self.plan[p]
        out = self._child_stream(name)
        try:
            proc = self.starter.start(cmd, env, fds, cpus, out)
        finally:
            if out is not None:
                os.close(out)
        self.children[p] = proc
        log.info("%s started: pid %d (%s)", name, proc.pid,
                 "forked by the fork server" if isinstance(proc, ForkedChild) else "spawned")
        slot = self.control["procs"][p]
        slot["heartbeat_mono_ns"] = 0
        slot["state"] = PS_STARTING
        slot["started_mono_ns"] = time.monotonic_ns()
        slot["pid"] = proc.pid
        self._record_pids()

    @staticmethod
    def _child_env() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS}

    def _child_stream(self, name: str) -> int | None:
        """Where a child's stdout and stderr go: the journal's stream, inherited (None),
        or ``<log_dir>/<name>.out`` (0600; moved to ``.out.1`` at a spawn past
        ``logs.max_file_bytes``). Its log records go to its own rotating file."""
        if self.to_journal:
            return None
        return logs.open_private(self.log_dir / f"{name}.out", self.cfg.logs.max_file_bytes)

    def _record_pids(self) -> None:
        children = {PROC_NAMES[p]: c.pid for p, c in enumerate(self.children) if c is not None}
        venue = self.venue.pid if self.venue is not None else 0
        self.control["venue_pid"] = venue
        ownership.write_pids(self.state_dir, os.getpid(), children, venue,
                             self.starter.server_pid)

    def _backoff_ns(self, p: int) -> int:
        s = self.cfg.supervisor
        ms = min(s.restart_backoff_initial_ms * 2 ** self.fail_streak[p], s.restart_backoff_max_ms)
        return int(ms * 1e6)

    def _failed(self, p: int, why: str, now: int) -> None:
        slot = self.control["procs"][p]
        slot["state"] = PS_RESTARTING
        delay = self._backoff_ns(p)
        self.fail_streak[p] += 1
        self.restart_due[p] = now + delay
        log.warning("%s %s; restarting in %.0f ms", PROC_NAMES[p], why, delay / 1e6)

    def _check_child(self, p: int, now: int, judge_heartbeats: bool = True) -> None:
        proc = self.children[p]
        slot = self.control["procs"][p]
        s = self.cfg.supervisor
        if self.restart_due[p]:
            if now >= self.restart_due[p]:
                self.restart_due[p] = 0
                self.spawn(p)
                slot["restarts"] += 1
                self._count_restart(p, now)
            return
        rc = proc.poll()
        if rc is not None:
            slot["last_exit_code"] = rc
            self._failed(p, f"exited with code {rc}", now)
            return
        if slot["state"] == PS_RUNNING:
            hb = int(slot["heartbeat_mono_ns"])
            if judge_heartbeats and now - hb > s.heartbeat_timeout_ms * 1e6:
                proc.kill()
                proc.wait()
                slot["last_exit_code"] = -signal.SIGKILL
                self._failed(p, f"heartbeat stale for {(now - hb) / 1e6:.0f} ms, killed", now)
            elif now - int(slot["started_mono_ns"]) > HEALTHY_RESET_S * 1e9:
                self.fail_streak[p] = 0
        elif now - int(slot["started_mono_ns"]) > s.startup_timeout_s * 1e9:
            proc.kill()
            proc.wait()
            self._failed(p, f"not running after {s.startup_timeout_s:g} s, killed", now)

    def _count_restart(self, p: int, now: int) -> None:
        s = self.cfg.supervisor
        self.restart_times.append(now)
        while self.restart_times and now - self.restart_times[0] > s.restart_window_s * 1e9:
            self.restart_times.popleft()
        if len(self.restart_times) > s.max_restarts:
            reason = (f"{len(self.restart_times)} restarts in {s.restart_window_s:g} s "
                      f"(last: {PROC_NAMES[p]})")
            if set_kill(self.control, reason, "supervisor"):
                log.error("kill flag raised: %s", reason)

    # --- clock ----------------------------------------------------------------
    def _clock_thread(self) -> None:
        interval = self.cfg.clock.check_interval_s
        while not self._stopping:
            time.sleep(min(interval, 1.0))
            if time.monotonic() - self._clock_last < interval:
                continue
            self._clock_last = time.monotonic()
            try:
                self._record_clock(clock_verdict(self.cfg))
            except Exception as e:  # a failed check must not kill supervision
                ctl = self.control
                if ctl is not None:  # a check that cannot run counts as a failed one
                    ctl["clock_ok"] = 0
                    ctl["clock_fail_streak"] = int(ctl["clock_fail_streak"]) + 1
                log.error("clock check failed to run: %s", e)

    # --- main loop ------------------------------------------------------------
    def run(self) -> int:
        stages = StartupStages(self.mem, list(self.cfg.appliance.coins), log,
                               None if self.to_journal else str(self.log_dir),
                               gateway_stats_path(self.cfg, self.instance)
                               if self.cfg.gateway.venue == "hyperliquid" else None)
        if self.venue is not None:  # before the feed, stopped last
            try:
                self.venue.launch()
                self._record_pids()
                self.venue.wait_listening(self.cfg.supervisor.startup_timeout_s)
            except RuntimeError as e:
                log.error("%s", e)
                self._stopping = True
                self.shutdown()
                return 2
        # The venue first, then every child: starting the estimator and the quote while
        # the venue compiles was measured slower on a cold cache (three compilers on two
        # shared cores; BENCHMARKS.md "Start-up by stage").
        for p in range(N_CHILDREN):
            self.spawn(p)
        ctl = self.control
        sup = ctl["procs"][PROC_SUPERVISOR]
        sup["pid"] = os.getpid()
        sup["state"] = PS_RUNNING
        ready = False
        started = ready_at = time.monotonic()
        wd_interval = self.notifier.watchdog_interval_s
        next_wd = 0.0
        self._stopping = False
        self._clock_last = time.monotonic()
        threading.Thread(target=self._clock_thread, daemon=True, name="clock").start()
        poll_s = self.cfg.supervisor.poll_interval_ms / 1e3
        timeout_ms = self.cfg.supervisor.heartbeat_timeout_ms
        last_loop_ns = time.monotonic_ns()
        try:
            while not (self._signalled or ctl["stop_requested"]):
                # The duration runs from the moment all are healthy (compiling and
                # connecting are not trading time), with a bound if that never comes.
                if self.duration_s is not None and (
                        (ready and time.monotonic() - ready_at >= self.duration_s)
                        or time.monotonic() - started >= self.duration_s + DURATION_START_ALLOWANCE_S):
                    log.info("duration of %g s reached", self.duration_s)
                    break
                now = time.monotonic_ns()
                # Our own loop stalled (a VM pause, a frozen host): every heartbeat looks
                # old for the same reason. No verdict this round; the next one judges.
                gap_ms = (now - last_loop_ns) / 1e6
                judge = gap_ms < timeout_ms / 2
                if not judge:
                    log.warning("supervision loop stalled %.0f ms: heartbeats not judged this "
                                "round", gap_ms)
                last_loop_ns = now
                sup["heartbeat_mono_ns"] = now
                for p in range(N_CHILDREN):
                    self._check_child(p, now, judge)
                if self.venue is not None and self.venue.check():
                    self._record_pids()
                if self.starter.check(self._known_pids()):
                    self._record_pids()
                healthy = children_healthy(ctl, timeout_ms)
                if healthy and not ready:
                    ready = True
                    ready_at = time.monotonic()
                    ctl["state"] = AS_RUNNING
                    self.notifier.ready("all five processes healthy")
                stages.poll(healthy)
                if wd_interval and healthy and time.monotonic() >= next_wd:
                    self.notifier.watchdog()
                    next_wd = time.monotonic() + wd_interval
                time.sleep(poll_s)
        finally:
            self._stopping = True
            self.shutdown()
        return 0

    def _known_pids(self) -> set[int]:
        """Our children's pids (the venue's too): not strays to reap."""
        known = {c.pid for c in self.children if c is not None}
        if self.venue is not None and self.venue.proc is not None:
            known.add(self.venue.proc.pid)
        return known

    def shutdown(self) -> None:
        """Cancel all, stop every process, unlink the segments."""
        ctl = self.control
        ctl["state"] = AS_STOPPING
        self.notifier.stopping()
        log.info("stopping")
        # Upstream first, so the gateway's final cancel-all is not followed by a new ladder.
        order = [p for p in range(N_CHILDREN) if p not in (PROC_GATEWAY, PROC_RISK)]
        for group in (order, [PROC_GATEWAY], [PROC_RISK]):
            for p in group:
                proc = self.children[p]
                if proc is not None and proc.poll() is None:
                    proc.terminate()
            for p in group:
                proc = self.children[p]
                if proc is None:
                    continue
                try:
                    proc.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %g s, killed", PROC_NAMES[p], STOP_GRACE_S)
                    proc.kill()
                    proc.wait()
                ctl["procs"][p]["state"] = PS_EXITED
        self.starter.stop()
        if self.venue is not None:
            self.venue.stop()
        ctl["state"] = AS_STOPPED
        ctl["procs"][PROC_SUPERVISOR]["state"] = PS_EXITED
        self.control = None
        self.mem.close()
        InstanceMemory.unlink_all(self.instance)
        unlink_bells(self.instance, range(N_CHILDREN))
        self.notifier.close()
        if self.metrics_sock is not None:
            self.metrics_sock.close()
        ownership.forget_pids(self.state_dir)
        os.close(self.lock.fd)  # every process of the set is gone: the instance is free
        log.info("stopped; segments unlinked")

