"""Funding payments booked once although Hyperliquid reports each one twice.

A payment arrives on ``userFundings`` (with its ``time``, the funding hour) and on
``user`` (userEvents, ``{"funding": {...}}``, without a time); the ``userFundings``
snapshot after every resubscription repeats the recent ones. Keys:

* a timed copy: (coin, usdc, szi, rate) and its time; the same key again is a repeat;
* an untimed copy: (coin, usdc, szi, rate) and its receive time.

A timed and an untimed copy with the same amounts whose times are within
``WINDOW_MS`` of each other are one payment: each copy can absorb at most one of
the other kind, so two real payments of equal amounts an hour apart stay two.
"""

from __future__ import annotations

WINDOW_MS = 10 * 60 * 1000  # a ws copy lands seconds after the funding time
KEEP_MS = 3 * 24 * 3600 * 1000  # older entries are forgotten (the snapshot is shorter)


def amount_key(coin: int, usdc: float, szi: float, rate: float) -> tuple:
    return (int(coin), round(float(usdc), 8), round(float(szi), 8), round(float(rate), 10))


class FundingBook:
    def __init__(self) -> None:
        # amount key -> [[t_ms, timed, matched], ...]
        self._by_key: dict[tuple, list[list]] = {}
        self.duplicates = 0

    def accept(self, coin: int, usdc: float, szi: float, rate: float, time_ms: int,
               recv_ms: int) -> bool:
        """True if this report is a payment not booked yet (and remember it)."""
        k = amount_key(coin, usdc, szi, rate)
        entries = self._by_key.setdefault(k, [])
        timed = time_ms > 0
        t = time_ms if timed else recv_ms
        for e in entries:
            if timed and e[1] and e[0] == t:
                self.duplicates += 1  # the same timed report again (snapshot)
                return False
        for e in entries:
            if e[1] != timed and not e[2] and abs(e[0] - t) <= WINDOW_MS:
                e[2] = True  # the other channel's copy of this payment
                entries.append([t, timed, True])
                self.duplicates += 1
                return False
        entries.append([t, timed, False])
        self._prune(entries, t)
        return True

    def _prune(self, entries: list[list], now_ms: int) -> None:
        if len(entries) > 64:
            entries[:] = [e for e in entries if now_ms - e[0] <= KEEP_MS]

    def records(self) -> list[dict]:
        """What a compacted journal keeps (``restore`` reads it back)."""
        return [{"key": list(k), "e": entries} for k, entries in self._by_key.items()]

    def restore(self, recs: list[dict]) -> None:
        for r in recs:
            self._by_key[tuple(r["key"])] = [list(e) for e in r["e"]]

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())
