"""Replay of a Binance USD-M futures capture, with the order book rebuilt.

Line format: ``<local receive time, ns> <frame JSON>``. Frames:

* ``{"stream": "<sym>@depth@0ms", "data": {"e": "depthUpdate", "U", "u", "pu",
  "b": [[px, qty], ...], "a": [...], "T", "E"}}``: a diff; qty ``"0.000"`` removes
  the level. Each applied diff emits an EV_BOOK of the top 20 levels (order counts
  unknown, 0).
* ``{"stream": "<sym>@bookTicker", "data": {"b", "B", "a", "A", "T", ...}}`` -> EV_BBO.
* ``{"stream": "<sym>@trade", "data": {"p", "q", "m", "t", "T", "X"}}`` -> EV_TRADE;
  ``m`` true means the buyer was the maker, so the aggressor sold (side -1). Only
  ``X == "MARKET"`` trades are market trades; others are ``skipped``.
* ``{"lastUpdateId", "E", "T", "bids", "asks"}``: a REST depth snapshot (no symbol:
  see ``_snapshot_symbol``).

Book continuity (Binance's USD-M rules). Diffs that arrive before a snapshot are
buffered. On a snapshot with ``lastUpdateId = L``, diffs with ``u < L`` are
dropped; the first applied diff must bridge the snapshot (``U <= L + 1`` and
``u >= L``: this accepts both the ``U <= L+1 <= u`` of the brief and the USD-M
documented ``U <= L <= u``, which differ only when ``L`` is the last id of a diff);
every later diff must have ``pu`` equal to the previous ``u``. A break is counted in
``stats.gaps``, logged with the expected and received ids, and every book after it
carries FLAG_BOOK_GAP until a snapshot re-synchronises the book. The book keeps
being updated meanwhile (flagged), never silently.

Buffered diffs applied at a snapshot emit a single EV_BOOK at the snapshot's
receive time: their own states are in the past by then, and emitting them would
move the clock backwards.

``exch_ts_ns`` is Binance's transaction time ``T``. Across streams Binance's venue
times are not monotone (up to ~0.1 s apart in the BTC capture); ``recv_ts_ns``, the
capture's order, is.
"""

from __future__ import annotations

import logging
import math
import os
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from shm_layout.constants import FLAG_BOOK_GAP

from ..events import (
    DEFAULT_CHUNK_EVENTS,
    EventWriter,
    MalformedFrameError,
    SourceStats,
    check_max_events,
)
from .base import check_coins
from .binance_book import (
    Diff,
    SymbolState,
    parse_int,
    parse_levels,
    parse_num,
    parse_time_ns,
    symbol_to_coin,
)
from .capture import iter_capture

log = logging.getLogger(__name__)

# Diffs kept while waiting for a snapshot (before the first, or after a gap).
PENDING_DIFFS = 4096


class BinanceReplaySource:
    """A finite MarketSource over a Binance USD-M futures capture."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str]) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.name = f"replay:binance:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        self._coin_index = {c: i for i, c in enumerate(self.coins)}

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        self.stats = st = SourceStats()
        w = EventWriter(max_events, st)
        self._w = w
        self._symbols: dict[str, SymbolState | None] = {}
        self._depth_symbols: list[SymbolState] = []
        self._orphan_snapshots: list[tuple[int, dict]] = []
        loads = orjson.loads
        for recv, body in iter_capture(self.path):
            st.lines += 1
            if recv < 0:
                st.malformed += 1
                continue
            try:
                frame = loads(body)
                if "lastUpdateId" in frame:
                    self._snapshot(frame, recv)
                else:
                    data = frame["data"] if "stream" in frame else frame
                    e = data["e"]
                    if e == "depthUpdate":
                        self._depth(data, recv)
                    elif e == "bookTicker":
                        self._book_ticker(data, recv)
                    elif e == "trade" or e == "aggTrade":
                        self._trade(data, recv)
                    else:
                        st.skipped += 1
            except (ValueError, KeyError, TypeError, AttributeError):
                st.malformed += 1
                continue
            if w.ready:
                yield from w.take_ready()
        # Diffs that never found a snapshot, and snapshots that never found a symbol.
        for s in self._depth_symbols:
            if not s.has_book:
                st.skipped += len(s.pending)
        st.skipped += len(self._orphan_snapshots)
        yield from w.flush()

    # --- symbols -------------------------------------------------------------------

    def _state(self, symbol: object) -> SymbolState | None:
        """The state of a configured symbol, or None (counted as skipped)."""
        try:
            return self._symbols[symbol]  # type: ignore[index]
        except KeyError:
            pass
        if not isinstance(symbol, str) or not symbol:
            raise MalformedFrameError(f"bad symbol {symbol!r}")
        ci = self._coin_index.get(symbol_to_coin(symbol))
        s = None if ci is None else SymbolState(symbol, ci)
        self._symbols[symbol] = s
        return s

    def _snapshot_symbol(self, best_bid: float) -> SymbolState | None:
        """The symbol a REST snapshot (which names none) belongs to.

        The only symbol with depth diffs so far; with several, the one whose recent
        price is nearest (log distance) to the snapshot's best bid.
        """
        cands = self._depth_symbols
        if len(cands) == 1:
            return cands[0]
        if not cands:
            return None
        priced = [s for s in cands if s.last_px > 0.0]
        if not priced or not best_bid > 0.0:
            return None
        return min(priced, key=lambda s: abs(math.log(s.last_px / best_bid)))

    # --- frames --------------------------------------------------------------------

    def _depth(self, d: dict, recv: int) -> None:
        diff = Diff(
            parse_int(d["U"]),
            parse_int(d["u"]),
            parse_int(d["pu"]),
            parse_time_ns(d["T"]),
            parse_levels(d["b"]),
            parse_levels(d["a"]),
        )
        s = self._state(d["s"])
        if s is None:
            self.stats.skipped += 1
            return
        if not s.has_book:
            if s not in self._depth_symbols:
                self._depth_symbols.append(s)
                self._adopt_orphans(s, recv)
                if s.has_book:
                    self._on_diff(s, diff, recv)
                    return
            if diff.bids:
                s.last_px = diff.bids[-1][0]
            if len(s.pending) >= PENDING_DIFFS:
                s.pending.popleft()
                self.stats.skipped += 1
            s.pending.append(diff)
            return
        self._on_diff(s, diff, recv)

    def _on_diff(self, s: SymbolState, diff: Diff, recv: int) -> None:
        if s.gap:
            if len(s.pending) >= PENDING_DIFFS:
                s.pending.popleft()
            s.pending.append(diff)
        if self._apply(s, diff):
            bp, bq, ap, aq = s.book.top()
            self._w.book(s.coin, diff.ts, recv, FLAG_BOOK_GAP if s.gap else 0, bp, bq, ap, aq)

    def _apply(self, s: SymbolState, diff: Diff) -> bool:
        """Check continuity, apply; False when the diff is dropped as old."""
        if s.await_bridge:
            lid = s.snapshot_id
            if diff.u < lid:
                self.stats.skipped += 1
                return False
            s.await_bridge = False
            if diff.first_u > lid + 1 or diff.u < lid:
                self._gap(
                    s,
                    f"first diff after snapshot {lid}: expected U <= {lid + 1} <= u, "
                    f"got U={diff.first_u} u={diff.u}",
                )
        else:
            if diff.u <= s.last_u:
                self.stats.skipped += 1  # a repeat of what the book already holds
                return False
            if diff.pu != s.last_u:
                self._gap(
                    s, f"expected pu={s.last_u}, got pu={diff.pu} (U={diff.first_u} u={diff.u})"
                )
        s.book.apply(diff)
        s.last_u = diff.u
        return True

    def _gap(self, s: SymbolState, what: str) -> None:
        self.stats.gaps += 1
        s.gap = True
        log.warning(
            "%s %s: depth gap: %s; books flagged FLAG_BOOK_GAP until the next snapshot",
            self.name,
            s.symbol,
            what,
        )

    def _snapshot(self, frame: dict, recv: int) -> None:
        lid = parse_int(frame["lastUpdateId"])
        ts = parse_time_ns(frame.get("T") or frame.get("E") or 0)
        bids = parse_levels(frame["bids"])
        asks = parse_levels(frame["asks"])
        sym = frame.get("s") or frame.get("symbol")
        if sym is not None:
            s = self._state(sym)
            if s is None:
                self.stats.skipped += 1
                return
        else:
            best_bid = max((p for p, q in bids if q > 0.0), default=math.nan)
            s = self._snapshot_symbol(best_bid)
            if s is None:
                if self._depth_symbols:
                    self.stats.skipped += 1  # several symbols, none close enough
                else:
                    # No diff yet: the first depth symbol will adopt it.
                    self._orphan_snapshots.append(
                        (recv, {"lid": lid, "ts": ts, "bids": bids, "asks": asks})
                    )
                return
        self._resync(s, lid, ts, bids, asks, recv)

    def _adopt_orphans(self, s: SymbolState, recv: int) -> None:
        # Emitted now, at this line's receive time, to keep the stream in time order.
        for _, snap in self._orphan_snapshots:
            self._resync(s, snap["lid"], snap["ts"], snap["bids"], snap["asks"], recv)
        self._orphan_snapshots.clear()

    def _resync(
        self,
        s: SymbolState,
        lid: int,
        ts: int,
        bids: list[tuple[float, float]],
        asks: list[tuple[float, float]],
        recv: int,
    ) -> None:
        if s.has_book and not s.gap and not s.await_bridge and s.last_u >= lid:
            # Continuous and already past this snapshot: it has nothing to add.
            self.stats.skipped += 1
            return
        s.book.reset(bids, asks)
        s.has_book = True
        s.gap = False
        s.snapshot_id = lid
        s.last_u = lid
        s.await_bridge = True
        pending = s.pending
        s.pending = deque()
        for diff in pending:
            if self._apply(s, diff):
                ts = max(ts, diff.ts)
        if s.gap:
            # The gap is not closed: keep the diffs that follow for the next snapshot.
            s.pending = deque(d for d in pending if d.u > lid)
        bp, bq, ap, aq = s.book.top()
        self._w.book(s.coin, ts, recv, FLAG_BOOK_GAP if s.gap else 0, bp, bq, ap, aq)

    def _book_ticker(self, d: dict, recv: int) -> None:
        bpx = parse_num(d["b"])
        bsz = parse_num(d["B"])
        apx = parse_num(d["a"])
        asz = parse_num(d["A"])
        ts = parse_time_ns(d.get("T") or d["E"])
        s = self._state(d["s"])
        if s is None:
            self.stats.skipped += 1
            return
        s.last_px = bpx
        self._w.bbo(s.coin, ts, recv, 0, bpx, bsz, apx, asz)

    def _trade(self, d: dict, recv: int) -> None:
        px = parse_num(d["p"])
        sz = parse_num(d["q"])
        m = d["m"]
        if not isinstance(m, bool):
            raise MalformedFrameError(f"bad maker flag {m!r}")
        tid = parse_int(d["t"] if "t" in d else d["a"])
        ts = parse_time_ns(d["T"])
        s = self._state(d["s"])
        if s is None or d.get("X", "MARKET") != "MARKET":
            self.stats.skipped += 1
            return
        s.last_px = px
        self._w.trade(s.coin, ts, recv, 0, px, sz, -1 if m else 1, tid)
