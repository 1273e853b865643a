"""Single-writer broadcast ring (the Disruptor pattern) over a ring segment.

The writer never waits. Each slot carries its own sequence number (``seq``), so
a reader needs nothing but its own cursor: it reads slot ``cursor & mask`` and
checks that the slot holds event ``cursor``:

* ``seq == cursor``: ready; copy it, then check ``seq`` again (the writer may have
  lapped us during the copy).
* ``seq == -cursor`` or ``|seq| < cursor``: not written yet.
* anything newer: we were lapped; ``resync`` jumps forward and counts the loss.

Arguments are the views a ``shm_layout.Segment`` provides: ``words`` (its
``ring_words``), ``seqs`` (``records["seq"]``) and ``rows`` (``rows``).

Whole or prefix. ``publish`` / ``read`` copy the whole record, whatever its type.
``publish_prefix`` / ``read_prefix`` (issue 18) copy only the first ``nbytes`` of it,
for a record type whose used length varies (an MD_EVENT: a trade or a BBO uses 2 of
its 14 cache lines): the writer says the length, the ring keeps it in the slot's
bytes ``USED_BYTES_AT`` .. ``+1`` (u2, little-endian; a record type published this way
reserves them, see ``shm_layout.records.MD_EVENT.used_bytes``) and the reader copies
that many bytes (0, from a whole ``publish``: all of them). The rest of the reader's
row keeps what it held: the record type must say which bytes are in use.
"""

import numpy as np
from numba import njit

from .atomics import fence_acquire, fence_release, load_acquire, load_relaxed, store_release

HEAD = 0  # int64 word indices into the ring header
CAPACITY = 1
MASK = 2
LAST_PUB_MONO_NS = 8
WRITER_PID = 9

USED_BYTES_AT = 14  # byte offset of a prefix-published slot's used length (u2)

EMPTY = 0
READY = 1
LAPPED = -1


@njit(cache=True, inline="always")
def publish(words, seqs, rows, src_row, now_mono_ns):
    """Copy ``src_row`` (one record's bytes) into the next slot and publish it.
    Returns its sequence number (1, 2, ...)."""
    n = words[HEAD] + 1  # the writer owns head: a plain load is enough
    i = n & words[MASK]
    store_release(seqs, i, -n)  # mark the slot as being written
    fence_release()  # ... before any payload byte lands
    dst = rows[i]
    for b in range(8, dst.shape[0]):  # bytes 0..7 are seq
        dst[b] = src_row[b]
    store_release(seqs, i, n)
    words[LAST_PUB_MONO_NS] = now_mono_ns
    store_release(words, HEAD, n)
    return n


@njit(cache=True, inline="always")
def publish_prefix(words, seqs, rows, src_row, nbytes, now_mono_ns):
    """``publish`` of the first ``nbytes`` of ``src_row`` only (at least up to the
    used-length word, at most the slot); the slot records the length for the reader.
    Returns the sequence number."""
    n = words[HEAD] + 1
    i = n & words[MASK]
    store_release(seqs, i, -n)
    fence_release()
    dst = rows[i]
    m = min(max(nbytes, USED_BYTES_AT + 2), dst.shape[0])
    for b in range(8, m):
        dst[b] = src_row[b]
    dst[USED_BYTES_AT] = m & 0xFF
    dst[USED_BYTES_AT + 1] = m >> 8
    store_release(seqs, i, n)
    words[LAST_PUB_MONO_NS] = now_mono_ns
    store_release(words, HEAD, n)
    return n


@njit(cache=True)
def publish_many(words, seqs, rows, src_rows, start, stop, now_mono_ns):
    """Publish ``src_rows[start:stop]``; returns the last sequence number."""
    n = words[HEAD]
    for r in range(start, stop):
        n = publish(words, seqs, rows, src_rows[r], now_mono_ns)
    return n


@njit(cache=True, inline="always")
def _copy_checked(seqs, i, cursor, src, dst_row, nbytes):
    """Copy ``nbytes`` of slot ``i`` and check it still holds event ``cursor``."""
    for b in range(nbytes):
        dst_row[b] = src[b]
    fence_acquire()  # the copy completes before the re-check below
    if load_relaxed(seqs, i) == cursor:
        return READY
    return LAPPED


@njit(cache=True, inline="always")
def _read(words, seqs, rows, cursor, dst_row, prefix):
    i = cursor & words[MASK]
    s = load_acquire(seqs, i)
    if s == cursor:
        src = rows[i]
        m = dst_row.shape[0]
        if prefix:
            used = np.int64(src[USED_BYTES_AT]) | (np.int64(src[USED_BYTES_AT + 1]) << 8)
            if 0 < used <= m:  # 0: written whole; a torn length is caught by the re-check
                m = used
        return _copy_checked(seqs, i, cursor, src, dst_row, m)
    if s > cursor or s < -cursor:
        return LAPPED
    return EMPTY


@njit(cache=True, inline="always")
def read(words, seqs, rows, cursor, dst_row):
    """Try to read event ``cursor`` into ``dst_row``: READY, EMPTY or LAPPED."""
    return _read(words, seqs, rows, cursor, dst_row, False)


@njit(cache=True, inline="always")
def read_prefix(words, seqs, rows, cursor, dst_row):
    """``read`` of the used prefix only: the length the writer gave ``publish_prefix``
    (the whole row when the slot says 0 or more than ``dst_row`` holds)."""
    return _read(words, seqs, rows, cursor, dst_row, True)


@njit(cache=True, inline="always")
def _read_next(words, seqs, rows, cursors, k, dst_row, prefix):
    while True:
        st = _read(words, seqs, rows, cursors[k], dst_row, prefix)
        if st == READY:
            cursors[k] += 1
            return True
        if st == EMPTY:
            return False
        c, lost = resync(words, cursors[k])
        cursors[k] = c
        cursors[k + 1] += lost


@njit(cache=True, inline="always")
def read_next(words, seqs, rows, cursors, k, dst_row):
    """Read the event at ``cursors[k]`` into ``dst_row`` and advance; a lapped
    reader is resynced and its loss added to ``cursors[k + 1]``. True if read."""
    return _read_next(words, seqs, rows, cursors, k, dst_row, False)


@njit(cache=True, inline="always")
def read_next_prefix(words, seqs, rows, cursors, k, dst_row):
    """``read_next`` with ``read_prefix``."""
    return _read_next(words, seqs, rows, cursors, k, dst_row, True)


@njit(cache=True)
def resync(words, cursor):
    """New cursor for a lapped reader: half a ring behind the head, so that it
    does not get lapped again at once. Returns (new_cursor, events_lost)."""
    head = load_acquire(words, HEAD)
    fresh = head - (words[CAPACITY] >> 1) + 1
    if fresh <= cursor:
        fresh = cursor + 1
    return fresh, fresh - cursor


@njit(cache=True)
def head(words):
    return load_acquire(words, HEAD)


def start_cursor(words: np.ndarray, from_start: bool = False) -> int:
    """Cursor of a new reader: the next event to come, or the oldest still held."""
    h = int(head(words))
    if not from_start:
        return h + 1
    return max(1, h - int(words[CAPACITY]) + 1)
