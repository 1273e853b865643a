"""The feed's market-source seam.

A market source turns a market (a recorded capture or a generator) into chunks of
normalized events: numpy arrays of ``shm_layout.records.MD_EVENT``, in time order.
The feed process copies them into the md ring and stamps ``seq`` and ``pub_mono_ns``;
a source leaves both 0. The backtester reads the same chunks without a ring.

Capture line format (both venues): ``<local receive time, ns> <frame JSON>``, one
frame a line, gzip or plain text. ``open_source`` detects the venue from the frames.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Protocol, runtime_checkable

import numpy as np
import orjson

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE, MAX_COINS
from shm_layout.records import MD_EVENT

log = logging.getLogger(__name__)

DEFAULT_CHUNK_EVENTS = 1024

# Lines looked at to tell a Hyperliquid capture from a Binance one.
_DETECT_LINES = 64


class MalformedFrameError(ValueError):
    """A frame, or an item of one, that does not have the expected shape."""


@dataclass
class SourceStats:
    """Counters of one pass over a source (reset when ``chunks()`` starts)."""

    lines: int = 0  # capture lines read (blank lines excluded)
    events: int = 0  # MD_EVENT records emitted
    malformed: int = 0  # lines or items dropped because they did not parse
    skipped: int = 0  # well-formed but unused: other coins, other channels, old diffs
    gaps: int = 0  # book continuity breaks detected
    stale_trades: int = 0  # trades older than the newest event time already emitted

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@runtime_checkable
class MarketSource(Protocol):
    """Anything the feed can publish from.

    ``chunks`` yields MD_EVENT arrays of at most ``max_events`` records, in time
    order (``recv_ts_ns`` non-decreasing, the pacing clock). Replays are finite;
    synthetic markets are infinite. Each call starts a fresh pass from the
    beginning and resets ``stats``.
    """

    coins: tuple[str, ...]
    stats: SourceStats
    name: str

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]: ...


# --- helpers shared by the sources ----------------------------------------------


def check_coins(coins: Sequence[str]) -> tuple[str, ...]:
    """Validate the configured coin list; its order gives the ``coin`` index."""
    if isinstance(coins, str):
        raise ValueError(f"coins must be a sequence of names, not the string {coins!r}")
    out = tuple(str(c) for c in coins)
    if not out:
        raise ValueError("at least one coin must be configured")
    if len(out) > MAX_COINS:
        raise ValueError(f"{len(out)} coins configured; the layout holds at most {MAX_COINS}")
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate coins in {out}")
    return out


def check_max_events(max_events: int) -> int:
    if int(max_events) < 1:
        raise ValueError(f"max_events must be >= 1, got {max_events}")
    return int(max_events)


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


_MD_RAW = np.dtype((np.void, MD_EVENT.itemsize))


def concat_events(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate MD_EVENT arrays byte for byte.

    ``np.concatenate`` of padded records drops the trailing padding (880-byte items),
    and with ``dtype=MD_EVENT`` leaves the padding uninitialized; copying them as raw
    896-byte items keeps every byte, so equal streams stay byte-identical.
    """
    if not arrays:
        return np.zeros(0, dtype=MD_EVENT)
    for a in arrays:
        if a.dtype != MD_EVENT:
            raise ValueError(f"expected MD_EVENT records, got dtype {a.dtype}")
    return np.concatenate([np.ascontiguousarray(a).view(_MD_RAW) for a in arrays]).view(MD_EVENT)


def take_events(ev: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``ev[index]`` (integer or boolean index) byte for byte, padding included."""
    return np.ascontiguousarray(ev).view(_MD_RAW)[index].view(MD_EVENT)


def rechunk(blocks: Iterable[np.ndarray], max_events: int, stats: SourceStats) -> Iterator[np.ndarray]:
    """Cut a stream of MD_EVENT blocks of any sizes into chunks of exactly
    ``max_events`` (the last one shorter), counting them into ``stats.events``."""
    pending: list[np.ndarray] = []  # blocks not yet cut into chunks
    n_pending = 0
    for block in blocks:
        if not len(block):
            continue
        pending.append(block)
        n_pending += len(block)
        if n_pending < max_events:
            continue
        buf = concat_events(pending) if len(pending) > 1 else pending[0]
        n_full = n_pending // max_events * max_events
        for i in range(0, n_full, max_events):
            stats.events += max_events
            yield buf[i : i + max_events]
        pending = [buf[n_full:]]
        n_pending = len(pending[0])
    if n_pending:
        tail = concat_events(pending) if len(pending) > 1 else pending[0]
        stats.events += len(tail)
        yield tail


class EventWriter:
    """Fills MD_EVENT chunks of ``max_events`` records, one event at a time.

    Full chunks move to ``ready``; the source yields them after each input line.
    Field views are bound once per chunk so a write costs a scalar store, not a
    field lookup.
    """

    def __init__(self, max_events: int, stats: SourceStats) -> None:
        self.max_events = check_max_events(max_events)
        self.stats = stats
        self.ready: list[np.ndarray] = []
        self._alloc()

    def _alloc(self) -> None:
        a = np.zeros(self.max_events, dtype=MD_EVENT)
        self._arr = a
        self.n = 0
        self._kind = a["kind"]
        self._coin = a["coin"]
        self._side = a["side"]
        self._n_bids = a["n_bids"]
        self._n_asks = a["n_asks"]
        self._flags = a["flags"]
        self._exch = a["exch_ts_ns"]
        self._recv = a["recv_ts_ns"]
        self._trade_id = a["trade_id"]
        self._px = a["px"]
        self._sz = a["sz"]
        self._bid_px = a["bid_px"]
        self._bid_sz = a["bid_sz"]
        self._ask_px = a["ask_px"]
        self._ask_sz = a["ask_sz"]
        self._bid_n = a["bid_n"]
        self._ask_n = a["ask_n"]

    def _head(self, kind: int, coin: int, exch_ts_ns: int, recv_ts_ns: int, flags: int) -> int:
        i = self.n
        self._kind[i] = kind
        self._coin[i] = coin
        self._exch[i] = exch_ts_ns
        self._recv[i] = recv_ts_ns
        self._flags[i] = flags
        return i

    def _advance(self) -> None:
        self.n += 1
        self.stats.events += 1
        if self.n == self.max_events:
            self.ready.append(self._arr)
            self._alloc()

    def book(
        self,
        coin: int,
        exch_ts_ns: int,
        recv_ts_ns: int,
        flags: int,
        bid_px: Sequence[float],
        bid_sz: Sequence[float],
        ask_px: Sequence[float],
        ask_sz: Sequence[float],
        bid_n: Sequence[int] | None = None,
        ask_n: Sequence[int] | None = None,
    ) -> None:
        """A top-of-book snapshot; levels beyond BOOK_DEPTH must be cut by the caller."""
        i = self._head(EV_BOOK, coin, exch_ts_ns, recv_ts_ns, flags)
        nb = len(bid_px)
        na = len(ask_px)
        self._n_bids[i] = nb
        self._n_asks[i] = na
        if nb:
            self._bid_px[i, :nb] = bid_px
            self._bid_sz[i, :nb] = bid_sz
            if bid_n is not None:
                self._bid_n[i, :nb] = bid_n
        if na:
            self._ask_px[i, :na] = ask_px
            self._ask_sz[i, :na] = ask_sz
            if ask_n is not None:
                self._ask_n[i, :na] = ask_n
        self._advance()

    def trade(
        self,
        coin: int,
        exch_ts_ns: int,
        recv_ts_ns: int,
        flags: int,
        px: float,
        sz: float,
        side: int,
        trade_id: int,
    ) -> None:
        i = self._head(EV_TRADE, coin, exch_ts_ns, recv_ts_ns, flags)
        self._px[i] = px
        self._sz[i] = sz
        self._side[i] = side
        self._trade_id[i] = trade_id
        self._advance()

    def bbo(
        self,
        coin: int,
        exch_ts_ns: int,
        recv_ts_ns: int,
        flags: int,
        bid_px: float,
        bid_sz: float,
        ask_px: float,
        ask_sz: float,
    ) -> None:
        i = self._head(EV_BBO, coin, exch_ts_ns, recv_ts_ns, flags)
        self._n_bids[i] = 1
        self._n_asks[i] = 1
        self._bid_px[i, 0] = bid_px
        self._bid_sz[i, 0] = bid_sz
        self._ask_px[i, 0] = ask_px
        self._ask_sz[i, 0] = ask_sz
        self._advance()

    def asset_ctx(
        self,
        coin: int,
        exch_ts_ns: int,
        recv_ts_ns: int,
        flags: int,
        mark_px: float,
        open_interest_sz: float,
        funding_rate_per_h: float,
        oracle_px: float,
    ) -> None:
        """Mark, open interest, hourly funding and oracle (EV_ASSET_CTX)."""
        i = self._head(EV_ASSET_CTX, coin, exch_ts_ns, recv_ts_ns, flags)
        self._px[i] = mark_px
        self._sz[i] = open_interest_sz
        self._arr["aux0"][i] = funding_rate_per_h
        self._arr["aux1"][i] = oracle_px
        self._advance()

    def take_ready(self) -> list[np.ndarray]:
        out = self.ready
        self.ready = []
        return out

    def flush(self) -> list[np.ndarray]:
        """Every remaining record: the full chunks, then the partial one."""
        out = self.take_ready()
        if self.n:
            out.append(self._arr[: self.n])
            self._alloc()
        return out


def open_source(
    spec: str, coins: Sequence[str], seed: int = 0, **synthetic_kw: object
) -> MarketSource:
    """Build a source from a spec string.

    * ``replay:PATH`` – a recorded capture, gzip or plain; the venue (Hyperliquid or
      Binance USD-M) is detected from its frames.
    * ``synthetic`` or ``synthetic:walk`` – the seeded random-walk market;
      ``seed`` and ``synthetic_kw`` (see ``SyntheticWalkSource``) configure it.
    * ``synthetic:SCENARIO`` – a finite scenario market (``quiet``, ``trend_selloff``,
      ``liquidation_cascade``, ``funding_spike``, ``toxic_burst``); ``synthetic_kw``
      as ``ScenarioSource`` takes them (``duration_s``, ...).
    * ``replay:FILE.parquet`` – normalized events stored by ``mmctl data`` (detected
      by the extension or the Parquet magic).

    ``seed`` and ``synthetic_kw`` are ignored by replays. Raises ``ValueError`` for
    an unknown spec, a missing or unreadable file, or an unknown format.
    """
    # Imported here: the concrete sources import this module.
    from .binance_replay import BinanceReplaySource
    from .hyperliquid_replay import HyperliquidReplaySource
    from .synthetic_walk import SyntheticWalkSource

    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty market source spec {spec!r}")
    spec = spec.strip()
    kind, _, arg = spec.partition(":")
    if kind == "synthetic":
        try:
            if arg in ("", "walk"):
                return SyntheticWalkSource(coins, seed=seed, **synthetic_kw)  # type: ignore[arg-type]
            from .synthetic import ScenarioSource

            return ScenarioSource(coins, arg, seed=seed, **synthetic_kw)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ValueError(f"bad option for {spec!r}: {exc}") from exc
    if kind == "replay":
        if not arg:
            raise ValueError(f"missing path in {spec!r}; expected 'replay:PATH'")
        path = os.path.expanduser(arg)
        if not os.path.isfile(path):
            raise ValueError(f"replay capture not found: {path!r} (from {spec!r})")
        from .parquet_store import ParquetReplaySource, is_parquet

        if is_parquet(path):
            return ParquetReplaySource(path, coins)
        fmt = detect_capture_format(path)
        if fmt == "hyperliquid":
            return HyperliquidReplaySource(path, coins)
        return BinanceReplaySource(path, coins)
    raise ValueError(
        f"unknown market source spec {spec!r}; expected 'replay:PATH', 'synthetic', "
        "'synthetic:walk' or 'synthetic:SCENARIO'"
    )
