"""The venue's two rate limits.

IP: 1200 weight per minute across REST (token bucket refilled continuously);
exchange requests weigh 1 + floor(batch/40), info requests 2 or 20 (+1 per 20
items for the listed endpoints). Over budget: HTTP 429 with body ``null``.

Address (actions only): cap = base + 1 per USDC of cumulative traded volume
(base: ``[venue] address_base_cap``; Hyperliquid's is 10 000, the default config's
100 000 adds an allowance for the demo account's prior volume); a batch of n
counts n; cancels may go to min(cap + 100 000, 2 cap); once limited, one request
per 10 s still passes. Error text as the real venue's.
"""

from __future__ import annotations

import math
import threading
import time

from .fmt import usd_plain

INFO_WEIGHT_2 = frozenset({"l2Book", "allMids", "clearinghouseState", "orderStatus",
                           "spotClearinghouseState", "exchangeStatus"})
INFO_WEIGHT_60 = frozenset({"userRole"})
INFO_PER_ITEMS = frozenset({"recentTrades", "historicalOrders", "userFills", "userFillsByTime",
                            "fundingHistory", "userFunding", "nonUserFundingUpdates", "twapHistory"})
LIMITED_GRACE_S = 10.0


def info_weight(req_type: str) -> int:
    if req_type in INFO_WEIGHT_2:
        return 2
    if req_type in INFO_WEIGHT_60:
        return 60
    return 20


def info_extra_weight(req_type: str, n_items: int) -> int:
    return n_items // 20 if req_type in INFO_PER_ITEMS else 0


def exchange_weight(batch_len: int) -> int:
    return 1 + batch_len // 40


class IpLimiter:
    def __init__(self, weight_per_min: int) -> None:
        self.capacity = float(weight_per_min)
        self.rate_per_s = weight_per_min / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # ip -> (tokens, t)
        self._lock = threading.Lock()

    def take(self, ip: str, weight: int) -> bool:
        """Spend ``weight``; False (and nothing spent) when the budget is short."""
        now = time.monotonic()
        with self._lock:
            tokens, t = self._buckets.get(ip, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - t) * self.rate_per_s)
            if tokens < weight:
                self._buckets[ip] = (tokens, now)
                return False
            self._buckets[ip] = (tokens - weight, now)
            return True

    def charge(self, ip: str, weight: int) -> None:
        """Add weight learned after answering (items returned); may go below zero."""
        if weight <= 0:
            return
        with self._lock:
            tokens, t = self._buckets.get(ip, (self.capacity, time.monotonic()))
            self._buckets[ip] = (tokens - weight, t)


class AddressLimiter:
    def __init__(self, base_cap: int) -> None:
        self.base_cap = int(base_cap)
        self.used: dict[str, int] = {}
        self.volume_usd: dict[str, float] = {}
        self._last_grace: dict[str, float] = {}

    def cap(self, user: str) -> int:
        return self.base_cap + int(math.floor(self.volume_usd.get(user, 0.0)))

    def add_volume(self, user: str, notional_usd: float) -> None:
        self.volume_usd[user] = self.volume_usd.get(user, 0.0) + abs(notional_usd)

    def check_and_count(self, user: str, n: int, is_cancel: bool = False) -> str | None:
        """None if allowed (and counted), else the real error text."""
        used = self.used.get(user, 0)
        cap = self.cap(user)
        limit = min(cap + 100_000, 2 * cap) if is_cancel else cap
        if used + n > limit:
            now = time.monotonic()
            last = self._last_grace.get(user)
            if last is None or now - last < LIMITED_GRACE_S:
                if last is None:
                    self._last_grace[user] = now  # limited from now on: 1 request per 10 s
                vol = self.volume_usd.get(user, 0.0)
                return (f"Too many cumulative requests sent ({used + n} > {limit}) for cumulative "
                        f"volume traded ${usd_plain(vol)}. Place taker orders to free up 1 request "
                        "per USDC traded.")
            self._last_grace[user] = now
        self.used[user] = used + n
        return None

    def status(self, user: str) -> dict:
        cap = self.cap(user)
        used = self.used.get(user, 0)
        return {"cumVlm": f"{self.volume_usd.get(user, 0.0):.6f}".rstrip("0").rstrip(".") or "0",
                "nRequestsUsed": used, "nRequestsCap": cap,
                "nRequestsSurplus": 0}
