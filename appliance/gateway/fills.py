"""Fill de-duplication, the immediate-fill rule, and the cloid <-> oid map.

Hyperliquid reports one fill several times: on ``userFills`` and on ``userEvents``,
again in the ``userFills`` snapshot after every resubscription, and (for an order
that matched on arrival) first as ``{"filled": {"totalSz", "avgPx", "oid"}}`` in
the order response, then again as websocket fills.

* Websocket fills are keyed by (tid, oid). The transaction hash alone is not a
  key: a taker order that sweeps several levels produces several fills with one
  hash, and the public feed shows all-zero hashes. A fill without a tid (older
  format) is keyed by (hash, oid, px, sz, time).
* Immediate fills are de-duplicated by amount per oid (seed 004): the response's
  ``totalSz`` is applied at once and remembered; each later websocket fill of
  that oid first uses up the remembered amount, ``skip = min(remaining, sz)``,
  and only ``sz - skip`` is applied.
* The cloid -> oid map is never cleared on reconnect; it is rebuilt from the
  journal on restart and completed from ``frontendOpenOrders``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from shm_layout.constants import UF_HAS_CLOID, UF_HAS_HASH

EPS_SZ = 1e-9  # sizes closer than this are equal (decimal strings through floats)


@dataclass(frozen=True)
class Fill:
    coin: int
    oid: int
    tid: int
    px: float
    sz: float
    side: int  # +1 we bought, -1 we sold
    time_ms: int
    fee: float = 0.0
    hash: str = ""
    cloid: str = ""
    crossed: bool = False
    is_snapshot: bool = False

    def key(self) -> tuple:
        if self.tid:
            return (self.tid, self.oid)
        return (self.hash, self.oid, self.px, self.sz, self.time_ms)

    @classmethod
    def from_user_event(cls, ev) -> Fill:
        """From a USER_EVENT record of kind UE_FILL."""
        flags = int(ev["flags"])
        return cls(coin=int(ev["coin"]), oid=int(ev["oid"]), tid=int(ev["tid"]), px=float(ev["px"]),
                   sz=float(ev["sz"]), side=int(ev["side"]), time_ms=int(ev["time_ms"]),
                   fee=float(ev["fee"]),
                   hash="0x" + bytes(ev["hash"]).hex() if flags & UF_HAS_HASH else "",
                   cloid="0x" + bytes(ev["cloid"]).hex() if flags & UF_HAS_CLOID else "",
                   crossed=bool(ev["crossed"]), is_snapshot=bool(ev["is_snapshot"]))

    def to_record(self) -> dict:
        return {"coin": self.coin, "oid": self.oid, "tid": self.tid, "px": self.px, "sz": self.sz,
                "side": self.side, "time_ms": self.time_ms, "fee": self.fee, "hash": self.hash,
                "cloid": self.cloid, "crossed": self.crossed, "is_snapshot": self.is_snapshot}

    @classmethod
    def from_record(cls, r: dict) -> Fill:
        return cls(**{k: r[k] for k in cls.__dataclass_fields__ if k in r})


class CloidMap:
    """cloid <-> oid, for every order we placed (and adopted)."""

    def __init__(self) -> None:
        self._oid: dict[str, int] = {}
        self._cloid: dict[int, str] = {}

    def bind(self, cloid: str, oid: int) -> None:
        if not cloid or not oid:
            return
        cloid = cloid.lower()
        old = self._oid.get(cloid)
        if old is not None and old != oid:
            self._cloid.pop(old, None)  # a modify gives the same cloid a new oid
        self._oid[cloid] = oid
        self._cloid[oid] = cloid

    def oid(self, cloid: str) -> int | None:
        return self._oid.get(cloid.lower())

    def cloid(self, oid: int) -> str | None:
        return self._cloid.get(oid)

    def update_from_open_orders(self, orders: list[dict]) -> int:
        """Bind every (cloid, oid) of a ``frontendOpenOrders`` / ``openOrders`` body."""
        n = 0
        for o in orders:
            c, oid = o.get("cloid"), o.get("oid")
            if c and isinstance(oid, int) and self._oid.get(c.lower()) != oid:
                self.bind(c, oid)
                n += 1
        return n

    def __len__(self) -> int:
        return len(self._oid)


class FillProcessor:
    """Turns every report of a fill into the size to book, exactly once."""

    def __init__(self, memory: int = 200_000) -> None:
        self.memory = memory  # fill keys remembered (a userFills snapshot holds <= 2000)
        self._seen: set[tuple] = set()
        self._order: deque[tuple] = deque()
        self.immediate_remaining: dict[int, float] = {}  # oid -> size still to skip
        self.cloids = CloidMap()
        # metrics
        self.applied = 0
        self.duplicates = 0
        self.snapshot_duplicates = 0
        self.immediate_skipped_sz = 0.0

    def record_immediate(self, oid: int, total_sz: float, cloid: str = "") -> float:
        """An order response said ``filled`` with ``totalSz``: book it now; returns
        the size to apply (the websocket copies of it will be skipped by amount)."""
        if total_sz <= 0.0:
            return 0.0
        self.immediate_remaining[oid] = self.immediate_remaining.get(oid, 0.0) + total_sz
        self.cloids.bind(cloid, oid)
        return total_sz

    def on_fill(self, fill: Fill) -> float:
        """A websocket (or snapshot) fill: the size to book now; 0.0 if already booked."""
        k = fill.key()
        if k in self._seen:
            self.duplicates += 1
            if fill.is_snapshot:
                self.snapshot_duplicates += 1
            return 0.0
        self._seen.add(k)
        self._order.append(k)
        if len(self._order) > self.memory:
            self._seen.discard(self._order.popleft())
        if fill.cloid:
            self.cloids.bind(fill.cloid, fill.oid)
        sz = fill.sz
        rem = self.immediate_remaining.get(fill.oid)
        if rem is not None:
            skip = min(rem, sz)
            rem -= skip
            sz -= skip
            self.immediate_skipped_sz += skip
            if rem <= EPS_SZ:
                del self.immediate_remaining[fill.oid]
            else:
                self.immediate_remaining[fill.oid] = rem
            if sz <= EPS_SZ:
                return 0.0
        self.applied += 1
        return sz

    def seen(self, fill: Fill) -> bool:
        return fill.key() in self._seen
