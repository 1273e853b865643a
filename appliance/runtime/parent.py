"""Children die with their supervisor.

``die_with_parent()`` asks the kernel for SIGTERM when the parent dies
(``PR_SET_PDEATHSIG``, through ctypes: the standard library has no binding), then
checks that the parent is still the supervisor that spawned us (``MM_SUPERVISOR_PID``):
a supervisor that died between fork and prctl would otherwise go unnoticed.
``ParentWatch`` repeats that check from the process loop, a second line of defence
(the signal is not delivered to a process that blocks SIGTERM, for one). SIGTERM
is the graceful stop: the gateway's last act is its cancel-all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

SUPERVISOR_PID_ENV = "MM_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1


def expected_parent() -> int:
    """The supervisor pid this process was spawned by; 0 when started by hand."""
    try:
        return int(os.environ.get(SUPERVISOR_PID_ENV, "0"))
    except ValueError:
        return 0


def set_death_signal(sig: int = signal.SIGTERM) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Arm the death signal; False when the supervisor is already gone."""
    parent = expected_parent()
    if not parent:
        return True
    set_death_signal(sig)
    return os.getppid() == parent


class ParentWatch:
    """``orphaned()`` turns True once the supervisor that spawned us is gone
    (checked at most every ``interval_s``)."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.parent = expected_parent()
        self.interval_s = interval_s
        self._next = 0.0
        self.lost = False

    def orphaned(self) -> bool:
        if not self.parent or self.lost:
            return self.lost
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval_s
            self.lost = os.getppid() != self.parent
        return self.lost
