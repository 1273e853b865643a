"""Shared pieces of the Hyperliquid frame decoder: the frame-kind codes ``feed``
returns, field parsers that raise ``MalformedFrameError`` on anything unexpected,
and the writers that reuse one buffer on the live path."""

import math
from collections.abc import Callable

import numpy as np

from shm_layout.constants import (
    BOOK_DEPTH,
)
from shm_layout.records import USER_EVENT

from ..events import EventWriter, MalformedFrameError, SourceStats

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

