"""Replay of a Binance capture (USD-M, coin-margined or spot), the order book rebuilt.

Line format: ``<local receive time, ns> <frame JSON>``; the frames of each market and
how the market is told are in ``binance_frames``. What each frame becomes:

* depth diff (``b``/``a``: ``[[px, qty], ...]``, qty 0 removes the level): applied to
  the symbol's full-depth book; each applied diff emits an EV_BOOK of the top 20 levels
  (order counts unknown, 0).
* bookTicker -> EV_BBO. trade -> EV_TRADE; ``m`` true means the buyer was the maker,
  so the aggressor sold (side -1); only ``X == "MARKET"`` trades (futures) are market
  trades, others are ``skipped``.
* REST depth snapshot ``{"lastUpdateId", "bids", "asks", ...}`` (futures' may name no
  symbol: see ``_snapshot_symbol``).

Sizes are coin: a coin-margined instrument's contracts are converted at each level's
or trade's own price (``contracts x contract_usd / px``), the contract size from the
instrument table (``instruments``).

Book continuity, per market. Futures: each diff's ``pu`` equals the previous ``u``.
Spot: each diff's ``U`` equals the previous ``u + 1`` (spot diffs have no ``pu``).
Diffs that arrive before a snapshot are buffered. On a snapshot with
``lastUpdateId = L``, older diffs are dropped (futures ``u < L``, spot ``u <= L``);
the first applied diff must bridge it (``U <= L + 1`` and ``u >= L``, spot ``u >= L +
1``: the futures test accepts both the ``U <= L+1 <= u`` of the brief and the USD-M
documented ``U <= L <= u``). A break is counted in ``stats.gaps``, logged with the
expected and received ids, and every book after it carries FLAG_BOOK_GAP until a
snapshot re-synchronises the book. The book keeps being updated meanwhile, flagged.

Without a snapshot (a user's own captures often have none) the book is built from the
diffs alone: it holds the levels the diffs touched, so it is trusted only after a
warm-up (``ReplayOptions.book_warmup_diffs`` diffs and ``book_warmup_s`` seconds, both);
diffs of the warm-up are counted in ``stats.warmup_skipped``, later books carry
FLAG_BOOK_FROM_DIFFS and ``stats.book_from_diffs`` says so. A gap in such a book flags
its books until another warm-up's worth of continuous diffs has rewritten the levels
near the top. A snapshot that arrives later replaces the diffs-only book.

Buffered diffs applied at a snapshot emit a single EV_BOOK at the snapshot's receive
time (their own states are in the past by then, and emitting them would move the clock
backwards); they are counted in ``stats.merged``. So every line is counted once:
``lines == events + malformed + skipped + warmup_skipped + merged``.

``exch_ts_ns`` is Binance's transaction time ``T``, else its event time ``E``, else the
receive time on the exchange clock (``binance_frames.RecvClock``). Across streams
Binance's venue times are not monotone (up to ~0.1 s apart in the BTC capture);
``recv_ts_ns``, the capture's order, is.
"""

from __future__ import annotations

import logging
import math
import os
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from shm_layout.constants import FLAG_BOOK_FROM_DIFFS, FLAG_BOOK_GAP

from ..events import (
    DEFAULT_CHUNK_EVENTS,
    EventWriter,
    MalformedFrameError,
    SourceStats,
    check_max_events,
)
from .base import ReplayOptions, check_coins
from .binance_book import (
    Diff,
    SymbolState,
    coin_sz,
    parse_int,
    parse_levels,
    parse_num,
    symbol_to_coin,
)
from .binance_frames import (
    KIND_BOOK_TICKER,
    KIND_DEPTH,
    KIND_SNAPSHOT,
    KIND_TRADE,
    RecvClock,
    detect_market,
    frame_kind,
    trade_fields,
)
from .capture import bad_line_reason, iter_capture
from .instruments import Instrument, InstrumentError, instrument_for, parse_overrides

log = logging.getLogger(__name__)

# Diffs kept while waiting for a snapshot (before the first, or after a gap).
PENDING_DIFFS = 4096


def _reason(line_no: int, kind: str, exc: Exception) -> str:
    what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
    return f"line {line_no} ({kind}): {what or type(exc).__name__}"


class BinanceReplaySource:
    """A finite MarketSource over a Binance capture of one market."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str],
                 options: ReplayOptions | None = None) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.options = options or ReplayOptions()
        forced = parse_overrides(self.options.instrument).get("market")
        market = str(forced) if forced else detect_market(self.path)
        if market is None:
            # Every line will be counted malformed, and the replay check names why.
            log.warning("%s: no frame of its first lines tells its Binance market; "
                        "reading it as USD-M", self.path)
            market = "binance_usdm"
        self.market = market
        self.futures = self.market != "binance_spot"
        self.name = f"replay:{self.market}:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        self.instruments: dict[str, Instrument] = {}  # by symbol, as met
        self._coin_index = {c: i for i, c in enumerate(self.coins)}
        self._warm_ns = int(self.options.book_warmup_s * 1e9)

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        st = self.stats
        st.reset()
        w = EventWriter(max_events, st)
        self._w = w
        self._clock = RecvClock(st)
        self._symbols: dict[str, SymbolState | None] = {}
        self._depth_symbols: list[SymbolState] = []
        self._orphan_snapshots: list[tuple[int, dict]] = []
        loads = orjson.loads
        for recv, body in iter_capture(self.path):
            st.lines += 1
            if recv < 0:
                st.malformed_line(bad_line_reason(st.lines, body))
                continue
            kind = "?"
            try:
                kind, data = frame_kind(loads(body))
                if kind == KIND_DEPTH:
                    self._depth(data, recv)
                elif kind == KIND_BOOK_TICKER:
                    self._book_ticker(data, recv)
                elif kind == KIND_TRADE or kind == "aggTrade":
                    self._trade(data, recv)
                elif kind == KIND_SNAPSHOT:
                    self._snapshot(data, recv)
                else:
                    st.skipped += 1
            except InstrumentError:
                raise  # no facts to read the symbol's sizes with: not a line's fault
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                st.malformed_line(_reason(st.lines, kind, exc))
                continue
            if w.ready:
                yield from w.take_ready()
        # Diffs that never found a snapshot nor a warm book, snapshots that found no symbol.
        for s in self._depth_symbols:
            if not s.has_book:
                st.skipped += s.unresolved
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
        coin = symbol_to_coin(symbol)
        ci = self._coin_index.get(coin)
        s = None
        if ci is not None:
            inst = instrument_for(self.market, symbol, coin, self.options.instrument)
            self.instruments[inst.symbol] = inst
            s = SymbolState(symbol, ci, inst.contract_usd)
        self._symbols[symbol] = s
        return s

    @property
    def instrument(self) -> Instrument | None:
        """The instrument of the replay's first configured symbol (None before a pass)."""
        return next(iter(self.instruments.values()), None)

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

    # --- depth ---------------------------------------------------------------------

    def _depth(self, d: dict, recv: int) -> None:
        s = self._state(d["s"])
        c = s.contract_usd if s is not None else 0.0
        diff = Diff(
            parse_int(d["U"]),
            parse_int(d["u"]),
            parse_int(d["pu"]) if self.futures else -1,
            self._clock.exch_ns(d, recv),
            parse_levels(d["b"], c),
            parse_levels(d["a"], c),
        )
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
            s.pending.append(diff)
            s.unresolved += 1
            self._warm(s, diff, recv)
            return
        self._on_diff(s, diff, recv)

    def _chained(self, s: SymbolState, diff: Diff) -> bool:
        """The market's continuity rule: futures by ``pu``, spot by ``U``."""
        return diff.pu == s.last_u if self.futures else diff.first_u == s.last_u + 1

    def _warm(self, s: SymbolState, diff: Diff, recv: int) -> None:
        """No snapshot yet: build the book from this diff; trust it once warm."""
        if s.warm_diffs:
            if diff.u <= s.last_u:
                return  # a repeat; counted with the unresolved diffs
            if not self._chained(s, diff):
                self._gap(s, self._break(s, diff) + "; diffs-only warm-up restarted")
                s.warm_diffs = 0
        if not s.warm_diffs:
            s.warm_start_ns = recv
        s.book.apply(diff)
        s.last_u = diff.u
        s.warm_diffs += 1
        if not self._warm_enough(s, recv):
            return
        # Warm: from here on the book is the diffs' own, flagged as such.
        st = self.stats
        st.warmup_skipped += s.unresolved - 1  # this diff emits the first book
        st.book_from_diffs = True
        s.unresolved = 0
        s.pending.clear()
        s.has_book = s.from_diffs = True
        s.gap = False
        log.info("%s %s: no depth snapshot; book built from diffs after %d diffs (%.1f s)",
                 self.name, s.symbol, s.warm_diffs, (recv - s.warm_start_ns) / 1e9)
        self._emit_book(s, diff.ts, recv)

    def _warm_enough(self, s: SymbolState, recv: int) -> bool:
        return (s.warm_diffs >= self.options.book_warmup_diffs
                and recv - s.warm_start_ns >= self._warm_ns)

    def _on_diff(self, s: SymbolState, diff: Diff, recv: int) -> None:
        if s.gap:
            if len(s.pending) >= PENDING_DIFFS:
                s.pending.popleft()
            s.pending.append(diff)
        if self._apply(s, diff):
            if s.from_diffs and s.gap:
                # No snapshot will come: the levels near the top heal as diffs rewrite them.
                if not s.warm_diffs:
                    s.warm_start_ns = recv
                s.warm_diffs += 1
                if self._warm_enough(s, recv):
                    s.gap = False
                    s.pending.clear()
            self._emit_book(s, diff.ts, recv)

    def _emit_book(self, s: SymbolState, ts: int, recv: int) -> None:
        flags = (FLAG_BOOK_GAP if s.gap else 0) | (FLAG_BOOK_FROM_DIFFS if s.from_diffs else 0)
        bp, bq, ap, aq = s.book.top()
        self._w.book(s.coin, ts, recv, flags, bp, bq, ap, aq)

    def _apply(self, s: SymbolState, diff: Diff, count: bool = True) -> bool:
        """Check continuity, apply; False when the diff is dropped as old. ``count``:
        count a dropped diff as skipped (False for diffs already counted)."""
        if s.await_bridge:
            lid = s.snapshot_id
            if diff.u < lid or (not self.futures and diff.u == lid):
                self.stats.skipped += int(count)
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
                self.stats.skipped += int(count)  # a repeat of what the book already holds
                return False
            if not self._chained(s, diff):
                self._gap(s, self._break(s, diff))
        s.book.apply(diff)
        s.last_u = diff.u
        return True

    def _break(self, s: SymbolState, diff: Diff) -> str:
        if self.futures:
            return f"expected pu={s.last_u}, got pu={diff.pu} (U={diff.first_u} u={diff.u})"
        return f"expected U={s.last_u + 1}, got U={diff.first_u} (u={diff.u})"

    def _gap(self, s: SymbolState, what: str) -> None:
        self.stats.gaps += 1
        s.gap = True
        s.warm_diffs = 0
        log.warning(
            "%s %s: depth gap: %s; books flagged FLAG_BOOK_GAP until %s",
            self.name, s.symbol, what,
            "a warm-up of diffs" if s.from_diffs else "the next snapshot",
        )

    # --- snapshots -----------------------------------------------------------------

    def _snapshot(self, frame: dict, recv: int) -> None:
        lid = parse_int(frame["lastUpdateId"])
        ts = self._clock.exch_ns(frame, recv)
        sym = frame.get("s") or frame.get("symbol")
        s = self._state(sym) if sym is not None else None
        c = s.contract_usd if s is not None else 0.0
        bids = parse_levels(frame["bids"], c)
        asks = parse_levels(frame["asks"], c)
        if sym is not None:
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
            if s.contract_usd > 0.0:  # parsed before its symbol was known: contracts
                bids = [(p, coin_sz(q, p, s.contract_usd)) for p, q in bids]
                asks = [(p, coin_sz(q, p, s.contract_usd)) for p, q in asks]
        self._resync(s, lid, ts, bids, asks, recv)

    def _adopt_orphans(self, s: SymbolState, recv: int) -> None:
        # Emitted now, at this line's receive time, to keep the stream in time order.
        for _, snap in self._orphan_snapshots:
            bids, asks = snap["bids"], snap["asks"]
            if s.contract_usd > 0.0:
                bids = [(p, coin_sz(q, p, s.contract_usd)) for p, q in bids]
                asks = [(p, coin_sz(q, p, s.contract_usd)) for p, q in asks]
            self._resync(s, snap["lid"], snap["ts"], bids, asks, recv)
        self._orphan_snapshots.clear()

    def _resync(self, s: SymbolState, lid: int, ts: int, bids: list[tuple[float, float]],
                asks: list[tuple[float, float]], recv: int) -> None:
        if (s.has_book and not s.from_diffs and not s.gap and not s.await_bridge
                and s.last_u >= lid):
            # Continuous and already past this snapshot: it has nothing to add.
            self.stats.skipped += 1
            return
        fresh = not s.has_book  # its buffered diffs are not counted yet
        if fresh:
            # Diffs pushed out of the buffer before the snapshot came: not in this book.
            self.stats.skipped += s.unresolved - len(s.pending)
            s.unresolved = 0
        s.book.reset(bids, asks)
        s.has_book = True
        s.from_diffs = False
        s.gap = False
        s.snapshot_id = lid
        s.last_u = lid
        s.await_bridge = True
        pending = s.pending
        s.pending = deque()
        for diff in pending:
            if self._apply(s, diff, count=fresh):
                ts = max(ts, diff.ts)
                self.stats.merged += int(fresh)
        if s.gap:
            # The gap is not closed: keep the diffs that follow for the next snapshot.
            s.pending = deque(d for d in pending if d.u > lid)
        self._emit_book(s, ts, recv)

    # --- top of book and trades -----------------------------------------------------

    def _book_ticker(self, d: dict, recv: int) -> None:
        s = self._state(d["s"])
        c = s.contract_usd if s is not None else 0.0
        bpx = parse_num(d["b"])
        bsz = coin_sz(parse_num(d["B"]), bpx, c)
        apx = parse_num(d["a"])
        asz = coin_sz(parse_num(d["A"]), apx, c)
        ts = self._clock.exch_ns(d, recv)
        if s is None:
            self.stats.skipped += 1
            return
        s.last_px = bpx
        self._w.bbo(s.coin, ts, recv, 0, bpx, bsz, apx, asz)

    def _trade(self, d: dict, recv: int) -> None:
        s = self._state(d["s"])
        px, sz, side, tid = trade_fields(d, s.contract_usd if s is not None else 0.0)
        ts = self._clock.exch_ns(d, recv)
        if s is None or d.get("X", "MARKET") != "MARKET":
            self.stats.skipped += 1
            return
        s.last_px = px
        self._w.trade(s.coin, ts, recv, 0, px, sz, side, tid)
