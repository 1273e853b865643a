"""Hyperliquid websocket frames -> MD_EVENT and USER_EVENT slots.

One decoder serves the live client and the capture replay, so a frame decodes the
same way in both. ``HlDecoder.feed(body, recv_ns)`` parses one frame with orjson
and writes:

* market channels into an ``EventWriter`` (MD_EVENT):
  ``l2Book`` -> EV_BOOK (20 levels a side), ``trades`` -> one EV_TRADE per trade,
  ``bbo`` -> EV_BBO, ``activeAssetCtx`` -> EV_ASSET_CTX (mark px, open interest,
  funding per hour, oracle px; the ctx carries no time, so its venue time is the
  receive time);
* user channels into a ``UserEventWriter`` (USER_EVENT): ``userFills`` and
  ``user`` fills -> UE_FILL, ``orderUpdates`` -> UE_ORDER, ``userFundings`` and
  ``user`` funding -> UE_FUNDING, liquidation, nonUserCancel;
* control frames (pong, subscriptionResponse, the hello text, ``error``, ``post``)
  are counted; ``error`` texts are logged and kept in ``last_error``.

Trades: the first ``trades`` frame after a subscription replays older trades.
Trades older than the newest event time already emitted for their coin are
dropped (``stale_trades``), so a coin's venue clock never moves backwards
through a trade; trades are also de-duplicated by ``tid`` (re-delivery after a
reconnect). ``mark_gap()`` (called on reconnect) flags the next book of every
coin with FLAG_BOOK_GAP.

A frame that does not parse, or an item of one that does not have the expected
shape, is counted in ``stats.malformed`` and skipped; ``feed`` never raises on
input (hypothesis-fuzzed in the tests).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import orjson

from shm_layout.constants import COIN_UNKNOWN, FLAG_BOOK_GAP, UE_RESYNC

from ..events import EventWriter, MalformedFrameError, SourceStats  # noqa: F401
from .decode_fields import (  # noqa: F401 - the public names live here too
    _L2_PREFIX,
    _MS,
    CH_ACK,
    CH_ASSET_CTX,
    CH_BBO,
    CH_BOOK,
    CH_ERROR,
    CH_HELLO,
    CH_MALFORMED,
    CH_OTHER,
    CH_PONG,
    CH_POST,
    CH_TRADES,
    CH_USER,
    CHANNEL_NAMES,
    HELLO,
    TID_MEMORY,
    ReusableEventWriter,
    Sink,
    UserEventWriter,
)
from .decode_market import MarketFrames
from .decode_user import UserFrames, cloid_bytes, cloid_str  # noqa: F401
from .fast_book import FALLBACK, UNKNOWN_COIN, coin_table, scan_l2book

log = logging.getLogger(__name__)


class HlDecoder(MarketFrames, UserFrames):
    """Decodes Hyperliquid websocket frames for a fixed list of coins."""

    def __init__(
        self,
        coins: Sequence[str],
        md: EventWriter,
        user: UserEventWriter | None = None,
        stats: SourceStats | None = None,
        drop_stale_trades: bool = True,
        fast_books: bool = True,
    ) -> None:
        self.coins = tuple(coins)
        self.coin_index = {c: i for i, c in enumerate(self.coins)}
        self.md = md
        self.user = user
        self.stats = stats if stats is not None else md.stats
        self.drop_stale_trades = drop_stale_trades
        self.last_ts_ns = np.zeros(len(self.coins), np.int64)  # newest venue time emitted
        self._gap = np.zeros(len(self.coins), np.int64)  # FLAG_BOOK_GAP pending, per coin
        # l2Book frames of the usual shape skip orjson (fast_book.py); same result
        self.fast_books = fast_books
        self._names, self._name_lens = coin_table(self.coins)
        self._fast_arr: np.ndarray | None = None
        self._fast_rows: np.ndarray | None = None
        self._seen_tids: set[int] = set()
        self._tid_order: deque[int] = deque()
        # control-frame counters
        self.pongs = 0
        self.acks = 0
        self.errors = 0
        self.posts = 0
        self.last_error = ""
        self.on_error: Callable[[str], None] | None = None
        self.on_post: Callable[[object], None] | None = None
        self._log_budget = 20  # malformed frames logged before going quiet

    # --- entry points -----------------------------------------------------------

    def feed(self, body: bytes | str, recv_ns: int) -> int:
        """Decode one frame received at ``recv_ns`` (CLOCK_REALTIME ns); CH_* code."""
        if self.fast_books and type(body) is bytes and body.startswith(_L2_PREFIX):
            ch = self._fast_book(body, recv_ns)
            if ch != FALLBACK:
                return ch
        try:
            frame = orjson.loads(body)
            channel = frame["channel"]
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            if body == HELLO or body == HELLO.decode():
                self.stats.skipped += 1
                return CH_HELLO
            return self._bad(body, "not a channel frame")
        try:
            data = frame.get("data")  # absent from control frames such as pong
            if channel == "l2Book":
                return self._book(data, recv_ns)
            if channel == "trades":
                return self._trades(data, recv_ns)
            if channel == "bbo":
                return self._bbo(data, recv_ns)
            if channel == "activeAssetCtx":
                return self._asset_ctx(data, recv_ns)
            if channel in ("userFills", "user", "orderUpdates", "userFundings"):
                if self.user is None:
                    self.stats.skipped += 1
                    return CH_OTHER
                return self._user(channel, data, recv_ns)
            self.stats.skipped += 1
            if channel == "pong":
                self.pongs += 1
                return CH_PONG
            if channel == "subscriptionResponse":
                self.acks += 1
                return CH_ACK
            if channel == "error":
                self.errors += 1
                self.last_error = str(data)[:500]
                log.warning("hyperliquid websocket error frame: %s", self.last_error)
                if self.on_error is not None:
                    self.on_error(self.last_error)
                return CH_ERROR
            if channel == "post":
                self.posts += 1
                if self.on_post is not None:
                    self.on_post(data)
                return CH_POST
            return CH_OTHER
        except Exception as exc:  # noqa: BLE001 - the feed must outlive any frame
            return self._bad(body, f"{type(exc).__name__}: {exc}")

    def _fast_book(self, body: bytes, recv_ns: int) -> int:
        w = self.md
        arr = w._arr
        if arr is not self._fast_arr:  # a new chunk (replay) or the first call
            self._fast_arr = arr
            self._fast_rows = arr.view(np.uint8).reshape(len(arr), -1)
        ci = scan_l2book(np.frombuffer(body, np.uint8), len(_L2_PREFIX), arr, self._fast_rows, w.n,
                         self._names, self._name_lens, recv_ns, self._gap, self.last_ts_ns)
        if ci >= 0:
            w._advance()
            return CH_BOOK
        self._fast_rows[w.n] = 0  # leave no partial write behind for the next event
        if ci == UNKNOWN_COIN:
            self.stats.skipped += 1
            return CH_OTHER
        return FALLBACK

    def mark_gap(self) -> None:
        """Continuity lost (reconnect): the next book of each coin carries FLAG_BOOK_GAP."""
        self._gap[:] = FLAG_BOOK_GAP
        self.stats.gaps += 1

    def resync(self, recv_ns: int, connection_no: int) -> None:
        """Emit a UE_RESYNC user event: the gateway reconciles with the venue."""
        if self.user is None:
            return
        r = self.user.slot(UE_RESYNC, recv_ns)
        r["coin"] = COIN_UNKNOWN
        r["tid"] = connection_no
        r["time_ms"] = recv_ns // _MS
        self.user.advance()

    def _bad(self, body: bytes | str, why: str) -> int:
        self.stats.malformed += 1
        if self._log_budget > 0:
            self._log_budget -= 1
            log.warning("malformed hyperliquid frame skipped (%s): %.200r", why, body)
        return CH_MALFORMED

