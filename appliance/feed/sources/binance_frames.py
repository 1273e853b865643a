"""Binance frames of the three markets: which market, which kind, and their fields.

The collector's line is ``<local receive time, ns> <frame JSON>`` for every market;
the frames differ:

=============  ==========================  ===========================  ======================
frame          USD-M (``binance_usdm``)    coin-margined (``_cm``)      spot (``binance_spot``)
=============  ==========================  ===========================  ======================
depth diff     ``depth@0ms``: U, u, pu, T  as USD-M, plus ``ps``;       ``depth@100ms``: U, u,
                                           sizes in contracts           E; no ``pu``, no ``T``
bookTicker     e, T, E                     e, T, E, ``ps``; contracts   no ``e``, ``T``, ``E``
trade          T, X (MARKET)               T, X; contracts              T, ``M``; no ``X``
REST snapshot  lastUpdateId, E, T          plus ``symbol``, ``pair``    lastUpdateId only
=============  ==========================  ===========================  ======================

``frame_market`` tells the market from one frame; ``detect_market`` asks the first
frames of a file and requires them to agree. ``frame_kind`` finds the kind from ``e``,
else from the stream name, else from the fields (a raw spot bookTicker has neither).

Exchange time: ``T`` (transaction time), else ``E`` (event time), else, for frames
that carry neither (spot bookTicker, spot REST snapshot), the receive time moved onto
the exchange clock by ``RecvClock``: the collector's clock is not the exchange's (the
spot captures run 1.05 to 1.27 s behind it), so the raw receive time would put these
events a second before the trades around them. Such events are counted in
``stats.recv_timed``.
"""

from __future__ import annotations

import logging
import os

import orjson

from ..events import MalformedFrameError, SourceStats
from .binance_book import coin_sz, parse_int, parse_num, parse_time_ns
from .capture import iter_capture

log = logging.getLogger(__name__)

# Frames looked at to tell the market of a file.
DETECT_FRAMES = 64

KIND_DEPTH = "depthUpdate"
KIND_BOOK_TICKER = "bookTicker"
KIND_TRADE = "trade"
KIND_SNAPSHOT = "snapshot"
_STREAM_KINDS = {"depth": KIND_DEPTH, "bookTicker": KIND_BOOK_TICKER, "trade": KIND_TRADE,
                 "aggTrade": "aggTrade"}


def frame_kind(frame: object) -> tuple[str, dict]:
    """``(kind, data)`` of a Binance frame; kind is ``e`` when the frame has one."""
    if not isinstance(frame, dict):
        raise MalformedFrameError("frame is not a JSON object")
    if "lastUpdateId" in frame:
        return KIND_SNAPSHOT, frame
    stream = frame.get("stream")
    data = frame["data"] if stream is not None else frame
    if not isinstance(data, dict):
        raise MalformedFrameError("frame data is not a JSON object")
    e = data.get("e")
    if e is not None:
        return str(e), data
    if isinstance(stream, str) and "@" in stream:
        channel = stream.split("@")[1]
        kind = _STREAM_KINDS.get(channel)
        if kind is not None:
            return kind, data
        return channel, data
    if {"b", "B", "a", "A"} <= data.keys():
        return KIND_BOOK_TICKER, data
    raise MalformedFrameError("not a Binance frame: no 'e', stream name or bookTicker fields")


def _is_cm(data: dict) -> bool:
    sym = data.get("s") or data.get("symbol") or ""
    return "ps" in data or "pair" in data or str(sym).upper().endswith("_PERP")


def frame_market(frame: object) -> str | None:
    """The market a frame comes from, or None when the frame cannot tell."""
    try:
        kind, d = frame_kind(frame)
    except (MalformedFrameError, KeyError):
        return None
    futures = "binance_cm" if _is_cm(d) else "binance_usdm"
    if kind == KIND_SNAPSHOT:
        return futures if ("T" in d or "pair" in d) else "binance_spot"
    if kind == KIND_DEPTH:
        return futures if "pu" in d else "binance_spot"
    if kind == KIND_BOOK_TICKER:
        return futures if "e" in d else "binance_spot"
    if kind == KIND_TRADE:
        if "X" in d:
            return futures
        return "binance_spot" if "M" in d else None
    return None


def head_frames(path: str | os.PathLike[str], n: int = DETECT_FRAMES) -> list[dict]:
    """The first ``n`` frames of a capture that parse as JSON objects."""
    out: list[dict] = []
    for recv, body in iter_capture(path):
        if recv < 0:
            continue
        try:
            frame = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue
        if isinstance(frame, dict):
            out.append(frame)
        if len(out) >= n:
            break
    return out


def detect_market(path: str | os.PathLike[str]) -> str | None:
    """The Binance market most of the capture's first frames name (a damaged frame
    may name another: logged), or None when none of them tells."""
    votes: dict[str, int] = {}
    for frame in head_frames(path):
        m = frame_market(frame)
        if m is not None:
            votes[m] = votes.get(m, 0) + 1
    if not votes:
        return None
    best = max(votes, key=votes.__getitem__)
    if len(votes) > 1:
        log.warning("%s: its first frames name markets %s; reading it as %s (name it with "
                    "--instrument market=...)", os.fspath(path), votes, best)
    return best


def head_symbols(path: str | os.PathLike[str]) -> list[str]:
    """Symbols named by the capture's first frames, in order of appearance."""
    out: list[str] = []
    for frame in head_frames(path, 4 * DETECT_FRAMES):
        try:
            _, d = frame_kind(frame)
        except (MalformedFrameError, KeyError):
            continue
        sym = d.get("s") or d.get("symbol")
        if isinstance(sym, str) and sym and sym.upper() not in out:
            out.append(sym.upper())
    return out


class RecvClock:
    """Exchange times for frames without one: the receive time plus the offset
    (exchange - receive) of the last frame that had one; before any, the receive time.
    Counts each use in ``stats.recv_timed``."""

    def __init__(self, stats: SourceStats) -> None:
        self.stats = stats
        self.offset_ns = 0

    def seen(self, exch_ns: int, recv: int) -> int:
        """Note a frame with an exchange time; returns it."""
        self.offset_ns = exch_ns - recv
        return exch_ns

    def exch_ns(self, d: dict, recv: int) -> int:
        """``T``, else ``E``, else the receive time on the exchange clock."""
        t = d.get("T") or d.get("E")
        if t is not None:
            return self.seen(parse_time_ns(t), recv)
        self.stats.recv_timed += 1
        return max(0, recv + self.offset_ns)


def trade_fields(d: dict, contract_usd: float) -> tuple[float, float, int, int]:
    """``(px, sz in coin, aggressor side, trade id)`` of a trade or aggTrade frame."""
    px = parse_num(d["p"])
    sz = coin_sz(parse_num(d["q"]), px, contract_usd)
    m = d["m"]
    if not isinstance(m, bool):
        raise MalformedFrameError(f"bad maker flag {m!r}")
    tid = parse_int(d["t"] if "t" in d else d["a"])
    # m: the buyer was the maker, so the aggressor sold
    return px, sz, -1 if m else 1, tid
