"""The pre-trade gate: every place and modify is checked before it leaves the gateway.

In the style of nautilus_trader's RiskEngine (each check returns a reason, or None
when the order passes), but failing closed: a mid or a position that is not known
(missing, zero, NaN) denies. Cancels are never gated.

Checks, in order (the first that fails is the reason):

* ``invalid``: price or size not finite and positive;
* ``no_mid``: no finite mid to check the price against;
* ``price_band``: priced further than ``price_band_bps`` from the mid;
* ``order_notional``: px x sz above ``max_order_notional_usd``;
* ``no_position``: the position is not a finite number;
* ``reduce_only``: |position| >= ``reduce_only_at_frac`` x the position limit and the
  order (with the open orders on its side) does not only reduce the position;
* ``position``: the position if this order and every open order on its side filled
  is beyond the position limit (and further out than the position now).

The position limit is in coin at the mid (``config.sizing``): ``max_position_usd`` /
mid, or ``max_position_sz`` when > 0, per coin where ``quote.per_coin`` says so.
* ``open_orders``: one more would exceed ``max_open_orders`` (the whole account);
* ``open_notional``: the resting notional with this order above ``max_open_notional_usd``.

``OpenBook`` is what is open, built from the tracker once per batch; an order that
passes is added to it, so a batch is checked as a whole. A modify takes its order
out of the book before the check (it replaces it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from appliance.config import sizing

log = logging.getLogger("gateway")

REASONS = ("invalid", "no_mid", "price_band", "order_notional", "no_position", "reduce_only",
           "position", "open_orders", "open_notional")
EPS_SZ = 1e-9
LOG_EVERY_S = 5.0  # a denial reason is logged at most this often (with the count since)


@dataclass(frozen=True)
class Limits:
    max_position_sz: float  # > 0: the limit in coin; else max_position_usd at the mid
    max_order_notional_usd: float
    max_open_notional_usd: float
    price_band_bps: float
    max_open_orders: int
    reduce_only_at_frac: float
    max_position_usd: float = 0.0
    # per coin index: (max_position_sz, max_position_usd) where quote.per_coin sets them
    per_coin: dict[int, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, risk_cfg, quote_cfg=None, coins: tuple[str, ...] = ()) -> Limits:
        """From ``cfg.risk`` (the position limit and ``[risk.pretrade]``), with the
        per-coin limits of ``quote_cfg.per_coin`` for ``coins`` (their indices)."""
        p = risk_cfg.pretrade
        per_coin = {}
        if quote_cfg is not None:
            for c, name in enumerate(coins):
                r = sizing.for_coin(quote_cfg, risk_cfg, name)[1]
                per_coin[c] = (float(r.max_position_sz), float(r.max_position_usd))
        return cls(float(risk_cfg.max_position_sz), float(p.max_order_notional_usd),
                   float(p.max_open_notional_usd), float(p.price_band_bps), int(p.max_open_orders),
                   float(p.reduce_only_at_frac), float(risk_cfg.max_position_usd), per_coin)

    def position_limit_sz(self, coin: int, mid_px: float) -> float:
        """The coin's position limit in coin at ``mid_px`` (NaN: not known)."""
        sz, usd = self.per_coin.get(coin, (self.max_position_sz, self.max_position_usd))
        return sizing.coin_amount(sz, usd, mid_px)


@dataclass
class OpenBook:
    """What rests (or may rest) now: per coin the open size per side; account totals."""

    buy_sz: dict[int, float] = field(default_factory=dict)
    sell_sz: dict[int, float] = field(default_factory=dict)
    notional_usd: float = 0.0
    n_orders: int = 0

    @classmethod
    def of(cls, orders: Iterable[tuple[int, bool, float, float]]) -> OpenBook:
        """From (coin, is_buy, px, open sz) of every order that may still fill."""
        b = cls()
        for coin, is_buy, px, sz in orders:
            b.add(coin, is_buy, px, sz)
        return b

    def add(self, coin: int, is_buy: bool, px: float, sz: float, sign: int = 1) -> None:
        side = self.buy_sz if is_buy else self.sell_sz
        side[coin] = side.get(coin, 0.0) + sign * sz
        self.notional_usd += sign * abs(px * sz)
        self.n_orders += sign

    def remove(self, coin: int, is_buy: bool, px: float, sz: float) -> None:
        self.add(coin, is_buy, px, sz, sign=-1)

    def side_sz(self, coin: int, is_buy: bool) -> float:
        return max(0.0, (self.buy_sz if is_buy else self.sell_sz).get(coin, 0.0))


def check(lim: Limits, book: OpenBook, coin: int, is_buy: bool, px: float, sz: float,
          mid_px: float, position_sz: float) -> str | None:
    """The first reason to deny this order, or None when it may leave."""
    if not (math.isfinite(px) and math.isfinite(sz) and px > 0.0 and sz > 0.0):
        return "invalid"
    if not (math.isfinite(mid_px) and mid_px > 0.0):
        return "no_mid"
    if abs(px - mid_px) / mid_px * 1e4 > lim.price_band_bps:
        return "price_band"
    if px * sz > lim.max_order_notional_usd:
        return "order_notional"
    if not math.isfinite(position_sz):
        return "no_position"
    limit_sz = lim.position_limit_sz(coin, mid_px)
    if not (math.isfinite(limit_sz) and limit_sz > 0.0):
        return "no_mid"  # no limit in coin without a price: deny
    sign = 1.0 if is_buy else -1.0
    same_side = book.side_sz(coin, is_buy) + sz
    if abs(position_sz) >= lim.reduce_only_at_frac * limit_sz:
        reduces = position_sz * sign < 0.0 and same_side <= abs(position_sz) + EPS_SZ
        if not reduces:
            return "reduce_only"
    worst = position_sz + sign * same_side  # every open order on this side filled
    if abs(worst) > limit_sz + EPS_SZ and abs(worst) > abs(position_sz) + EPS_SZ:
        return "position"
    if book.n_orders + 1 > lim.max_open_orders:
        return "open_orders"
    if book.notional_usd + px * sz > lim.max_open_notional_usd:
        return "open_notional"
    return None


class PreTradeGate:
    """The limits, the denial counters by reason, rate-limited logging."""

    def __init__(self, limits: Limits, clock=time.monotonic) -> None:
        self.limits = limits
        self.denials: dict[str, int] = {r: 0 for r in REASONS}
        self.total = 0
        self._clock = clock
        self._logged_at: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def check(self, book: OpenBook, coin: int, is_buy: bool, px: float, sz: float,
              mid_px: float, position_sz: float, what: str = "order") -> str | None:
        """``check`` plus bookkeeping: a passing order is added to ``book``; a denial
        is counted and logged. Returns the reason, or None."""
        reason = check(self.limits, book, coin, is_buy, px, sz, mid_px, position_sz)
        if reason is None:
            book.add(coin, is_buy, px, sz)
            return None
        self.denials[reason] += 1
        self.total += 1
        now = self._clock()
        if now - self._logged_at.get(reason, -math.inf) >= LOG_EVERY_S:
            more = self._unlogged.pop(reason, 0)
            log.warning("pre-trade gate: %s denied (%s): coin %d %s %g @ %g, mid %g, position %g%s",
                        what, reason, coin, "buy" if is_buy else "sell", sz, px, mid_px, position_sz,
                        f" ({more} more since the last message)" if more else "")
            self._logged_at[reason] = now
        else:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
        return reason
