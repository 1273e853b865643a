"""Reading a capture file: ``<local receive time, ns> <frame JSON>`` a line.

Both venues' captures share the line format, gzip or plain text; the venue is told
from the first frames (``detect_capture_format``).
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterator
from typing import IO

import orjson

log = logging.getLogger(__name__)

# Lines looked at to tell a Hyperliquid capture from a Binance one.
_DETECT_LINES = 64


def iter_capture(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """Yield ``(recv_ts_ns, frame_json_bytes)`` per non-blank line.

    A line whose timestamp does not parse yields ``(-1, line)`` so that the caller
    counts it as malformed. A receive time earlier than the previous line's is
    raised to it (and logged once), so that the pacing clock never goes backwards.
    """
    last_recv = 0
    warned = False
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
        lines = iter(stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (EOFError, OSError) as exc:
                # A capture cut short mid-write: keep what was read, count the tail.
                log.warning("capture %s ends with a damaged tail: %s", os.fspath(path), exc)
                yield -1, b""
                return
            line = line.strip()
            if not line:
                continue
            ts, sep, body = line.partition(b" ")
            try:
                recv = int(ts)
            except ValueError:
                yield -1, line
                continue
            if not sep or not 0 <= recv < 2**63:
                yield -1, line
                continue
            if recv < last_recv:
                if not warned:
                    log.warning(
                        "capture %s: receive time goes back %d ns; clamped to the previous line's",
                        os.fspath(path),
                        last_recv - recv,
                    )
                    warned = True
                recv = last_recv
            last_recv = recv
            yield recv, body


def bad_line_reason(line_no: int, body: bytes) -> str:
    """The reason ``iter_capture`` yielded ``(-1, body)`` for line ``line_no``."""
    if not body:
        return f"line {line_no}: the capture ends with a damaged (cut) gzip tail"
    return f"line {line_no}: not '<receive time, ns> <frame JSON>': {body[:60]!r}"


def detect_capture_format(path: str | os.PathLike[str]) -> str:
    """``"hyperliquid"`` or ``"binance"`` from the first frames of a capture."""
    n = 0
    try:
        for _, body in iter_capture(path):
            n += 1
            if n > _DETECT_LINES:
                break
            try:
                frame = orjson.loads(body)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(frame, dict):
                continue
            if "channel" in frame:
                return "hyperliquid"
            if "stream" in frame or "lastUpdateId" in frame:
                return "binance"
            if frame.get("e") in ("depthUpdate", "bookTicker", "trade", "aggTrade"):
                return "binance"
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read capture {os.fspath(path)!r}: {exc}") from exc
    raise ValueError(
        f"cannot tell the format of capture {os.fspath(path)!r}: no Hyperliquid "
        f"('channel') or Binance ('stream'/'lastUpdateId') frame in its first "
        f"{_DETECT_LINES} lines"
    )
