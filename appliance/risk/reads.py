"""Seqlock reads for the watchdog: back off and retry, say "unreadable" only when it lasts.

On two shared cores a writer can be descheduled in the middle of a write and hold
its block's sequence odd for a scheduler tick or more: a reader that gives up after
a burst of spins would report a block as unreadable when it is only busy. So a read
that fails is retried with short sleeps, within a budget shared by every block of
one watchdog cycle (``BACKOFF_BUDGET_S``), and a block is reported unreadable only
when it failed ``UNREADABLE_CYCLES`` cycles in a row. Until then the checks use the
last consistent copy.
"""

import time

import numpy as np

from appliance.ipc import seqlock

SPIN_TRIES = 10_000  # one burst of spins before the first sleep
BACKOFF_FIRST_S = 0.0005
BACKOFF_MAX_SLEEP_S = 0.01
BACKOFF_BUDGET_S = 0.05  # per cycle, all blocks together
UNREADABLE_CYCLES = 5  # with the backoff: a block unreadable for ~0.35 s at least


def read_with_backoff(segment, k: int, deadline_mono_s: float) -> tuple[np.void, int]:
    """A consistent copy of block ``k``: retried with growing sleeps until it settles
    or ``deadline_mono_s`` (time.monotonic) passes. Returns (record, seq); seq -1: it
    never settled."""
    rec, seq = seqlock.snapshot(segment, k, max_tries=SPIN_TRIES)
    sleep_s = BACKOFF_FIRST_S
    while seq < 0:
        left = deadline_mono_s - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(sleep_s, left))
        sleep_s = min(2 * sleep_s, BACKOFF_MAX_SLEEP_S)
        rec, seq = seqlock.snapshot(segment, k, max_tries=SPIN_TRIES)
    return rec, seq


class BlockReader:
    """The per-coin blocks of one seqlock segment, read once per cycle."""

    def __init__(self, segment, n_blocks: int) -> None:
        self.segment = segment
        self.last: list[np.void | None] = [None] * n_blocks  # last consistent copy
        self.seqs = [-1] * n_blocks
        self.fail_streak = [0] * n_blocks  # cycles in a row the read failed

    def read_all(self, deadline_mono_s: float) -> None:
        for k in range(len(self.last)):
            rec, seq = read_with_backoff(self.segment, k, deadline_mono_s)
            if seq >= 0:
                self.last[k], self.seqs[k] = rec, seq
                self.fail_streak[k] = 0
            else:
                self.fail_streak[k] += 1

    def get(self, k: int) -> np.void | None:
        """The last consistent copy of block ``k`` (None: never read)."""
        return self.last[k]

    def unreadable(self, k: int) -> bool:
        """Failed long enough to be a reason: fail closed."""
        return self.fail_streak[k] >= UNREADABLE_CYCLES
