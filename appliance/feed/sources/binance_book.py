"""Binance frame fields and the order book the replay rebuilds from them.

The replay (``binance_replay``) owns the stream protocol: buffering, snapshot
bridging, warm-up, gap detection. This module owns the pieces it works on: a field parser
that raises ``MalformedFrameError``, a diff, a full-depth book, one symbol's state.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque

from shm_layout.constants import BOOK_DEPTH

from ..events import MalformedFrameError

_MS = 1_000_000
_MAX_MS = (2**63 - 1) // _MS

# Quote assets stripped from a symbol to name its coin, longest first.
QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "BUSD", "USD")

def symbol_to_coin(symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC``; ``ETHUSD_PERP`` -> ``ETH``."""
    s = symbol.upper()
    for suffix in ("_PERP",):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
    for q in QUOTE_ASSETS:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)]
    return s


def parse_num(v: object) -> float:
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x) or x < 0.0:
        raise MalformedFrameError(f"bad number {v!r}")
    return x


def parse_int(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**63:
        raise MalformedFrameError(f"bad integer {v!r}")
    return v


def parse_time_ns(v: object) -> int:
    """Milliseconds to nanoseconds, within int64."""
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < _MAX_MS:
        raise MalformedFrameError(f"bad time {v!r}")
    return v * _MS


def coin_sz(q: float, px: float, contract_usd: float) -> float:
    """A size in coin: ``q`` contracts of ``contract_usd`` at ``px`` (q x USD / px), or
    ``q`` itself when the instrument's sizes are coin (``contract_usd`` 0)."""
    return q * contract_usd / px if contract_usd > 0.0 else q


def parse_levels(levels: object, contract_usd: float = 0.0) -> list[tuple[float, float]]:
    """``[[px, qty], ...]`` as (px, size in coin); contracts converted at their level's
    price (``coin_sz``)."""
    if not isinstance(levels, list):
        raise MalformedFrameError("levels are not a list")
    out = [(float(p), float(q)) for p, q in levels]
    for p, q in out:
        # Also false for NaN.
        if not (0.0 < p < math.inf and 0.0 <= q < math.inf):
            raise MalformedFrameError(f"bad level {p!r} {q!r}")
    if contract_usd > 0.0:
        out = [(p, q * contract_usd / p) for p, q in out]
    return out


class Diff:
    __slots__ = ("first_u", "u", "pu", "ts", "bids", "asks")

    def __init__(
        self,
        U: int,
        u: int,
        pu: int,
        ts: int,
        bids: list[tuple[float, float]],
        asks: list[tuple[float, float]],
    ) -> None:
        self.first_u = U  # Binance "U": first update id in the diff
        self.u = u
        self.pu = pu
        self.ts = ts
        self.bids = bids
        self.asks = asks


class OrderBook:
    """A full-depth book: a dict price -> qty and a sorted price list per side.

    Prices are floats parsed from Binance's decimal strings; the same string always
    gives the same float, so they are exact dict keys. The top levels are read from
    the ends of the sorted lists, only when a book event is emitted.
    """

    __slots__ = ("bid_qty", "ask_qty", "bid_px", "ask_px")

    def __init__(self) -> None:
        self.bid_qty: dict[float, float] = {}
        self.ask_qty: dict[float, float] = {}
        self.bid_px: list[float] = []  # ascending; best bid last
        self.ask_px: list[float] = []  # ascending; best ask first

    def reset(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        self.bid_qty = {p: q for p, q in bids if q > 0.0}
        self.ask_qty = {p: q for p, q in asks if q > 0.0}
        self.bid_px = sorted(self.bid_qty)
        self.ask_px = sorted(self.ask_qty)

    @staticmethod
    def _update(qty: dict[float, float], pxs: list[float], levels: list[tuple[float, float]]):
        for p, q in levels:
            if q > 0.0:
                if p not in qty:
                    insort(pxs, p)
                qty[p] = q
            elif p in qty:
                del qty[p]
                del pxs[bisect_left(pxs, p)]

    def apply(self, d: Diff) -> None:
        self._update(self.bid_qty, self.bid_px, d.bids)
        self._update(self.ask_qty, self.ask_px, d.asks)

    def top(self, depth: int = BOOK_DEPTH):
        bp = self.bid_px[: -depth - 1 : -1]
        ap = self.ask_px[:depth]
        bq = self.bid_qty
        aq = self.ask_qty
        return bp, [bq[p] for p in bp], ap, [aq[p] for p in ap]

    def best(self) -> tuple[float, float]:
        bid = self.bid_px[-1] if self.bid_px else math.nan
        ask = self.ask_px[0] if self.ask_px else math.nan
        return bid, ask


class SymbolState:
    """Book and continuity state of one symbol."""

    def __init__(self, symbol: str, coin: int, contract_usd: float = 0.0) -> None:
        self.symbol = symbol
        self.coin = coin
        self.contract_usd = contract_usd  # > 0: sizes are contracts (binance_book.coin_sz)
        self.book = OrderBook()
        self.has_book = False  # a snapshot was applied, or the diffs-only book is warm
        self.from_diffs = False  # the book is built from diffs alone (no snapshot yet)
        self.last_u = -1  # u of the last applied diff, or lastUpdateId of the snapshot
        self.await_bridge = False  # snapshot applied, bridging diff not yet seen
        self.snapshot_id = -1
        self.gap = False  # continuity lost since the last good snapshot (or warm-up)
        self.pending: deque[Diff] = deque()
        self.unresolved = 0  # diffs received without a book, not yet counted anywhere
        self.warm_diffs = 0  # diffs applied since the diffs-only warm-up (re)started
        self.warm_start_ns = 0  # receive time the warm-up (re)started
        self.last_px = math.nan  # any recent price, to attribute symbol-less snapshots
