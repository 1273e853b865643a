"""Replay of a capture of Hyperliquid websocket frames.

Line format: ``<local receive time, ns> <frame JSON>``. Channels used:

* ``l2Book``: ``{"coin", "time" (ms), "levels": [bids, asks]}``, each level
  ``{"px": str, "sz": str, "n": int}``, best first, 20 a side -> one EV_BOOK.
* ``trades``: a list of ``{"coin", "side" ("B" buyer aggressor / "A"), "px", "sz",
  "time" (ms), "tid", ...}`` -> one EV_TRADE per trade.
* ``bbo``: ``{"coin", "time", "bbo": [bid level or null, ask level or null]}`` -> EV_BBO.

Other channels (subscription responses, pongs) are counted as ``skipped``.

The first ``trades`` frame after a subscription replays older trades. Trades older
than the newest event time already emitted for their coin are dropped and counted
in ``stale_trades``, so the venue clock of a coin never moves backwards through a
trade; trades are also de-duplicated by ``tid``.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from shm_layout.constants import BOOK_DEPTH

from .base import (
    DEFAULT_CHUNK_EVENTS,
    EventWriter,
    MalformedFrameError,
    SourceStats,
    check_coins,
    check_max_events,
    iter_capture,
)

_MS = 1_000_000
_MAX_MS = (2**63 - 1) // _MS

# How many recent trade ids are remembered for de-duplication.
TID_MEMORY = 100_000


def _px(v: object) -> float:
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x) or x <= 0.0:
        raise MalformedFrameError(f"bad price {v!r}")
    return x


def _sz(v: object) -> float:
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x) or x < 0.0:
        raise MalformedFrameError(f"bad size {v!r}")
    return x


def _time_ns(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 < v < _MAX_MS:
        raise MalformedFrameError(f"bad time {v!r}")
    return v * _MS


def _levels(side: object) -> tuple[list[float], list[float], list[int]]:
    if not isinstance(side, list):
        raise MalformedFrameError("levels side is not a list")
    pxs: list[float] = []
    szs: list[float] = []
    ns: list[int] = []
    for lv in side[:BOOK_DEPTH]:
        pxs.append(_px(lv["px"]))
        szs.append(_sz(lv["sz"]))
        n = lv.get("n", 0)
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 2**31:
            raise MalformedFrameError(f"bad order count {n!r}")
        ns.append(n)
    return pxs, szs, ns


class HyperliquidReplaySource:
    """A finite MarketSource over a Hyperliquid websocket capture."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str]) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.name = f"replay:hyperliquid:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        self._coin_index = {c: i for i, c in enumerate(self.coins)}

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        self.stats = st = SourceStats()
        w = EventWriter(max_events, st)
        last_ts = [0] * len(self.coins)  # newest venue time emitted, per coin
        seen_tids: set[int] = set()
        tid_order: deque[int] = deque()
        loads = orjson.loads
        for recv, body in iter_capture(self.path):
            st.lines += 1
            if recv < 0:
                st.malformed += 1
                continue
            try:
                frame = loads(body)
                channel = frame["channel"]
                data = frame.get("data")  # absent from control frames such as pong
            except (ValueError, KeyError, TypeError):
                st.malformed += 1
                continue
            if channel == "trades":
                self._trades(w, data, recv, last_ts, seen_tids, tid_order)
            elif channel == "l2Book":
                self._book(w, data, recv, last_ts)
            elif channel == "bbo":
                self._bbo(w, data, recv, last_ts)
            else:
                st.skipped += 1
            if w.ready:
                yield from w.take_ready()
        yield from w.flush()

    # --- channels ------------------------------------------------------------------

    def _book(self, w: EventWriter, data: object, recv: int, last_ts: list[int]) -> None:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ns(data["time"])  # type: ignore[index]
            levels = data["levels"]  # type: ignore[index]
            if not isinstance(levels, list) or len(levels) != 2:
                raise MalformedFrameError("levels is not [bids, asks]")
            bpx, bsz, bn = _levels(levels[0])
            apx, asz, an = _levels(levels[1])
        except (ValueError, KeyError, TypeError, AttributeError):
            st.malformed += 1
            return
        ci = self._coin_index.get(coin)
        if ci is None:
            st.skipped += 1
            return
        w.book(ci, ts, recv, 0, bpx, bsz, apx, asz, bn, an)
        if ts > last_ts[ci]:
            last_ts[ci] = ts

    def _bbo(self, w: EventWriter, data: object, recv: int, last_ts: list[int]) -> None:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ns(data["time"])  # type: ignore[index]
            bid, ask = data["bbo"]  # type: ignore[index]
            if bid is None or ask is None:
                # One side empty: nothing a BBO event can carry faithfully.
                st.skipped += 1
                return
            bpx, bsz = _px(bid["px"]), _sz(bid["sz"])
            apx, asz = _px(ask["px"]), _sz(ask["sz"])
        except (ValueError, KeyError, TypeError, AttributeError):
            st.malformed += 1
            return
        ci = self._coin_index.get(coin)
        if ci is None:
            st.skipped += 1
            return
        w.bbo(ci, ts, recv, 0, bpx, bsz, apx, asz)
        if ts > last_ts[ci]:
            last_ts[ci] = ts

    def _trades(
        self,
        w: EventWriter,
        data: object,
        recv: int,
        last_ts: list[int],
        seen_tids: set[int],
        tid_order: deque[int],
    ) -> None:
        st = self.stats
        if not isinstance(data, list):
            st.malformed += 1
            return
        parsed: list[tuple[int, int, float, float, int, int]] = []
        for t in data:
            try:
                coin = t["coin"]
                side_s = t["side"]
                if side_s == "B":
                    side = 1
                elif side_s == "A":
                    side = -1
                else:
                    raise MalformedFrameError(f"bad side {side_s!r}")
                tid = t["tid"]
                if not isinstance(tid, int) or isinstance(tid, bool) or not 0 <= tid < 2**63:
                    raise MalformedFrameError(f"bad tid {tid!r}")
                item = (_time_ns(t["time"]), 0, _px(t["px"]), _sz(t["sz"]), side, tid)
            except (ValueError, KeyError, TypeError, AttributeError):
                st.malformed += 1
                continue
            ci = self._coin_index.get(coin)
            if ci is None:
                st.skipped += 1
                continue
            parsed.append((item[0], ci, item[2], item[3], item[4], item[5]))
        # A frame is meant to be in time order; make sure (stable, so ties keep theirs).
        parsed.sort(key=lambda x: x[0])
        for ts, ci, px, sz, side, tid in parsed:
            if tid in seen_tids:
                st.skipped += 1
                continue
            if ts < last_ts[ci]:
                st.stale_trades += 1
                continue
            seen_tids.add(tid)
            tid_order.append(tid)
            if len(tid_order) > TID_MEMORY:
                seen_tids.discard(tid_order.popleft())
            w.trade(ci, ts, recv, 0, px, sz, side, tid)
            last_ts[ci] = ts
