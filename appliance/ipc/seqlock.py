"""Seqlock over a blocks segment: one writer, any number of readers, latest value.

The writer makes ``seq`` odd, copies the block, makes it even. A reader copies
the block between two loads of ``seq`` and keeps the copy only if both are equal
and even. Readers never block the writer; the writer's critical section is one
memcpy, so readers rarely retry. Writers should conflate (publish the newest
state at most once per loop), not publish flat out, or readers starve.
"""

import numpy as np
from numba import njit

from .atomics import (
    cpu_relax,
    fence_acquire,
    fence_release,
    load_acquire,
    load_relaxed,
    store_release,
)


@njit(cache=True, inline="always")
def write(seqs, rows, k, src_row):
    """Publish ``src_row`` (one record's bytes) as block ``k``; returns the new seq."""
    s = seqs[k]  # single writer: its own last value
    store_release(seqs, k, s + 1)  # odd: readers keep off
    fence_release()  # the odd seq is visible before any data byte changes
    dst = rows[k]
    for b in range(8, dst.shape[0]):
        dst[b] = src_row[b]
    store_release(seqs, k, s + 2)  # even again, after every data byte
    return s + 2


@njit(cache=True, inline="always")
def read(seqs, rows, k, dst_row, max_tries):
    """Copy a consistent block ``k`` into ``dst_row``. Returns its (even) seq, or
    -1 if no stable copy was had in ``max_tries`` attempts."""
    for _ in range(max_tries):
        s1 = load_acquire(seqs, k)
        if s1 & 1:
            cpu_relax()
            continue
        src = rows[k]
        for b in range(dst_row.shape[0]):
            dst_row[b] = src[b]
        fence_acquire()  # the data loads complete before seq is read again
        if load_relaxed(seqs, k) == s1:
            return s1
        cpu_relax()
    return -1


@njit(cache=True)
def read_block(seqs, rows, k, dst_row, max_tries):
    return read(seqs, rows, k, dst_row, max_tries)


@njit(cache=True)
def write_block(seqs, rows, k, src_row):
    return write(seqs, rows, k, src_row)


def snapshot(segment, k: int, max_tries: int = 1_000_000) -> tuple[np.void, int]:
    """A consistent copy of block ``k`` of a blocks segment, for Python callers
    (inspect, risk, tests). Returns (record, seq); seq is -1 if it never settled."""
    dst = np.zeros(1, dtype=segment.spec.record)
    seq = read_block(segment.seqs, segment.rows, k, dst.view(np.uint8), max_tries)
    return dst[0], int(seq)
