"""The position/P&L line: every ``logs.position_every_s``, one line per coin from the
PositionState the watchdog has just read (no read of its own), and the same figures in
the risk process's shutdown summary.

In risk, not the gateway: the watchdog reads every coin's position each cycle anyway,
off the hot path, and it runs whichever gateway (paper or Hyperliquid) is trading.
"""

from __future__ import annotations

import logging
import time

from appliance.runtime.position_fields import position_fields, totals

log = logging.getLogger("risk")


class PositionLog:
    def __init__(self, coins: tuple[str, ...], every_s: float) -> None:
        self.coins = coins
        self.every_ns = int(every_s * 1e9)
        self.next_ns = time.monotonic_ns() + self.every_ns
        self.lines = 0

    def step(self, positions, now_ns: int) -> None:
        """``positions``: the cycle's BlockReader of PositionState (``get(c)``)."""
        if not self.every_ns or now_ns < self.next_ns:
            return
        self.next_ns = now_ns + self.every_ns
        for c, coin in enumerate(self.coins):
            rec = positions.get(c)
            if rec is None:  # not read yet: nothing true to say
                continue
            f = position_fields(rec)
            self.lines += 1
            log.info("position %s %g, P&L %.2f USD (realized %.2f, unrealized %.2f, fees %.2f)",
                     coin, f["position_sz"], f["total_pnl_usd"], f["realized_pnl_usd"],
                     f["unrealized_pnl_usd"], f["fees_usd"],
                     extra={"event": "position", "coin": coin, **f})

    def summary(self, positions) -> dict:
        recs = [positions.get(c) for c in range(len(self.coins))]
        known = [r for r in recs if r is not None]
        return {**totals(known), "coins": {coin: position_fields(r) for coin, r
                                           in zip(self.coins, recs, strict=True) if r is not None}}
