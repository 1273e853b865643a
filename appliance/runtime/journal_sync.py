"""The journal's ``fsync`` on a thread of its own, for ``fsync="interval"`` with
``defer_sync``: the gateway's loop never waits on the disk between a journal line and
the order it announces (an ``fsync`` on a shared virtual disk takes 4 ms at the
median, 10 ms at p90; measured for issue 18).

One fsync at a time, started by ``start(fd)`` and collected by ``poll()``; ``wait()``
before the descriptor is closed, so a descriptor is never synced after it was closed
(or reused). ``os.fsync`` drops the GIL while it waits. Written by hand rather than a
``ThreadPoolExecutor`` because the fork server's children must start no thread before
they need one, and this needs one thread, one job and its error.
"""

from __future__ import annotations

import os
import threading


class BackgroundSync:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._fd = -1  # the descriptor to sync next (-1: nothing asked)
        self._busy = False  # asked or running
        self._error: OSError | None = None  # the last failure, until poll() takes it
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    def start(self, fd: int) -> bool:
        """Sync ``fd`` in the background; False when one is still running."""
        with self._cv:
            if self._busy:
                return False
            self._fd, self._busy = fd, True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="journal-sync")
                self._thread.start()
            self._cv.notify()
        return True

    def poll(self) -> OSError | None:
        """The failure of the last finished fsync, once; None when it succeeded or runs."""
        with self._cv:
            err, self._error = self._error, None
            return err

    def wait(self, timeout_s: float | None = None) -> bool:
        """Until no fsync runs (True), or ``timeout_s`` passed."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._busy, timeout_s)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._fd >= 0)
                fd = self._fd
            err = None
            try:
                os.fsync(fd)
            except OSError as e:
                err = e
            with self._cv:
                self._fd, self._busy = -1, False
                if err is not None:
                    self._error = err
                self._cv.notify_all()
