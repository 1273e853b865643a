"""Replay of Hyperliquid's archive files: hourly ``l2Book`` snapshots, daily
``asset_ctxs``, and the node's ``node_trades`` / ``node_fills`` / ``node_fills_by_block``.

Formats and detection are in ``hl_archive_io``. What each becomes:

* ``l2Book``: one EV_BOOK per snapshot (20 levels a side with order counts); the
  receive time is the line's outer ``time``, the venue time ``raw.data.time``. The
  ``raw`` frame is the websocket's, decoded by the live decoder (``HlDecoder``).
* ``asset_ctxs``: one EV_ASSET_CTX per row: ``mark_px``, ``open_interest`` (coin),
  ``funding`` (the hourly rate, as Hyperliquid quotes it), ``oracle_px``; the row's
  minute is both clocks.
* ``node_trades``: one EV_TRADE per line; the aggressor is ``side``; the file has no
  trade id, so the line number stands in for it.
* ``node_fills`` / ``node_fills_by_block``: each trade is two fills, one per side;
  the taker's (``crossed``) becomes the EV_TRADE with its side and ``tid``, the
  maker's is counted in ``merged``. A block's ``local_time`` is the receive time.

Counted per pass (``SourceStats``): lines, events, malformed (first reasons with the
line), skipped (other coins, other channels), gaps (a coin's books or contexts
further apart than ``GAP_NS`` of its format, or a block number going back), stale
trades (older than the coin's newest event) and repeated trade ids.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from shm_layout.constants import FLAG_BOOK_GAP

from ..events import DEFAULT_CHUNK_EVENTS, EventWriter, MalformedFrameError, SourceStats, check_max_events
from ..hyperliquid_ws.decode import HlDecoder
from ..hyperliquid_ws.decode_fields import _L2_PREFIX, _int63, _levels, _num, _px, _side, _sz, _time_ms
from .base import ReplayOptions, check_coins
from .hl_archive_io import (
    ASSET_CTXS,
    ASSET_CTXS_COLUMNS,
    L2BOOK,
    NODE_FILLS,
    NODE_FILLS_BY_BLOCK,
    NODE_TRADES,
    iso_to_ns,
    open_lines,
)
from .instruments import Instrument, instrument_for

_MS = 1_000_000
# A coin's books (snapshots every ~0.5-5 s) or contexts (one a minute) further apart
# than this are a gap in the archive; trades have none (a quiet coin is not a gap).
GAP_NS = {L2BOOK: 60 * 1_000_000_000, ASSET_CTXS: 180 * 1_000_000_000}
_BAD = (ValueError, KeyError, TypeError, AttributeError, IndexError, orjson.JSONDecodeError)
# Lines read to name the coins of a file: an l2Book file holds one coin; in the
# whole-venue files every coin shows up early (asset_ctxs: the first minute's rows;
# fills: all but the quietest coins within the first 20,000).
HEAD_LINES = {L2BOOK: 64}
HEAD_LINES_MULTI = 20_000
_TID_MEMORY = 200_000  # trade ids remembered for de-duplication


class HlArchiveSource:
    """A finite MarketSource over one Hyperliquid archive file of kind ``fmt``."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str], fmt: str,
                 options: ReplayOptions | None = None) -> None:
        if fmt not in _HANDLERS:
            raise ValueError(f"unknown Hyperliquid archive format {fmt!r}")
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.fmt = fmt
        self.options = options or ReplayOptions()
        self.name = f"replay:{fmt}:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        self.instrument: Instrument | None = instrument_for(
            "hyperliquid", self.coins[0], self.coins[0], self.options.instrument)

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        st = self.stats
        st.reset()
        w = EventWriter(max_events, st)
        pass_ = _Pass(self.coins, w, st, GAP_NS.get(self.fmt, 0))
        handle = _HANDLERS[self.fmt]
        lines = open_lines(self.path)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                break
            except (EOFError, OSError) as exc:
                st.lines += 1
                st.malformed_line(f"line {st.lines}: the file ends with a damaged "
                                  f"(cut) compressed tail: {exc}")
                break
            if not line.strip():
                continue
            st.lines += 1
            try:
                handle(pass_, line)
            except (*_BAD, MalformedFrameError) as exc:
                st.malformed_line(f"line {st.lines}: {self.fmt} line did not parse "
                                  f"({type(exc).__name__}: {exc}): {line[:80]!r}")
            if w.ready:
                yield from w.take_ready()
        yield from w.flush()


class _Pass:
    """The state of one pass: coin indices, clocks, gap and de-duplication memory."""

    def __init__(self, coins: tuple[str, ...], w: EventWriter, st: SourceStats, gap_ns: int) -> None:
        self.index = {c: i for i, c in enumerate(coins)}
        self.w = w
        self.st = st
        self.gap_ns = gap_ns
        self.last_ns = np.zeros(len(coins), np.int64)  # newest venue time emitted, per coin
        self.last_recv = 0
        self.header: dict[str, int] | None = None  # asset_ctxs column positions
        self.seen_tids: dict[int, None] = {}  # insertion-ordered: the oldest go first
        self.last_block = -1
        # the live decoder, for l2Book frames (its fast scanner; the same fields)
        self.dec = HlDecoder(coins, w, None, st)

    def coin(self, name: object) -> int | None:
        ci = self.index.get(name)  # type: ignore[arg-type]
        if ci is None:
            self.st.skipped += 1
        return ci

    def recv(self, ns: int) -> int:
        """A receive clock that never goes back (the pacing clock)."""
        if ns < self.last_recv:
            ns = self.last_recv
        self.last_recv = ns
        return ns

    def gap_flag(self, ci: int, ts: int) -> int:
        """FLAG_BOOK_GAP (and a counted gap) when coin ``ci`` was silent too long."""
        last = int(self.last_ns[ci])
        if self.gap_ns and last and ts - last > self.gap_ns:
            self.st.gaps += 1
            return FLAG_BOOK_GAP
        return 0

    def trade(self, ci: int, ts: int, recv: int, px: float, sz: float, side: int, tid: int) -> None:
        st = self.st
        if tid in self.seen_tids:
            st.skipped += 1
            return
        if ts < self.last_ns[ci]:
            st.stale_trades += 1
            return
        self.seen_tids[tid] = None
        if len(self.seen_tids) > _TID_MEMORY:
            del self.seen_tids[next(iter(self.seen_tids))]
        self.w.trade(ci, ts, recv, 0, px, sz, side, tid)
        self.last_ns[ci] = ts


_RECV_TIME = re.compile(rb'^\{\s*"time"\s*:\s*"([^"]+)"')
_RAW_KEY = b'"raw":'


def _l2book(p: _Pass, line: bytes) -> None:
    """The usual line (``time`` first, ``raw`` last, compact JSON): the raw frame goes to
    the live decoder's fast book scanner; anything else is parsed in full."""
    m = _RECV_TIME.match(line)
    i = line.rfind(_RAW_KEY)
    end = line.rstrip().rfind(b"}")
    if m is None or i < 0 or end < 0:
        _l2book_parsed(p, line)
        return
    raw = line[i + len(_RAW_KEY) : end].strip()
    if not raw.startswith(_L2_PREFIX):
        _l2book_parsed(p, line)
        return
    st = p.st
    recv = p.recv(iso_to_ns(m.group(1).decode()))
    malformed, events = st.malformed, st.events
    p.dec.feed(raw, recv)
    if st.malformed > malformed:
        st.malformed = malformed  # counted once, with its reason, by the caller:
        _l2book_parsed(p, line)  # the full parse names what is wrong (and raises)
        return
    if st.events > events:
        rec = p.w._arr[p.w.n - 1] if p.w.n else p.w.ready[-1][-1]
        ci, ts = int(rec["coin"]), int(rec["exch_ts_ns"])
        rec["flags"] |= p.gap_flag(ci, ts)
        if ts > p.last_ns[ci]:
            p.last_ns[ci] = ts


def _l2book_parsed(p: _Pass, line: bytes) -> None:
    obj = orjson.loads(line)
    raw = obj["raw"]
    if raw.get("channel") != "l2Book":
        p.st.skipped += 1
        return
    data = raw["data"]
    recv = p.recv(iso_to_ns(obj["time"]))
    ts = _time_ms(data["time"]) * _MS
    levels = data["levels"]
    if not isinstance(levels, list) or len(levels) != 2:
        raise MalformedFrameError("levels is not [bids, asks]")
    bpx, bsz, bn = _levels(levels[0])
    apx, asz, an = _levels(levels[1])
    ci = p.coin(data["coin"])
    if ci is None:
        return
    flags = p.gap_flag(ci, ts)
    p.w.book(ci, ts, recv, flags, bpx, bsz, apx, asz, bn, an)
    if ts > p.last_ns[ci]:
        p.last_ns[ci] = ts


def _asset_ctx(p: _Pass, line: bytes) -> None:
    cells = line.decode().split(",")
    if p.header is None:
        names = [c.strip() for c in cells]
        missing = [c for c in ("time", "coin", "funding", "open_interest", "oracle_px", "mark_px")
                   if c not in names]
        if missing:
            raise MalformedFrameError(f"asset_ctxs header lacks {missing}; expected "
                                      f"{','.join(ASSET_CTXS_COLUMNS)}")
        p.header = {n: i for i, n in enumerate(names)}
        p.st.skipped += 1  # the header is read, not replayed
        return
    h = p.header
    if len(cells) != len(h):
        raise MalformedFrameError(f"{len(cells)} cells, the header has {len(h)}")
    ci = p.coin(cells[h["coin"]])
    if ci is None:
        return
    ts = iso_to_ns(cells[h["time"]])
    mark = _px(cells[h["mark_px"]])
    oi = _sz(cells[h["open_interest"]])
    funding = _num(cells[h["funding"]])
    oracle = _px(cells[h["oracle_px"]])
    flags = p.gap_flag(ci, ts)
    p.w.asset_ctx(ci, ts, p.recv(ts), flags, mark, oi, funding, oracle)
    if ts > p.last_ns[ci]:
        p.last_ns[ci] = ts


def _node_trade(p: _Pass, line: bytes) -> None:
    t = orjson.loads(line)
    side = _side(t["side"])
    ts = iso_to_ns(t["time"])
    px, sz = _px(t["px"]), _sz(t["sz"])
    if len(t["side_info"]) != 2:
        raise MalformedFrameError("side_info is not [buyer, seller]")
    ci = p.coin(t["coin"])
    if ci is None:
        return
    # No trade id in node_trades: the line number is unique within the file.
    p.trade(ci, ts, p.recv(ts), px, sz, side, p.st.lines)


def _fill(p: _Pass, item: object, recv: int | None) -> None:
    if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], dict):
        raise MalformedFrameError("a fill is not [user, fill]")
    f = item[1]
    side = _side(f["side"])
    ts = _time_ms(f["time"]) * _MS
    px, sz = _px(f["px"]), _sz(f["sz"])
    tid = _int63(f["tid"], "tid")
    crossed = f["crossed"]
    ci = p.coin(f["coin"])
    if ci is None:
        return
    if not crossed:
        p.st.merged += 1  # the maker's leg of a trade its taker's fill carries
        return
    p.trade(ci, ts, p.recv(ts if recv is None else recv), px, sz, side, tid)


def _node_fill(p: _Pass, line: bytes) -> None:
    _fill(p, orjson.loads(line), None)


def _node_fills_block(p: _Pass, line: bytes) -> None:
    b = orjson.loads(line)
    block = _int63(b["block_number"], "block_number")
    recv = iso_to_ns(b["local_time"])
    events = b["events"]
    if not isinstance(events, list):
        raise MalformedFrameError("events is not a list")
    if block <= p.last_block:
        p.st.gaps += 1  # blocks out of order or repeated: the file was spliced
    p.last_block = block
    bad = 0
    first = ""
    for item in events:
        try:
            _fill(p, item, recv)
        except (*_BAD, MalformedFrameError) as exc:
            bad += 1
            first = f"first: {type(exc).__name__}: {exc}" if bad == 1 else first
    if bad:
        # One malformed line (shares stay per line); the good fills of it are kept.
        raise MalformedFrameError(f"{bad} of {len(events)} fills did not parse ({first})")


_HANDLERS = {
    L2BOOK: _l2book,
    ASSET_CTXS: _asset_ctx,
    NODE_TRADES: _node_trade,
    NODE_FILLS: _node_fill,
    NODE_FILLS_BY_BLOCK: _node_fills_block,
}


def archive_coins(path: str | os.PathLike[str], fmt: str) -> list[str]:
    """Coins named in the first lines of an archive file (``HEAD_LINES``), in order of
    appearance (an ``l2Book`` file holds one; the others every coin of the venue)."""
    out: list[str] = []
    n = 0
    limit = HEAD_LINES.get(fmt, HEAD_LINES_MULTI)
    try:
        for line in open_lines(path):
            n += 1
            if n > limit:
                break
            for c in _line_coins(line, fmt):
                if c not in out:
                    out.append(c)
    except (EOFError, OSError):
        pass
    return out


def _line_coins(line: bytes, fmt: str) -> list[str]:
    try:
        if fmt == ASSET_CTXS:
            cells = line.decode().split(",")
            return [] if cells[0] == "time" or len(cells) < 2 else [cells[1]]
        obj = orjson.loads(line)
        if fmt == L2BOOK:
            return [obj["raw"]["data"]["coin"]]
        if fmt == NODE_TRADES:
            return [obj["coin"]]
        if fmt == NODE_FILLS:
            return [obj[1]["coin"]]
        return [e[1]["coin"] for e in obj["events"]]
    except (*_BAD, UnicodeDecodeError):
        return []
