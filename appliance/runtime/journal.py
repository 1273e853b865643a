"""An append-only, CRC-checked journal that survives a full disk: the gateway's
record of every order event and fill, and the risk watchdog's of every trigger.
In ``runtime`` because both processes write one (neither imports the other).

The gateway appends a record *before* it acts on it (sends the order, books the
fill), so a gateway killed at any moment loses nothing it acted on; a restart
replays the journal and then reconciles with the venue.

Line format: ``<crc32 of the JSON, 8 hex> <JSON>\\n``. Each record carries ``n``
(1, 2, ... with no gaps) and ``k`` (its kind). One ``os.write`` per record (or per
batch, ``append_many``) on an ``O_APPEND`` descriptor: the write reaches the kernel
at once (nothing is buffered in the process); ``fsync`` then makes it survive a machine crash:

* ``fsync="always"``: after every write (the default for live trading);
* ``fsync="interval"``: at most every ``fsync_interval_s`` (a process kill loses
  nothing; a power cut can lose the last interval). With ``defer_sync`` (the gateway)
  ``append`` never syncs: the owner calls ``sync_due`` after the action left and on
  every loop, and the fsync runs on a thread (``journal_sync``), so no order waits on
  the disk; a failed fsync is reported (``on_error``) by the next ``sync_due`` or
  ``append``, and that ``append`` returns 0;
* ``fsync="never"``: tests and paper trading.

A kill in the middle of a write leaves a torn last line (no newline, or a CRC
that does not match): ``read_journal`` drops it and reports it; opening the
journal for writing truncates it, so the next record starts on a clean line.
A bad line that is not the last one is counted as ``corrupt`` and skipped.

A full or read-only disk never raises out of the journal (``Journal`` says what it
does instead): the gateway must still be able to cancel when it cannot write.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import orjson

from .journal_sync import BackgroundSync

log = logging.getLogger(__name__)

FSYNC_POLICIES = ("always", "interval", "never")
LOG_EVERY_S = 5.0  # journal failures are logged at most this often (with a count)
MIN_FREE_BYTES = 256 * 1024  # less free on the journal's disk: stop before writes fail


@dataclass
class ReplayStats:
    records: int = 0
    torn_tail_bytes: int = 0  # bytes of an incomplete last line (dropped)
    corrupt: int = 0  # bad lines before the last one (skipped)
    gaps: int = 0  # jumps in ``n`` (a record lost in the middle)
    good_bytes: int = 0  # where the torn tail starts (the file size when none)


def encode_line(rec: dict) -> bytes:
    """One journal line of a record (used by compaction to write a journal whole)."""
    body = orjson.dumps(rec)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_line(line: bytes) -> dict | None:
    """A line without its newline -> record, or None if it is damaged."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        rec = orjson.loads(body)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("n"), int) else None


def read_journal(path: str | os.PathLike[str]) -> tuple[list[dict], ReplayStats]:
    """Every intact record in order, and what was dropped. A missing file is empty."""
    st = ReplayStats()
    out: list[dict] = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return out, st
    pos, last_n = 0, 0
    end = len(data)
    while pos < end:
        nl = data.find(b"\n", pos)
        if nl < 0:  # no newline: the last write was cut short
            st.torn_tail_bytes = end - pos
            st.good_bytes = pos
            log.warning("journal %s: torn last line (%d bytes) dropped", path, end - pos)
            break
        rec = decode_line(data[pos:nl])
        if rec is None:
            if nl + 1 >= end:
                # the last line is complete but damaged: a torn write that got its newline
                st.torn_tail_bytes = nl + 1 - pos
                st.good_bytes = pos
                log.warning("journal %s: damaged last line dropped", path)
                break
            st.corrupt += 1
            log.error("journal %s: corrupt line at byte %d skipped", path, pos)
        else:
            if last_n and rec["n"] != last_n + 1:
                st.gaps += 1
            last_n = rec["n"]
            out.append(rec)
            st.records += 1
        pos = nl + 1
    if not st.torn_tail_bytes:
        st.good_bytes = end
    return out, st


class Journal:
    """Open (replaying what is there), then ``append``.

    Failure-aware: an ``OSError`` (ENOSPC, EROFS, EIO, ...) never escapes ``append``,
    ``sync``, ``close`` or the constructor. It is logged (rate-limited), counted
    (``errors``), remembered (``error``, ``errno``) and reported to ``on_error(reason)``;
    ``append`` then returns 0 and the record is not in the file (a partial line is cut
    back). The caller decides: a cancel goes out anyway, an order is not placed. A
    journal that could not be opened retries on the next ``append`` (the disk may
    have been freed); one whose replay could not be read stays closed, since its
    numbering is unknown.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: str = "always",
                 fsync_interval_s: float = 0.05,
                 on_error: Callable[[str], None] | None = None, defer_sync: bool = False) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"journal fsync policy {fsync!r}: one of {FSYNC_POLICIES}")
        self.path = os.fspath(path)
        self.fsync_policy = fsync
        self.fsync_interval_s = fsync_interval_s
        self.on_error = on_error
        self.error = ""  # the last failure, "" while healthy
        self.errno = 0
        self.errors = 0  # failed operations since open
        self._log_at = -math.inf
        self._unlogged = 0
        self._fd = -1
        self._size = 0  # bytes of whole records: a failed write is cut back to this
        self._last_sync = time.monotonic()
        self.defer_sync = defer_sync
        self._bg = BackgroundSync() if defer_sync and fsync == "interval" else None
        self._unsynced = False  # deferred: records written since the last fsync started
        self.appended = 0
        self._readable = True
        self._tail_cut = False
        self._torn = False  # a partial line could not be cut back: end it before the next
        try:
            self.records, self.replay_stats = read_journal(self.path)
        except OSError as e:  # EIO, EACCES: we cannot know what was acted on
            self.records, self.replay_stats = [], ReplayStats()
            self._readable = False
            self._failed("read", e)
        self.n = self.records[-1]["n"] if self.records else 0
        if self._readable:
            self._open()

    @property
    def ok(self) -> bool:
        """Open and the last operation succeeded."""
        return self._fd >= 0 and not self.error

    def _open(self) -> bool:
        try:
            if self.replay_stats.torn_tail_bytes and not self._tail_cut:
                # Cut the torn tail so the next record starts on a clean line.
                with open(self.path, "r+b") as f:
                    f.truncate(self.replay_stats.good_bytes)
                    f.flush()
                    os.fsync(f.fileno())
                self._tail_cut = True
            d = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(d, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._size = os.fstat(self._fd).st_size
        except OSError as e:
            self._failed("open", e)
            return False
        return True

    def _failed(self, what: str, e: OSError) -> None:
        code = errno.errorcode.get(e.errno or 0, "")
        self.errno = e.errno or 0
        # the cause before the path: a kill reason is cut at 128 bytes
        self.error = f"journal {what} {code} [Errno {e.errno}] {e.strerror}: {self.path}"
        self._report()

    def _report(self) -> None:
        self.errors += 1
        now = time.monotonic()
        if now - self._log_at >= LOG_EVERY_S:
            more = f" ({self._unlogged} more failures since the last message)" if self._unlogged else ""
            log.error("%s%s", self.error, more)
            self._log_at, self._unlogged = now, 0
        else:
            self._unlogged += 1
        if self.on_error is not None:
            self.on_error(self.error)

    def append(self, kind: str, **fields: object) -> int:
        """Write one record (``k`` = kind) durably per the policy; returns its ``n``,
        or 0 when it could not be written (or synced): see the class doc."""
        return self.append_many(((kind, fields),))

    def append_many(self, records: Iterable[tuple[str, dict]]) -> int:
        """Write (kind, fields) records in one ``os.write`` (a batch of orders costs
        one system call before it leaves, not one per order); returns the last
        record's ``n``, or 0 when none could be written (or synced). A kill in the
        middle leaves a torn last line, as for one record."""
        if self._fd < 0:
            if not self._readable:
                self._report()  # still the read failure
                return 0
            if not self._open():
                return 0
        if self._bg is not None and not self._collect():
            return 0  # the last fsync failed: what is written may not be durable
        n = self.n
        ts_ns = time.time_ns()
        lines = []
        for kind, fields in records:
            n += 1
            lines.append(encode_line({"n": n, "k": kind, "ts_ns": ts_ns, **fields}))
        if n == self.n:
            return 0  # nothing to write
        line = b"".join(lines) if len(lines) > 1 else lines[0]
        if self._torn:  # the torn line becomes one damaged line, skipped on replay
            line = b"\n" + line
        view = memoryview(line)
        try:
            while view:  # os.write may write less than asked
                w = os.write(self._fd, view)
                view = view[w:]
        except OSError as e:
            self._cut_back()
            self._failed("write", e)
            return 0
        self.n = n
        self._size += len(line)
        if self._torn:
            self._torn = False
            self._size = self._file_size(self._size)
        self.appended += len(lines)
        try:
            if self.fsync_policy == "always":
                os.fsync(self._fd)
            elif self._bg is not None:
                self._unsynced = True  # synced by sync_due, after the action left
            elif self.fsync_policy == "interval":
                now = time.monotonic()
                if now - self._last_sync >= self.fsync_interval_s:
                    os.fsync(self._fd)
                    self._last_sync = now
        except OSError as e:  # written, but maybe not durable: not good enough to act on
            self._failed("fsync", e)
            return 0
        self.error = ""
        return n

    def space_error(self, min_free_bytes: int = MIN_FREE_BYTES) -> str:
        """Why the journal's filesystem cannot take records much longer (read-only, or
        under ``min_free_bytes`` free), else "": a quiet gateway learns of a full disk
        before its next write fails."""
        d = os.path.dirname(os.path.abspath(self.path))
        try:
            st = os.statvfs(d)
        except OSError:
            return ""  # the next write will say what is wrong
        if st.f_flag & os.ST_RDONLY:
            return f"journal EROFS [Errno {errno.EROFS}] read-only filesystem: {d}"
        free = st.f_bavail * st.f_frsize
        if st.f_blocks and free < min_free_bytes:
            return (f"journal ENOSPC [Errno {errno.ENOSPC}] {free} bytes left "
                    f"(< {min_free_bytes}): {d}")
        return ""

    def _cut_back(self) -> None:
        """Drop a partial line so the next record starts on a line of its own."""
        try:
            if os.fstat(self._fd).st_size != self._size:
                os.ftruncate(self._fd, self._size)
        except OSError:
            self._torn = True

    def _file_size(self, default: int) -> int:
        try:
            return os.fstat(self._fd).st_size
        except OSError:
            return default

    def sync_due(self, now: float | None = None) -> None:
        """Deferred sync: start the fsync of what was written when the interval has
        passed since the last one started, and report a failed one (``on_error``)."""
        if self._bg is None:
            return
        self._collect()
        now = time.monotonic() if now is None else now
        due = self._unsynced and self._fd >= 0 and now - self._last_sync >= self.fsync_interval_s
        if due and self._bg.start(self._fd):
            self._unsynced = False
            self._last_sync = now

    def _collect(self) -> bool:
        """False (and reported) when the last background fsync failed."""
        err = self._bg.poll() if self._bg is not None else None
        if err is None:
            return True
        self._failed("fsync", err)
        return False

    def sync(self) -> bool:
        if self._fd < 0:
            return False
        try:
            os.fsync(self._fd)
        except OSError as e:
            self._failed("fsync", e)
            return False
        return True

    def close(self) -> None:
        if self._bg is not None:
            self._bg.wait()  # never close (or reuse) a descriptor being synced
            self._collect()
            self._unsynced = False
        if self._fd >= 0:
            self.sync()
            try:
                os.close(self._fd)
            except OSError as e:
                self._failed("close", e)
            self._fd = -1

    def reopen(self) -> None:
        """Close, then open the file at the same path again and replay what it holds now
        (a compaction rewrote it). The same object: whoever holds it keeps writing here."""
        self.close()
        bg = self._bg  # its thread serves the reopened file too
        self.__init__(self.path, self.fsync_policy, self.fsync_interval_s, self.on_error,  # type: ignore[misc]
                      self.defer_sync)
        if bg is not None:
            self._bg = bg

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records)
