"""What every appliance process shares: attach, heartbeat, wait, stop.

A process module builds a ``ProcessContext`` and hands ``run`` one function,
``step() -> int`` (work done: events read, blocks published). The context owns
the loop: heartbeat, waiting policy, doorbells, SIGTERM.
"""

import argparse
import logging
import os
import signal
import sys
import time

from appliance.config import Config, load_config, wait_policy
from shm_layout import InstanceMemory
from shm_layout.constants import PROC_NAMES, PS_EXITED, PS_RUNNING

from .compile_beat import CompileBeat
from .control import mask_of_cpus, set_kill
from .parent import ParentWatch, die_with_parent
from .waiting import Doorbells, Waiter


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
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.INFO,
            format=f"%(asctime)s {name}[%(process)d] %(levelname)s %(message)s",
        )
        self.log = logging.getLogger(name)
        self.mem = InstanceMemory.attach(self.instance, writable=True, lock=self.cfg.appliance.lock_memory)
        self.control = self.mem.control.records[0]
        self.slot = self.control["procs"][self.proc]
        self.compile_beat = CompileBeat(self.slot)  # a first-call compile is not a hang
        self.coins = self.cfg.appliance.coins
        self.n_coins = len(self.coins)
        w = self.cfg.wait
        self.waiter = Waiter(wait_policy(self.cfg, name), w.spin_us, w.sleep_max_us,
                             w.block_timeout_ms, self.instance, self.proc, self.slot, timer_driven)
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

    def run(self, step, poll=None, on_exit=None) -> int:
        """Loop ``step`` until SIGTERM. ``poll`` (default: step) re-checks for work
        before a blocking wait."""
        slot = self.slot
        slot["cpus_mask"] = mask_of_cpus(os.sched_getaffinity(0))
        if self._stop:  # orphaned before the first step: only the exit path runs
            if on_exit is not None:
                on_exit()
            slot["state"] = PS_EXITED
            return 0
        # The first step compiles the kernels (seconds when the cache is cold):
        # do it while still "starting", which the supervisor gives more time.
        n = step()
        slot["events"] += n
        slot["heartbeat_mono_ns"] = time.monotonic_ns()
        slot["state"] = PS_RUNNING
        self.log.info("running on cpus %s, wait policy %s", sorted(os.sched_getaffinity(0)),
                      self.waiter.policy)
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
            self.log.info("exiting")
        return 0
