"""Per-signer nonces: the venue keeps each signer's 100 highest nonces and rejects a
repeat ("Invalid nonce: duplicate nonce"), so two actions in one millisecond must not
share one. Use one NonceManager per signing key (agent wallet), shared by its threads."""

from __future__ import annotations

import threading
import time


class NonceManager:
    """Strictly increasing millisecond-timestamp nonces, thread-safe.

    `next()` returns max(now_ms, last + 1): the wall clock when it has moved on, one
    past the last nonce when several actions fall in the same millisecond."""

    __slots__ = ("_last", "_lock")

    def __init__(self, floor: int = 0) -> None:
        self._last = int(floor)
        self._lock = threading.Lock()

    def next(self, now_ms: int | None = None) -> int:
        if now_ms is None:
            now_ms = time.time_ns() // 1_000_000
        with self._lock:
            nonce = now_ms if now_ms > self._last else self._last + 1
            self._last = nonce
            return nonce

    def observe(self, nonce: int) -> None:
        """Raise the floor to a nonce used elsewhere (e.g. replayed from a journal)."""
        with self._lock:
            if nonce > self._last:
                self._last = int(nonce)

    @property
    def last(self) -> int:
        return self._last
