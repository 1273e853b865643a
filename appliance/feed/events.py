"""MD_EVENT chunks: how the feed's producers write them and what they count.

Every producer of normalized market events (the capture replays, the synthetic
markets, the live websocket decoder) writes ``shm_layout.records.MD_EVENT`` records
through ``EventWriter`` and counts what it read in ``SourceStats`` (``source_stats``);
the array helpers keep the records byte-identical (padding included). Both ``sources/`` and
``hyperliquid_ws/`` build on this module, which imports neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT

from .source_stats import SourceStats

__all__ = [
    "DEFAULT_CHUNK_EVENTS",
    "EventWriter",
    "MalformedFrameError",
    "SourceStats",
    "check_max_events",
    "concat_events",
    "rechunk",
    "take_events",
]

DEFAULT_CHUNK_EVENTS = 1024


class MalformedFrameError(ValueError):
    """A frame, or an item of one, that does not have the expected shape."""


def check_max_events(max_events: int) -> int:
    if int(max_events) < 1:
        raise ValueError(f"max_events must be >= 1, got {max_events}")
    return int(max_events)


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
        self._bid_px = a["lv"]["bid_px"]
        self._bid_sz = a["lv"]["bid_sz"]
        self._ask_px = a["lv"]["ask_px"]
        self._ask_sz = a["lv"]["ask_sz"]
        self._bid_n = a["lv"]["bid_n"]
        self._ask_n = a["lv"]["ask_n"]

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
