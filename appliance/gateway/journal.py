"""An append-only journal of every order event and fill.

The gateway appends a record *before* it acts on it (sends the order, books the
fill), so a gateway killed at any moment loses nothing it acted on; a restart
replays the journal and then reconciles with the venue.

Line format: ``<crc32 of the JSON, 8 hex> <JSON>\\n``. Each record carries ``n``
(1, 2, ... with no gaps) and ``k`` (its kind). One ``os.write`` per record on an
``O_APPEND`` descriptor: the write reaches the kernel at once (nothing is
buffered in the process); ``fsync`` then makes it survive a machine crash:

* ``fsync="always"``: after every record (the default for live trading);
* ``fsync="interval"``: at most every ``fsync_interval_s`` (a process kill loses
  nothing; a power cut can lose the last interval);
* ``fsync="never"``: tests and paper trading.

A kill in the middle of a write leaves a torn last line (no newline, or a CRC
that does not match): ``read_journal`` drops it and reports it; opening the
journal for writing truncates it, so the next record starts on a clean line.
A bad line that is not the last one is counted as ``corrupt`` and skipped.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

log = logging.getLogger(__name__)

FSYNC_POLICIES = ("always", "interval", "never")


@dataclass
class ReplayStats:
    records: int = 0
    torn_tail_bytes: int = 0  # bytes of an incomplete last line (dropped)
    corrupt: int = 0  # bad lines before the last one (skipped)
    gaps: int = 0  # jumps in ``n`` (a record lost in the middle)
    good_bytes: int = 0  # where the torn tail starts (the file size when none)


def _encode(rec: dict) -> bytes:
    body = orjson.dumps(rec)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode(line: bytes) -> dict | None:
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
    except FileNotFoundError:
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
        rec = _decode(data[pos:nl])
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
    """Open (replaying what is there), then ``append``."""

    def __init__(self, path: str | os.PathLike[str], fsync: str = "always",
                 fsync_interval_s: float = 0.05) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"journal fsync policy {fsync!r}: one of {FSYNC_POLICIES}")
        self.path = os.fspath(path)
        self.fsync_policy = fsync
        self.fsync_interval_s = fsync_interval_s
        self.records, self.replay_stats = read_journal(self.path)
        if self.replay_stats.torn_tail_bytes:
            # Cut the torn tail so the next record starts on a clean line.
            with open(self.path, "r+b") as f:
                f.truncate(self.replay_stats.good_bytes)
                f.flush()
                os.fsync(f.fileno())
        self.n = self.records[-1]["n"] if self.records else 0
        d = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(d, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._last_sync = time.monotonic()
        self.appended = 0

    def append(self, kind: str, **fields: object) -> int:
        """Write one record (``k`` = kind) durably per the policy; returns its ``n``."""
        self.n += 1
        rec = {"n": self.n, "k": kind, "ts_ns": time.time_ns(), **fields}
        line = _encode(rec)
        view = memoryview(line)
        while view:  # os.write may write less than asked
            w = os.write(self._fd, view)
            view = view[w:]
        self.appended += 1
        if self.fsync_policy == "always":
            os.fsync(self._fd)
        elif self.fsync_policy == "interval":
            now = time.monotonic()
            if now - self._last_sync >= self.fsync_interval_s:
                os.fsync(self._fd)
                self._last_sync = now
        return self.n

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records)
