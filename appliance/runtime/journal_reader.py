"""Reading a journal for people and JSON tools: every record whose CRC holds, in file
order, and each line that was skipped with where and why.

The journals (``journal.py``: the gateway's orders and fills, the risk watchdog's
triggers, the P&L attribution) are the record of truth; their ``<crc32> <JSON>`` lines
are not JSON a tool can load. ``mmctl journal`` prints ``records`` as JSON lines.
Unlike ``read_journal`` (the gateway's replay), nothing here treats the last line
specially: a reader reports every damaged line, the last one included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from .journal import decode_line


@dataclass(frozen=True)
class SkippedLine:
    line_no: int  # 1-based
    byte_offset: int
    why: str  # "crc or JSON damaged", "no newline (torn write)"


def records(path: str | os.PathLike[str], skipped: list[SkippedLine]) -> Iterator[dict]:
    """The intact records of the journal at ``path``, streamed; each damaged line is
    appended to ``skipped``. OSError (a missing file) is the caller's."""
    offset = 0
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                skipped.append(SkippedLine(line_no, offset, "no newline (torn write)"))
            else:
                rec = decode_line(line[:-1])
                if rec is None:
                    skipped.append(SkippedLine(line_no, offset, "crc or JSON damaged"))
                else:
                    yield rec
            offset += len(line)
