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
import math
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import orjson

from appliance.feed.sources.base import EventWriter, MalformedFrameError, SourceStats
from shm_layout.constants import (
    BOOK_DEPTH,
    COIN_UNKNOWN,
    FILL_DIR_CODE,
    FLAG_BOOK_GAP,
    UE_FILL,
    UE_FUNDING,
    UE_LIQUIDATION,
    UE_NON_USER_CANCEL,
    UE_ORDER,
    UE_RESYNC,
    UF_HAS_CLOID,
    UF_HAS_HASH,
    UF_LIQUIDATION_FILL,
    order_status_code,
)
from shm_layout.records import USER_EVENT

from .fast_book import FALLBACK, UNKNOWN_COIN, coin_table, scan_l2book

log = logging.getLogger(__name__)

_MS = 1_000_000
_MAX_MS = (2**63 - 1) // _MS
TID_MEMORY = 100_000  # recent trade ids remembered for de-duplication

# What ``feed`` returns: the kind of frame it was.
CH_MALFORMED = 0
CH_BOOK = 1
CH_TRADES = 2
CH_BBO = 3
CH_ASSET_CTX = 4
CH_USER = 5  # any user channel
CH_PONG = 6
CH_ACK = 7  # subscriptionResponse
CH_ERROR = 8
CH_POST = 9
CH_HELLO = 10  # "Websocket connection established."
CH_OTHER = 11  # well-formed, not used
CHANNEL_NAMES = ("malformed", "l2Book", "trades", "bbo", "activeAssetCtx", "user", "pong",
                 "subscriptionResponse", "error", "post", "hello", "other")

HELLO = b"Websocket connection established."
_L2_PREFIX = b'{"channel":"l2Book","data":'


# --- field parsers (raise on anything unexpected) --------------------------------


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


def _num(v: object) -> float:
    """A finite signed decimal string or number (fees, pnl, funding)."""
    if isinstance(v, bool):
        raise MalformedFrameError(f"bad number {v!r}")
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x):
        raise MalformedFrameError(f"bad number {v!r}")
    return x


def _int63(v: object, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**63:
        raise MalformedFrameError(f"bad {what} {v!r}")
    return v


def _time_ms(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 < v < _MAX_MS:
        raise MalformedFrameError(f"bad time {v!r}")
    return v


def _side(v: object) -> int:
    if v == "B":
        return 1
    if v == "A":
        return -1
    raise MalformedFrameError(f"bad side {v!r}")


def _hex_bytes(v: object, n: int) -> bytes:
    """``"0x"`` + 2n hex chars -> n bytes (shorter values are left-padded)."""
    if not isinstance(v, str) or not v.startswith("0x") or len(v) > 2 + 2 * n:
        raise MalformedFrameError(f"bad hex {v!r}")
    h = v[2:]
    if len(h) % 2:
        h = "0" + h
    return bytes.fromhex(h).rjust(n, b"\0")


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


# --- writers that reuse one buffer (the live path) -------------------------------

Sink = Callable[[np.ndarray, int], None]  # (buffer, n records at its start)


class ReusableEventWriter(EventWriter):
    """An EventWriter over one preallocated buffer: full -> ``sink(buf, n)``.

    ``commit()`` hands the partial buffer to the sink after each frame, so the live
    path allocates no array per message; each slot is zeroed before it is written.
    """

    def __init__(self, max_events: int, stats: SourceStats, sink: Sink) -> None:
        self.sink = sink
        super().__init__(max_events, stats)
        self._zero = np.zeros((), dtype=self._arr.dtype)

    def _head(self, kind: int, coin: int, exch_ts_ns: int, recv_ts_ns: int, flags: int) -> int:
        self._arr[self.n] = self._zero
        return super()._head(kind, coin, exch_ts_ns, recv_ts_ns, flags)

    def _advance(self) -> None:
        self.n += 1
        self.stats.events += 1
        if self.n == self.max_events:
            self.commit()

    def commit(self) -> None:
        if self.n:
            n, self.n = self.n, 0
            self.sink(self._arr, n)


class UserEventWriter:
    """USER_EVENT records into one reused buffer; ``commit()`` hands them to ``sink``."""

    def __init__(self, max_events: int, sink: Sink) -> None:
        self.max_events = int(max_events)
        self.sink = sink
        self.arr = np.zeros(self.max_events, dtype=USER_EVENT)
        self._zero = np.zeros((), dtype=USER_EVENT)
        self.n = 0
        self.events = 0

    def slot(self, kind: int, recv_ns: int) -> np.void:
        """A zeroed record for the next event (call ``advance`` once it is written)."""
        r = self.arr[self.n]
        self.arr[self.n] = self._zero
        r["kind"] = kind
        r["recv_ts_ns"] = recv_ns
        return r

    def advance(self) -> None:
        self.n += 1
        self.events += 1
        if self.n == self.max_events:
            self.commit()

    def commit(self) -> None:
        if self.n:
            n, self.n = self.n, 0
            self.sink(self.arr, n)


# --- the decoder ---------------------------------------------------------------------


class HlDecoder:
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

    # --- market channels ------------------------------------------------------

    def _book(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ms(data["time"]) * _MS  # type: ignore[index]
            levels = data["levels"]  # type: ignore[index]
            if not isinstance(levels, list) or len(levels) != 2:
                raise MalformedFrameError("levels is not [bids, asks]")
            bpx, bsz, bn = _levels(levels[0])
            apx, asz, an = _levels(levels[1])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self.coin_index.get(coin)
        if ci is None:
            st.skipped += 1
            return CH_OTHER
        flags = int(self._gap[ci])
        self._gap[ci] = 0
        self.md.book(ci, ts, recv, flags, bpx, bsz, apx, asz, bn, an)
        if ts > self.last_ts_ns[ci]:
            self.last_ts_ns[ci] = ts
        return CH_BOOK

    def _bbo(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ms(data["time"]) * _MS  # type: ignore[index]
            bid, ask = data["bbo"]  # type: ignore[index]
            if bid is None or ask is None:
                # One side empty: nothing a BBO event can carry faithfully.
                st.skipped += 1
                return CH_OTHER
            bpx, bsz = _px(bid["px"]), _sz(bid["sz"])
            apx, asz = _px(ask["px"]), _sz(ask["sz"])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self.coin_index.get(coin)
        if ci is None:
            st.skipped += 1
            return CH_OTHER
        self.md.bbo(ci, ts, recv, 0, bpx, bsz, apx, asz)
        if ts > self.last_ts_ns[ci]:
            self.last_ts_ns[ci] = ts
        return CH_BBO

    def _asset_ctx(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ctx = data["ctx"]  # type: ignore[index]
            mark = _px(ctx["markPx"])
            oi = _sz(ctx["openInterest"])
            funding = _num(ctx["funding"])
            oracle = _px(ctx["oraclePx"])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self.coin_index.get(coin)
        if ci is None:
            st.skipped += 1
            return CH_OTHER
        # No venue time in the ctx: stamp it no earlier than the coin's clock.
        ts = max(recv, self.last_ts_ns[ci])
        self.md.asset_ctx(ci, ts, recv, 0, mark, oi, funding, oracle)
        return CH_ASSET_CTX

    def _trades(self, data: object, recv: int) -> int:
        st = self.stats
        if not isinstance(data, list):
            st.malformed += 1
            return CH_MALFORMED
        parsed: list[tuple[int, int, float, float, int, int]] = []
        for t in data:
            try:
                coin = t["coin"]
                side = _side(t["side"])
                tid = _int63(t["tid"], "tid")
                item = (_time_ms(t["time"]) * _MS, _px(t["px"]), _sz(t["sz"]))
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                st.malformed += 1
                continue
            ci = self.coin_index.get(coin)
            if ci is None:
                st.skipped += 1
                continue
            parsed.append((item[0], ci, item[1], item[2], side, tid))
        # A frame is meant to be in time order; make sure (stable, so ties keep theirs).
        parsed.sort(key=lambda x: x[0])
        seen, order, last = self._seen_tids, self._tid_order, self.last_ts_ns
        for ts, ci, px, sz, side, tid in parsed:
            if tid in seen:
                st.skipped += 1
                continue
            if self.drop_stale_trades and ts < last[ci]:
                st.stale_trades += 1
                continue
            seen.add(tid)
            order.append(tid)
            if len(order) > TID_MEMORY:
                seen.discard(order.popleft())
            self.md.trade(ci, ts, recv, 0, px, sz, side, tid)
            if ts > last[ci]:
                last[ci] = ts
        return CH_TRADES

    # --- user channels --------------------------------------------------------

    def _user(self, channel: str, data: object, recv: int) -> int:
        if not isinstance(data, (dict, list)):
            self.stats.malformed += 1
            return CH_MALFORMED
        if channel == "userFills":
            snap = 1 if data.get("isSnapshot") else 0  # type: ignore[union-attr]
            self._fills(data["fills"], recv, snap)  # type: ignore[index]
        elif channel == "orderUpdates":
            self._orders(data, recv)
        elif channel == "userFundings":
            snap = 1 if data.get("isSnapshot") else 0  # type: ignore[union-attr]
            for f in data["fundings"]:  # type: ignore[index]
                self._funding(f, recv, snap)
        elif isinstance(data, dict):  # channel "user" (userEvents): one of four shapes
            if "fills" in data:
                self._fills(data["fills"], recv, 0)
            elif "funding" in data:
                self._funding(data["funding"], recv, 0)
            elif "liquidation" in data:
                self._liquidation(data["liquidation"], recv)
            elif "nonUserCancel" in data:
                self._non_user_cancels(data["nonUserCancel"], recv)
            else:
                self.stats.skipped += 1  # twapHistory, twapSliceFills ...
        else:
            self.stats.malformed += 1
            return CH_MALFORMED
        return CH_USER

    def _coin(self, v: object) -> int:
        if not isinstance(v, str):
            raise MalformedFrameError(f"bad coin {v!r}")
        return self.coin_index.get(v, COIN_UNKNOWN)

    def _fills(self, fills: object, recv: int, snap: int) -> None:
        if not isinstance(fills, list):
            raise MalformedFrameError("fills is not a list")
        w = self.user
        for f in fills:
            try:
                coin = self._coin(f["coin"])
                side = _side(f["side"])
                px, sz = _px(f["px"]), _sz(f["sz"])
                fee = _num(f.get("fee", 0.0))
                start = _num(f.get("startPosition", 0.0))
                pnl = _num(f.get("closedPnl", 0.0))
                oid = _int63(f["oid"], "oid")
                tid = _int63(f.get("tid", 0), "tid")
                t = _time_ms(f["time"])
                h = f.get("hash")
                hb = _hex_bytes(h, 32) if h else b""
                c = f.get("cloid")
                cb = _hex_bytes(c, 16) if c else b""
                flags = (UF_HAS_HASH if hb else 0) | (UF_HAS_CLOID if cb else 0)
                if f.get("liquidation"):
                    flags |= UF_LIQUIDATION_FILL
                d = FILL_DIR_CODE.get(f.get("dir", ""), 0)
                crossed = 1 if f.get("crossed") is True else 0
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = w.slot(UE_FILL, recv)  # type: ignore[union-attr]
            r["coin"], r["side"], r["crossed"], r["is_snapshot"] = coin, side, crossed, snap
            r["dir"], r["flags"], r["time_ms"], r["oid"], r["tid"] = d, flags, t, oid, tid
            r["px"], r["sz"], r["fee"], r["start_position"], r["closed_pnl"] = px, sz, fee, start, pnl
            if hb:
                r["hash"] = np.frombuffer(hb, np.uint8)
            if cb:
                r["cloid"] = np.frombuffer(cb, np.uint8)
            w.advance()  # type: ignore[union-attr]

    def _orders(self, updates: object, recv: int) -> None:
        if not isinstance(updates, list):
            raise MalformedFrameError("orderUpdates is not a list")
        w = self.user
        for u in updates:
            try:
                o = u["order"]
                coin = self._coin(o["coin"])
                side = _side(o["side"])
                px, sz = _px(o["limitPx"]), _sz(o["sz"])
                orig = _sz(o.get("origSz", sz))
                oid = _int63(o["oid"], "oid")
                status = u["status"]
                if not isinstance(status, str):
                    raise MalformedFrameError(f"bad status {status!r}")
                code = order_status_code(status)
                t = _time_ms(u.get("statusTimestamp", o.get("timestamp")))
                c = o.get("cloid")
                cb = _hex_bytes(c, 16) if c else b""
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = w.slot(UE_ORDER, recv)  # type: ignore[union-attr]
            r["coin"], r["side"], r["status"], r["time_ms"], r["oid"] = coin, side, code, t, oid
            r["px"], r["sz"], r["orig_sz"] = px, sz, orig
            if cb:
                r["cloid"] = np.frombuffer(cb, np.uint8)
                r["flags"] = UF_HAS_CLOID
            w.advance()  # type: ignore[union-attr]

    def _funding(self, f: object, recv: int, snap: int) -> None:
        try:
            coin = self._coin(f["coin"])  # type: ignore[index]
            usdc = _num(f["usdc"])  # type: ignore[index]
            szi = _num(f["szi"])  # type: ignore[index]
            rate = _num(f["fundingRate"])  # type: ignore[index]
            n = f.get("nSamples") or 0  # type: ignore[union-attr]
            n = _int63(n, "nSamples")
            t = f.get("time")  # type: ignore[union-attr]
            t = _time_ms(t) if t is not None else 0  # userEvents funding has no time
        except (ValueError, KeyError, TypeError, AttributeError):
            self.stats.malformed += 1
            return
        r = self.user.slot(UE_FUNDING, recv)  # type: ignore[union-attr]
        r["coin"], r["usdc"], r["szi"], r["funding_rate"] = coin, usdc, szi, rate
        r["tid"], r["time_ms"], r["is_snapshot"] = n, t, snap
        self.user.advance()  # type: ignore[union-attr]

    def _liquidation(self, q: object, recv: int) -> None:
        try:
            lid = _int63(q["lid"], "lid")  # type: ignore[index]
            ntl = _num(q["liquidated_ntl_pos"])  # type: ignore[index]
            value = _num(q["liquidated_account_value"])  # type: ignore[index]
        except (ValueError, KeyError, TypeError, AttributeError):
            self.stats.malformed += 1
            return
        r = self.user.slot(UE_LIQUIDATION, recv)  # type: ignore[union-attr]
        r["coin"], r["tid"], r["sz"], r["usdc"] = COIN_UNKNOWN, lid, ntl, value
        self.user.advance()  # type: ignore[union-attr]

    def _non_user_cancels(self, items: object, recv: int) -> None:
        if not isinstance(items, list):
            raise MalformedFrameError("nonUserCancel is not a list")
        for it in items:
            try:
                coin = self._coin(it["coin"])
                oid = _int63(it["oid"], "oid")
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = self.user.slot(UE_NON_USER_CANCEL, recv)  # type: ignore[union-attr]
            r["coin"], r["oid"] = coin, oid
            self.user.advance()  # type: ignore[union-attr]


def cloid_bytes(cloid: str) -> bytes:
    """``"0x" + 32 hex`` -> the 16 bytes USER_EVENT.cloid holds."""
    return _hex_bytes(cloid, 16)


def cloid_str(raw: bytes | np.ndarray) -> str:
    """USER_EVENT.cloid bytes -> ``"0x" + 32 hex``."""
    return "0x" + bytes(raw).hex()
