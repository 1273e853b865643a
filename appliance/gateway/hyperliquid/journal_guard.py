"""What the gateway does when its journal's disk fails: a failed write (reported by
the ``Journal``) or a full or read-only disk seen by ``statvfs`` every
``DISK_CHECK_S`` (a quiet gateway may not write for a while) raises the kill flag
with the errno and path. No order is placed while the journal fails (the order
sender fails closed); cancels still go out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from appliance.runtime.journal import Journal

DISK_CHECK_S = 0.25  # statvfs of the journal's disk this often (one cheap syscall)


class JournalGuard:
    def __init__(self, control: np.void, raise_kill: Callable[[str], object]) -> None:
        """``control``: the control record (``gw_journal_errors``); ``raise_kill``: ``ctx.kill``."""
        self.control = control
        self.raise_kill = raise_kill
        self.next_check = 0.0
        self.stats = {"journal_errors": 0}

    def on_error(self, reason: str) -> None:
        """The ``Journal``'s ``on_error``: counted, and the kill flag goes up."""
        self.stats["journal_errors"] += 1
        self.control["gw_journal_errors"] += 1
        self.raise_kill(f"gateway: {reason}"[:128])

    def check_disk(self, journal: Journal, now: float) -> None:
        """A full or read-only journal disk raises the kill flag before a write fails."""
        if now < self.next_check:
            return
        self.next_check = now + DISK_CHECK_S
        disk = journal.space_error()
        if disk:
            self.raise_kill(f"gateway: {disk}"[:128])
