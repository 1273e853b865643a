"""Waiting policies for a process loop that found no work.

* ``spin``: poll again at once. Lowest latency; needs a core of its own.
* ``hybrid`` (default): spin for ``spin_us``, then sleep with a doubling backoff
  up to ``sleep_max_us``. Five processes and a venue share two cores well. With
  ``hybrid_bell`` a process woken by producers (not by a timer) sleeps on its
  doorbell with that backoff as the timeout: a publish ends the sleep at once
  instead of at the next poll (up to ``sleep_max_us`` later, on every hop of the
  tick-to-wire path), and the timeout still runs its timed work.
* ``block``: sleep on this process's doorbell (a POSIX semaphore) until a
  producer rings it or ``block_timeout_ms`` passes. A producer rings only the
  bells of consumers that flagged ``sleeping``; the timeout bounds the rare
  wake-up lost to the flag/publish race.
"""

import os
import time

import posix_ipc

from shm_layout.constants import PROC_NAMES


def bell_name(instance: str, proc: int) -> str:
    return f"/mm.{instance}.bell.{PROC_NAMES[proc]}"


def create_bells(instance: str, procs) -> None:
    for p in procs:
        try:
            posix_ipc.unlink_semaphore(bell_name(instance, p))
        except posix_ipc.ExistentialError:
            pass
        posix_ipc.Semaphore(bell_name(instance, p), flags=posix_ipc.O_CREX, mode=0o600).close()


def unlink_bells(instance: str, procs) -> None:
    for p in procs:
        try:
            posix_ipc.unlink_semaphore(bell_name(instance, p))
        except posix_ipc.ExistentialError:
            pass


class Doorbells:
    """Rings the bells of the consumers of what this process publishes."""

    def __init__(self, instance: str, proc_slots, consumers):
        self._slots = proc_slots
        self._bells = []
        for p in consumers:
            try:
                self._bells.append((p, posix_ipc.Semaphore(bell_name(instance, p))))
            except posix_ipc.ExistentialError:
                pass  # started outside a supervisor: nobody blocks on it

    def ring(self) -> None:
        for p, sem in self._bells:
            if self._slots[p]["sleeping"]:
                sem.release()


class Waiter:
    def __init__(self, policy: str, spin_us: int, sleep_max_us: int, block_timeout_ms: int,
                 instance: str, proc: int, proc_slot, timer_driven: bool = False,
                 hybrid_bell: bool = False):
        # A loop woken by time (pacing, periodic checks), not by a producer, has no
        # doorbell to wait on: block means hybrid for it, and its hybrid sleeps.
        self.policy = "hybrid" if (policy == "block" and timer_driven) else policy
        self._spin_ns = spin_us * 1000
        self._sleep_max_s = sleep_max_us / 1e6
        self._block_timeout_s = block_timeout_ms / 1e3
        self._slot = proc_slot
        self._idle_since = 0
        self._sleep_s = 0.0
        self._bell = None
        if self.policy == "block" or (self.policy == "hybrid" and hybrid_bell and not timer_driven):
            try:
                self._bell = posix_ipc.Semaphore(bell_name(instance, proc))
            except posix_ipc.ExistentialError:
                self.policy = "hybrid"  # no supervisor made a bell: degrade, do not fail

    def worked(self) -> None:
        self._idle_since = 0

    def idle(self, poll) -> int:
        """Called after a loop with no work. Under ``block``, ``poll()`` re-checks for
        work after the sleeping flag is up; returns the work it did."""
        if self.policy == "spin":
            return 0
        now = time.monotonic_ns()
        if self._idle_since == 0:
            self._idle_since = now
            self._sleep_s = 10e-6
            return 0
        if self.policy == "hybrid":
            if now - self._idle_since < self._spin_ns:
                return 0
            if self._bell is None:
                time.sleep(self._sleep_s)
            else:
                self._bell_wait(self._sleep_s)
            self._sleep_s = min(self._sleep_s * 2, self._sleep_max_s)
            return 0
        self._slot["sleeping"] = 1
        try:
            n = poll()  # work that arrived between the last loop and the flag
            if n:
                return n
            self._bell.acquire(self._block_timeout_s)
        except posix_ipc.BusyError:
            pass
        finally:
            self._slot["sleeping"] = 0
            self._idle_since = 0
        return 0

    def _bell_wait(self, timeout_s: float) -> None:
        """Sleep until rung or ``timeout_s``. A publish between our last poll and the
        flag going up is not rung: it waits for the timeout, as a plain sleep would."""
        self._slot["sleeping"] = 1
        try:
            self._bell.acquire(timeout_s)
        except posix_ipc.BusyError:
            pass
        finally:
            self._slot["sleeping"] = 0


def pin_self(cpus) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
