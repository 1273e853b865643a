"""A child the fork server started, handled by the supervisor as its own.

The supervisor is a child subreaper (``PR_SET_CHILD_SUBREAPER``): the fork server's
middle process exits, and the child it forked is re-parented to the supervisor, which
can then wait for it. ``ForkedChild`` gives it the part of ``subprocess.Popen`` the
supervisor uses (``pid``, ``returncode``, ``poll``, ``wait``, ``send_signal``,
``terminate``, ``kill``), waiting on that pid only: never ``waitpid(-1)``, which would
take the local venue's exit status from its ``Popen``. ``reap_strays`` reaps what else
a subreaper inherits (a fork server's middle process left when the server died).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from typing import Protocol

PR_SET_CHILD_SUBREAPER = 36


class ChildProcess(Protocol):
    """What the supervisor needs of a child: ``subprocess.Popen`` or ``ForkedChild``."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants; False if refused."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def parent_of(pid: int) -> int:
    """The parent pid of a live process (``/proc/PID/stat``), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0
    return int(stat[stat.rindex(b")") + 2:].split()[1])


class ForkedChild:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def _reaped(self, flags: int) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # not ours to wait for: counted as killed, never re-used
            self.returncode = -signal.SIGKILL
            return self.returncode
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._reaped(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            rc = self._reaped(0)
            assert rc is not None
            return rc
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while (rc := self.poll()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return rc

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # an exited child's pid may belong to another process
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def reap_strays(known: set[int]) -> list[int]:
    """Reap every exited child of this process's main thread that is not in ``known``
    (the handles' own pids); the pids reaped. Live ones are left alone."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            pids = [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []
    out = []
    for pid in pids:
        if pid in known:
            continue
        try:
            got, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        if got == pid:
            out.append(pid)
    return out
