"""What every appliance process shares: attach, heartbeat, wait, stop.

A process module builds a ``ProcessContext`` and hands ``run`` one function,
``step() -> int`` (work done: events read, blocks published). The context owns
the loop: heartbeat, waiting policy, doorbells, SIGTERM.
"""

import argparse
import logging
import os
import signal
import time
from collections.abc import Callable

from appliance.config import Config, load_config, wait_policy
from shm_layout import InstanceMemory
from shm_layout.constants import PROC_NAMES, PS_EXITED, PS_RUNNING

from . import logs
from .compile_beat import CompileBeat
from .compile_log import CompileLog
from .control import mask_of_cpus, set_kill
from .kernel_manifest import KernelRecorder
from .parent import ParentWatch, die_with_parent
from .sched_slice import set_slice
from .waiting import Doorbells, Waiter

# The processes between a market event and the order bytes: a short scheduler slice
# (``wait.slice_us``) for them. Risk keeps the kernel's: it is not on the path.
LATENCY_PATH = ("feed", "estimator", "quote", "gateway")


def parse_args(name: str, argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=f"appliance.{name}", description=f"the {name} process")
    ap.add_argument("--instance", default="default")
    ap.add_argument("--config", default=None)
    return ap.parse_args(argv)


class ProcessContext:
    def __init__(self, name: str, argv=None, consumers=(), timer_driven: bool = False):
        args = parse_args(name, argv)
        self.name = name
        self.proc = PROC_NAMES.index(name)
        self.instance = args.instance
        self.config_path = args.config
        self.cfg: Config = load_config(args.config)
        logs.setup(name, self.instance, self.cfg)
        self.log = logging.getLogger(name)
        self.started_mono_ns = time.monotonic_ns()
        self.mem = InstanceMemory.attach(self.instance, writable=True, lock=self.cfg.appliance.lock_memory)
        self.control = self.mem.control.records[0]
        self.slot = self.control["procs"][self.proc]
        self.compile_log = CompileLog(name, slot=self.slot)  # what a cold start spent compiling
        self.compile_beat = CompileBeat(self.slot, self.compile_log)  # a compile is not a hang
        self.kernels = KernelRecorder(name)  # for the fork server to load before it forks
        self.coins = self.cfg.appliance.coins
        self.n_coins = len(self.coins)
        w = self.cfg.wait
        self.waiter = Waiter(wait_policy(self.cfg, name), w.spin_us, w.sleep_max_us,
                             w.block_timeout_ms, self.instance, self.proc, self.slot, timer_driven,
                             hybrid_bell=w.hybrid_bell)
        if name in LATENCY_PATH and w.slice_us > 0 and not set_slice(w.slice_us):
            self.log.warning("scheduler slice %d us not set (sched_setattr refused)", w.slice_us)
        self.bells = Doorbells(self.instance, self.control["procs"], consumers)
        self._stop = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # Die with the supervisor: SIGTERM from the kernel, and a check from the loop.
        self.parent = ParentWatch()
        if not die_with_parent():
            self.log.error("supervisor pid %d is gone: stopping", self.parent.parent)
            self.parent.lost = True
            self._stop = True

    def _on_signal(self, signum, frame) -> None:
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    @property
    def kill_active(self) -> bool:
        return bool(self.control["kill_flag"])

    def kill(self, reason: str) -> bool:
        ok = set_kill(self.control, reason, self.name)
        if ok:
            self.log.error("kill flag raised: %s", reason)
        return ok

    def count_error(self, n: int = 1) -> None:
        self.slot["errors"] += n

    def beat(self) -> None:
        """Stamp the heartbeat from inside a step: the process is alive and making
        progress (the gateway's transports call it before each venue request and while
        waiting on one, which is bounded). A loop stuck anywhere else still goes stale."""
        self.slot["heartbeat_mono_ns"] = time.monotonic_ns()

    def run(self, step, poll=None, on_exit=None,
            summary: Callable[[], dict] | None = None) -> int:
        """Loop ``step`` until SIGTERM. ``poll`` (default: step) re-checks for work
        before a blocking wait; ``summary`` adds the process's own figures (fills,
        orders, P&L) to the shutdown line."""
        slot = self.slot
        slot["cpus_mask"] = mask_of_cpus(os.sched_getaffinity(0))
        if self._stop:  # orphaned before the first step: only the exit path runs
            if on_exit is not None:
                on_exit()
            slot["state"] = PS_EXITED
            self._log_summary(summary)
            return 0
        # The first step compiles the kernels (seconds when the cache is cold):
        # do it while still "starting", which the supervisor gives more time.
        n = step()
        slot["events"] += n
        slot["heartbeat_mono_ns"] = time.monotonic_ns()
        slot["state"] = PS_RUNNING
        self.log.info("running on cpus %s, wait policy %s", sorted(os.sched_getaffinity(0)),
                      self.waiter.policy)
        if self.compile_log.compiles:
            self.log.info("first step compiled: %s", self.compile_log.summary())
        self._save_kernels()
        poll = poll or step
        try:
            while not self._stop:
                if self.parent.orphaned():
                    self.log.error("supervisor pid %d is gone: stopping", self.parent.parent)
                    break
                n = step()
                slot["heartbeat_mono_ns"] = time.monotonic_ns()
                slot["loops"] += 1
                if not n:
                    n = self.waiter.idle(poll)
                if n:
                    slot["events"] += n
                    self.bells.ring()
                    self.waiter.worked()
        finally:
            if on_exit is not None:
                on_exit()
            slot["state"] = PS_EXITED
            self._log_summary(summary)
            self._save_kernels()  # and those first called since the first step
        return 0

    def _save_kernels(self) -> None:
        """List the kernels called so far for the fork server (a failure only costs
        memory: the next start's children load their own)."""
        try:
            self.kernels.save()
        except OSError as e:
            self.log.warning("kernel list not written (the next start's children load "
                             "their own kernels): %s", e)

    def _log_summary(self, summary: Callable[[], dict] | None) -> None:
        """One line at exit with what this run did: the operator's last word from it."""
        s = self.slot
        up_s = (time.monotonic_ns() - self.started_mono_ns) / 1e9
        fields = {"event": "shutdown", "uptime_s": round(up_s, 3),
                  "events": int(s["events"]), "loops": int(s["loops"]), "errors": int(s["errors"]),
                  "kill_active": self.kill_active,
                  "compiles": self.compile_log.compiles,
                  "compile_s": round(self.compile_log.top_level_s, 3)}
        if summary is not None:
            try:
                fields.update(summary())
            except Exception:  # noqa: BLE001 - the summary must not hide the exit
                self.log.exception("shutdown summary failed")
        self.log.info("exiting: %d events, %d errors", fields["events"], fields["errors"], extra=fields)
