"""Reading Hyperliquid's archive files: compression, times, and which format a file is.

The public archives hold hourly or daily files, each a stream of lines, usually
compressed with the LZ4 *frame* format (magic ``04 22 4D 18``):

* ``hyperliquid-archive/market_data/<YYYYMMDD>/<hour>/l2Book/<COIN>.lz4``: one JSON
  object a line, ``{"time": "<ISO, local receipt, ns>", "ver_num": 1, "raw":
  {"channel": "l2Book", "data": {"coin", "time" (ms), "levels": [bids, asks]}}}``.
* ``hyperliquid-archive/asset_ctxs/<YYYYMMDD>.csv.lz4``: CSV with the header
  ``time,coin,funding,open_interest,prev_day_px,day_ntl_vlm,premium,oracle_px,
  mark_px,mid_px,impact_bid_px,impact_ask_px``, one row per coin and minute.
* ``hl-mainnet-node-data/node_trades/hourly/<date>/<hour>.lz4``: one trade a line,
  ``{"coin", "side" ("B"/"A", the aggressor), "time" (ISO, no zone), "px", "sz",
  "hash", "trade_dir_override", "side_info": [buyer, seller]}``; no trade id.
* ``node_fills/hourly/...``: one fill a line, ``[user, fill]``, the fill in the API's
  ``userFills`` shape (``coin, px, sz, side, time`` (ms), ``crossed``, ``tid``, ...);
  each trade appears twice, once per side.
* ``node_fills_by_block/hourly/...``: one block a line, ``{"local_time",
  "block_time", "block_number", "events": [[user, fill], ...]}``.

Times without a zone are UTC, as the archive writes them.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

import orjson
import pyarrow as pa

LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"
GZIP_MAGIC = b"\x1f\x8b"

# The archive kinds a replay reads (``detect_archive_format``).
L2BOOK = "hl_l2book"
ASSET_CTXS = "hl_asset_ctxs"
NODE_TRADES = "hl_node_trades"
NODE_FILLS = "hl_node_fills"
NODE_FILLS_BY_BLOCK = "hl_node_fills_by_block"
ARCHIVE_FORMATS = (L2BOOK, ASSET_CTXS, NODE_TRADES, NODE_FILLS, NODE_FILLS_BY_BLOCK)

ASSET_CTXS_COLUMNS = ("time", "coin", "funding", "open_interest", "prev_day_px", "day_ntl_vlm",
                      "premium", "oracle_px", "mark_px", "mid_px", "impact_bid_px",
                      "impact_ask_px")

_NS_PER_S = 1_000_000_000
_LZ4_READ_BYTES = 8192  # what a cut file can lose at most, past the last good line
# Non-blank lines looked at to tell the format.
_DETECT_LINES = 8


def open_lines(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The lines of ``path`` (LZ4 frame, gzip or plain), ending newline stripped.

    A stream cut short mid-write raises ``EOFError`` or ``OSError`` at the point it
    ends; the lines before it have been yielded."""
    with open(path, "rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        if magic == LZ4_FRAME_MAGIC:
            # pyarrow's streaming LZ4-frame reader: no extra dependency. Small reads,
            # so that a file cut short still yields the lines before the cut.
            yield from _split_lines(pa.input_stream(raw, compression="lz4"), _LZ4_READ_BYTES)  # type: ignore[arg-type]
            return
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if magic[:2] == GZIP_MAGIC else raw
        for line in stream:
            yield line.rstrip(b"\r\n")


def _split_lines(stream: pa.NativeFile, read_bytes: int) -> Iterator[bytes]:
    tail = b""
    while True:
        block = stream.read(read_bytes)
        if not block:
            break
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        for line in parts:
            yield line.rstrip(b"\r")
    if tail:
        yield tail.rstrip(b"\r")


def write_lz4_lines(path: str | os.PathLike[str], lines: list[bytes]) -> None:
    """Write ``lines`` as the archive does: LZ4 frame, one a line (fixtures, tools)."""
    with pa.CompressedOutputStream(os.fspath(path), "lz4") as out:
        for line in lines:
            out.write(line + b"\n")


_epoch_cache: dict[str, int] = {}


def iso_to_ns(text: str) -> int:
    """``2024-08-05T00:00:05.402514755`` (``T`` or space, optional ``Z``/offset,
    0 to 9 fraction digits; no zone means UTC) -> ns since the epoch. ValueError
    otherwise."""
    s = text.strip()
    zone = ""
    if s.endswith("Z"):
        s = s[:-1]
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        s, zone = s[:-6], s[-6:]
    head, dot, frac = s.partition(".")
    if dot and not (frac.isdigit() and len(frac) <= 9):
        raise ValueError(f"bad fraction of a second in {text!r}")
    key = head + zone
    secs = _epoch_cache.get(key)
    if secs is None:
        dt = datetime.fromisoformat(key)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        secs = int(dt.timestamp())
        if len(_epoch_cache) > 4096:  # one entry per second of a file: keep it small
            _epoch_cache.clear()
        _epoch_cache[key] = secs
    return secs * _NS_PER_S + (int(frac.ljust(9, "0")) if dot else 0)


def detect_archive_format(path: str | os.PathLike[str]) -> str | None:
    """The archive kind of ``path`` (``ARCHIVE_FORMATS``), or None when its first
    lines are not one of them (a websocket capture, say). ValueError when the file
    cannot be read."""
    seen = 0
    try:
        for line in open_lines(path):
            if not line.strip():
                continue
            seen += 1
            if seen > _DETECT_LINES:
                return None
            kind = _line_kind(line)
            if kind is not None:
                return kind
    except (OSError, EOFError) as exc:
        if seen:
            return None
        raise ValueError(f"cannot read {os.fspath(path)!r}: {exc}") from exc
    return None


def _line_kind(line: bytes) -> str | None:
    if line.startswith(b"time,coin,"):
        return ASSET_CTXS
    if not line.startswith((b"{", b"[")):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        if "raw" in obj and "time" in obj and isinstance(obj["raw"], dict):
            return L2BOOK
        if "events" in obj and "block_number" in obj:
            return NODE_FILLS_BY_BLOCK
        if "side_info" in obj and "coin" in obj:
            return NODE_TRADES
    if (isinstance(obj, list) and len(obj) == 2 and isinstance(obj[0], str)
            and isinstance(obj[1], dict) and "tid" in obj[1]):
        return NODE_FILLS
    return None
