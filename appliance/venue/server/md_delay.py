"""Market-data latency of the venue server: ws market frames leave ``md_latency`` after
the engine saw the events they describe.

Frames are serialized when the engine produces them (so they carry the engine-time
state and timestamps) and wait in one FIFO with a due time ``max(previous due, now +
draw)``: the draw is the venue's latency model (constant, or a floor plus a lognormal,
``appliance.venue.matching.latency``), and taking the max keeps every frame behind the
ones produced before it, across channels. One asyncio task releases due frames to the
subscribers of that moment; the market pacer only appends, never waits.

User channels (fills, order updates, fundings, ledger events) and post/REST answers
are not delayed: order entry has its own latency (``order_latency_*``) and a real
venue's user stream is not behind its market stream by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from appliance.venue.matching.latency import new_latency, sample_latency_ns

log = logging.getLogger(__name__)

MD_CHANNELS = frozenset({"l2Book", "trades", "bbo", "allMids", "activeAssetCtx"})
MD_SEED_SALT = 0x4D44  # the md draws are a sequence of their own, apart from order entry


class MdDelay:
    """A FIFO of (due monotonic s, deliver callback, args) released by one task."""

    def __init__(self, latency_ms: float, jitter_ms: float = 0.0, sigma: float = 1.0,
                 seed: int = 1) -> None:
        jitter = jitter_ms > 0
        self.lat = new_latency("lognormal" if jitter else "constant",
                               int(round(latency_ms * 1e6)), jitter_ms * 1e6, sigma,
                               seed=(int(seed) or 1) + MD_SEED_SALT)
        self.queue: deque[tuple[float, Callable, tuple]] = deque()
        self.last_due_s = 0.0
        self.n_delayed = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    @staticmethod
    def enabled(latency_ms: float, jitter_ms: float) -> bool:
        return latency_ms > 0 or jitter_ms > 0

    def push(self, deliver: Callable, *args) -> None:
        """Call ``deliver(*args)`` one latency draw from now, after everything pushed before."""
        due = time.monotonic() + sample_latency_ns(self.lat[0]) / 1e9
        if due < self.last_due_s:
            due = self.last_due_s
        self.last_due_s = due
        self.queue.append((due, deliver, args))
        self.n_delayed += 1
        if self._task is None:  # first use: started lazily on the running loop
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def _run(self) -> None:
        q = self.queue
        while True:
            if not q:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait_s = q[0][0] - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)  # the head is the earliest: due times never decrease
                continue
            now = time.monotonic()
            while q and q[0][0] <= now:
                _, deliver, args = q.popleft()
                try:
                    deliver(*args)
                except Exception:  # one bad frame must not stop market data
                    log.exception("delayed market frame failed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.queue.clear()
