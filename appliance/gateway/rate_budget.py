"""Rate-limit budget: the IP weight we spend, the address quota we have left.

* IP: 1200 weight per minute across all REST, tracked locally over a sliding
  60 s window. An exchange request weighs ``1 + floor(batch_len / 40)``; info
  requests weigh 2 (l2Book, allMids, clearinghouseState, orderStatus,
  spotClearinghouseState, exchangeStatus), 60 (userRole) or 20 (everything
  else), plus 1 per 20 items returned for the listing endpoints (1 per 60 for
  candleSnapshot).
* Address: cap and usage from ``userRateLimit`` (``nRequestsCap``,
  ``nRequestsUsed``), advanced locally by every order/cancel we send between two
  refreshes (a batch of n counts n); the "Too many cumulative requests sent
  (used > cap)" error sets both.
* Headroom = min(IP, address) free fraction. Below ``headroom_threshold`` (10 %)
  with a position of at least ``position_threshold_frac`` (1 %) of the maximum,
  only the side that reduces the position is quoted (seed 002 part 5). The mode
  is a flag (``reducing_side``) and a metric.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable

from . import reconcile_kernel as rk

log = logging.getLogger(__name__)

IP_WEIGHT_PER_MIN = 1200
WINDOW_S = 60.0

INFO_WEIGHT_2 = frozenset({"l2Book", "allMids", "clearinghouseState", "orderStatus",
                           "spotClearinghouseState", "exchangeStatus"})
INFO_WEIGHT_60 = frozenset({"userRole"})
INFO_PER_20_ITEMS = frozenset({"recentTrades", "historicalOrders", "userFills", "userFillsByTime",
                               "fundingHistory", "userFunding", "nonUserFundingUpdates",
                               "twapHistory", "userTwapSliceFills", "userTwapSliceFillsByTime",
                               "delegatorHistory", "delegatorRewards", "validatorStats"})

_CAP_ERROR = re.compile(r"Too many cumulative requests sent \((\d+) > (\d+)\)")


def exchange_weight(batch_len: int) -> int:
    """``reconcile_kernel.exchange_weight`` (the backtester charges the same)."""
    return int(rk.exchange_weight(int(batch_len)))


def info_weight(req_type: str, n_items: int = 0) -> int:
    if req_type in INFO_WEIGHT_2:
        w = 2
    elif req_type in INFO_WEIGHT_60:
        w = 60
    else:
        w = 20
    if req_type in INFO_PER_20_ITEMS:
        w += max(0, n_items) // 20
    elif req_type == "candleSnapshot":
        w += max(0, n_items) // 60
    return w


class RateBudget:
    def __init__(self, ip_limit: int = IP_WEIGHT_PER_MIN, headroom_threshold: float = 0.10,
                 position_threshold_frac: float = 0.01,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ip_limit = ip_limit
        self.headroom_threshold = headroom_threshold
        self.position_threshold_frac = position_threshold_frac
        self.clock = clock
        self._spent: deque[tuple[float, int]] = deque()  # (time s, weight)
        self._ip_used = 0
        self.addr_cap = 0  # 0 = not known yet
        self.addr_used = 0
        self.cum_vlm_usd = 0.0
        self.n_429 = 0
        self.n_cap_errors = 0
        self.reducing_side = 0  # last decision: 0 both sides, -1 sells only, +1 buys only

    # --- IP weight ----------------------------------------------------------------

    def _expire(self, now: float) -> None:
        while self._spent and now - self._spent[0][0] >= WINDOW_S:
            self._ip_used -= self._spent.popleft()[1]

    def _spend(self, w: int, now: float | None) -> int:
        now = self.clock() if now is None else now
        self._expire(now)
        self._spent.append((now, w))
        self._ip_used += w
        return w

    def charge_exchange(self, n_actions: int, now: float | None = None) -> int:
        """One /exchange request carrying ``n_actions`` orders/cancels/modifies."""
        self.addr_used += max(1, n_actions)
        return self._spend(exchange_weight(n_actions), now)

    def charge_info(self, req_type: str, n_items: int = 0, now: float | None = None) -> int:
        return self._spend(info_weight(req_type, n_items), now)

    def ip_used(self, now: float | None = None) -> int:
        self._expire(self.clock() if now is None else now)
        return self._ip_used

    def ip_headroom_frac(self, now: float | None = None) -> float:
        return max(0.0, 1.0 - self.ip_used(now) / self.ip_limit)

    def can_spend(self, weight: int, now: float | None = None) -> bool:
        return self.ip_used(now) + weight <= self.ip_limit

    def on_429(self) -> None:
        """The IP limit answered 429 ``null``: assume the window is full."""
        self.n_429 += 1
        now = self.clock()
        self._expire(now)
        missing = self.ip_limit - self._ip_used
        if missing > 0:
            self._spent.append((now, missing))
            self._ip_used += missing

    # --- address quota ------------------------------------------------------------

    def update_user_rate_limit(self, body: dict) -> None:
        """From a ``userRateLimit`` response."""
        self.addr_cap = int(body["nRequestsCap"])
        self.addr_used = int(body["nRequestsUsed"])
        self.cum_vlm_usd = float(body.get("cumVlm", 0.0))

    def on_error_text(self, text: str) -> bool:
        """A whole-request error; True (and quota updated) if it is the address cap."""
        m = _CAP_ERROR.search(text or "")
        if m is None:
            return False
        self.n_cap_errors += 1
        self.addr_used, self.addr_cap = int(m.group(1)), int(m.group(2))
        log.warning("address request cap reached: %s", text)
        return True

    def address_headroom_frac(self) -> float:
        if self.addr_cap <= 0:
            return 1.0  # unknown until the first userRateLimit: do not restrict
        return max(0.0, (self.addr_cap - self.addr_used) / self.addr_cap)

    def cancel_cap(self) -> int:
        """Cancels are allowed up to min(cap + 100000, 2 cap)."""
        return min(self.addr_cap + 100_000, 2 * self.addr_cap)

    # --- the decision -------------------------------------------------------------

    def headroom_frac(self, now: float | None = None) -> float:
        return min(self.ip_headroom_frac(now), self.address_headroom_frac())

    def decide(self, position_sz: float, max_position_sz: float, now: float | None = None) -> int:
        """0: quote both sides; -1: sells only (long); +1: buys only (short)."""
        side = 0
        if (self.headroom_frac(now) < self.headroom_threshold and max_position_sz > 0.0
                and abs(position_sz) >= self.position_threshold_frac * max_position_sz):
            side = -1 if position_sz > 0.0 else 1
        if side != self.reducing_side:
            log.warning("rate budget: %s (headroom %.1f %%, position %g of max %g)",
                        "reducing side only" if side else "both sides again",
                        100 * self.headroom_frac(now), position_sz, max_position_sz)
        self.reducing_side = side
        return side

    def metrics(self, now: float | None = None) -> dict[str, float]:
        return {
            "ip_weight_used": float(self.ip_used(now)),
            "ip_headroom_frac": self.ip_headroom_frac(now),
            "address_requests_used": float(self.addr_used),
            "address_requests_cap": float(self.addr_cap),
            "address_headroom_frac": self.address_headroom_frac(),
            "reducing_side_only": float(self.reducing_side != 0),
            "reducing_side": float(self.reducing_side),
            "http_429": float(self.n_429),
            "address_cap_errors": float(self.n_cap_errors),
        }
