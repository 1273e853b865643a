"""From a TargetLadder and our live orders to the actions that make them agree.

Per coin and side, targets and live orders are both taken best price first:

1. keep: a live order within ``px_tolerance_bps`` of a target's price and within
   ``sz_tolerance_frac`` of its size is kept untouched: it keeps its queue place;
2. the remaining targets and live orders are paired in price order: a
   ``batchModify`` each (or cancel + place when ``use_modify`` is off);
3. live orders left over are cancelled, targets left over are placed.

``ladder_changed`` tells whether a new ladder is worth planning at all (a level
moved beyond the tolerances); ``is_urgent_modify`` separates modifies that remove
risk from those that only improve the quote (``requote_pacing`` rations the latter).

A side that is pulled (no targets, or not allowed: reducing-only mode) cancels
everything on it. Only active orders (Resting, PartialFilled) are considered:
an order whose cancel is in flight is never cancelled again. Targets below the
venue's minimum notional are dropped (counted).

``ActionBatcher`` collects the plans of a window (at most ``window_ms``, 100 ms
by default; a newer plan of a coin replaces an unsent one) and flushes them as
batches: cancels first, then modifies, then new orders, with post-only (Alo)
orders and modifies in batches apart from Gtc/Ioc ones (validators prioritize
Alo-only batches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shm_layout.constants import MAX_LEVELS


@dataclass(frozen=True)
class LiveOrder:
    cloid: str
    oid: int
    coin: int
    is_buy: bool
    px: float
    sz: float  # open size
    tif: str = "Alo"


@dataclass(frozen=True)
class Target:
    coin: int
    is_buy: bool
    px: float
    sz: float
    level: int


@dataclass(frozen=True)
class Modify:
    order: LiveOrder
    px: float
    sz: float
    level: int
    tif: str


@dataclass(frozen=True)
class NewOrder:
    coin: int
    is_buy: bool
    px: float
    sz: float
    level: int
    tif: str
    reduce_only: bool = False


@dataclass
class Plan:
    coin: int
    keep: list[LiveOrder] = field(default_factory=list)
    modify: list[Modify] = field(default_factory=list)
    cancel: list[LiveOrder] = field(default_factory=list)
    place: list[NewOrder] = field(default_factory=list)
    dropped_small: int = 0  # targets under the minimum notional

    @property
    def n_actions(self) -> int:
        return len(self.modify) + len(self.cancel) + len(self.place)


@dataclass(frozen=True)
class PlanConfig:
    px_tolerance_bps: float = 1.0
    sz_tolerance_frac: float = 0.10
    use_modify: bool = True
    tif: str = "Alo"  # market making rests: post-only
    min_notional_usd: float = 10.0


def targets_from_ladder(ladder, coin: int,
                        round_px: Callable[[float, bool], float] | None = None,
                        round_sz: Callable[[float], float] | None = None) -> list[Target]:
    """The levels of a TARGET_LADDER record (rounded to tick and lot when given)."""
    out: list[Target] = []
    if int(ladder["pulled_reason"]) != 0:
        return out
    for is_buy, n, pxs, szs in ((True, int(ladder["n_bids"]), ladder["bid_px"], ladder["bid_sz"]),
                                (False, int(ladder["n_asks"]), ladder["ask_px"], ladder["ask_sz"])):
        for i in range(min(n, MAX_LEVELS)):
            px, sz = float(pxs[i]), float(szs[i])
            if round_px is not None:
                px = round_px(px, is_buy)
            if round_sz is not None:
                sz = round_sz(sz)
            if px > 0.0 and sz > 0.0:
                out.append(Target(coin, is_buy, px, sz, i))
    return out


def _within(o: LiveOrder, t: Target, cfg: PlanConfig) -> bool:
    return (abs(o.px - t.px) <= cfg.px_tolerance_bps * 1e-4 * t.px
            and abs(o.sz - t.sz) <= cfg.sz_tolerance_frac * t.sz)


def plan_coin(coin: int, targets: list[Target], live: list[LiveOrder], cfg: PlanConfig,
              allow_buy: bool = True, allow_sell: bool = True,
              reduce_only_side: int = 0) -> Plan:
    """The actions that turn ``live`` (active orders of ``coin``) into ``targets``.

    ``allow_buy``/``allow_sell`` False pulls a side. ``reduce_only_side`` (+1 buy,
    -1 sell, 0 none) marks new orders of that side reduce-only.
    """
    plan = Plan(coin)
    for is_buy, allowed in ((True, allow_buy), (False, allow_sell)):
        sign = 1.0 if is_buy else -1.0  # best first: bids high to low, asks low to high
        side_live = sorted((o for o in live if o.is_buy == is_buy and o.coin == coin),
                           key=lambda o: -sign * o.px)
        if not allowed:
            plan.cancel.extend(side_live)
            continue
        side_tgt = []
        for t in targets:
            if t.is_buy != is_buy or t.coin != coin:
                continue
            if t.px * t.sz < cfg.min_notional_usd:
                plan.dropped_small += 1
                continue
            side_tgt.append(t)
        side_tgt.sort(key=lambda t: -sign * t.px)
        used = [False] * len(side_live)
        unmatched_t: list[Target] = []
        for t in side_tgt:
            # the closest unused order within tolerance: levels that merely reorder (or two
            # levels rounding to one price) keep their orders instead of swapping them
            best, best_d = -1, 0.0
            for j, o in enumerate(side_live):
                if not used[j] and _within(o, t, cfg):
                    d = abs(o.px - t.px) / t.px + abs(o.sz - t.sz) / (t.sz * 1e4)
                    if best < 0 or d < best_d:
                        best, best_d = j, d
            if best >= 0:
                used[best] = True
                plan.keep.append(side_live[best])
            else:
                unmatched_t.append(t)
        rest = [o for j, o in enumerate(side_live) if not used[j]]
        ro = reduce_only_side == (1 if is_buy else -1)
        pairs = min(len(rest), len(unmatched_t)) if cfg.use_modify else 0
        for o, t in zip(rest[:pairs], unmatched_t[:pairs], strict=True):
            plan.modify.append(Modify(o, t.px, t.sz, t.level, cfg.tif))
        plan.cancel.extend(rest[pairs:])
        for t in unmatched_t[pairs:]:
            plan.place.append(NewOrder(coin, is_buy, t.px, t.sz, t.level, cfg.tif, ro))
    return plan


def ladder_changed(prev: list[Target] | None, new: list[Target], cfg: PlanConfig) -> bool:
    """True when ``new`` differs materially from ``prev`` (the targets last planned):
    another level count on a side, or a level (best first per side) whose price or
    size moved beyond the requote tolerances. Jitter inside them changes nothing."""
    if prev is None or len(prev) != len(new):
        return True
    key = lambda t: (not t.is_buy, -t.px if t.is_buy else t.px)  # noqa: E731
    for a, b in zip(sorted(prev, key=key), sorted(new, key=key), strict=True):
        if a.is_buy != b.is_buy or not _within(LiveOrder("", 0, a.coin, a.is_buy, a.px, a.sz), b, cfg):
            return True
    return False


def is_urgent_modify(m: Modify, cfg: PlanConfig, urgent_sz_frac: float = 0.5) -> bool:
    """A modify that removes risk: the resting order is more aggressive than its target
    (a bid above it, an ask below it, beyond the tolerance) or larger than it by more
    than ``urgent_sz_frac``. Other
    modifies (moving closer to the mid, growing) only improve the quote and can wait
    for the request budget."""
    o = m.order
    tol = cfg.px_tolerance_bps * 1e-4 * m.px
    too_aggressive = (o.px - m.px > tol) if o.is_buy else (m.px - o.px > tol)
    return too_aggressive or o.sz - m.sz > max(cfg.sz_tolerance_frac, urgent_sz_frac) * m.sz


@dataclass(frozen=True)
class Batch:
    kind: str  # "cancel" | "modify" | "order"
    post_only: bool  # every item Alo (order/modify); False for cancels
    items: tuple


class ActionBatcher:
    """Collects plans for at most ``window_ms`` and flushes them as batches."""

    def __init__(self, window_ms: float = 100.0, max_items: int = 100) -> None:
        self.window_ms = window_ms
        self.max_items = max_items
        self._plans: dict[int, Plan] = {}
        self._first_ms: float | None = None
        self.batches_sent = 0

    def add(self, plan: Plan, now_ms: float) -> None:
        if plan.n_actions == 0:
            self._plans.pop(plan.coin, None)  # nothing to do any more for this coin
            if not self._plans:
                self._first_ms = None
            return
        self._plans[plan.coin] = plan  # a newer plan supersedes the unsent one
        if self._first_ms is None:
            self._first_ms = now_ms

    def pending(self) -> int:
        return sum(p.n_actions for p in self._plans.values())

    def due(self, now_ms: float) -> bool:
        return self._first_ms is not None and now_ms - self._first_ms >= self.window_ms

    def flush(self) -> list[Batch]:
        plans = [self._plans[c] for c in sorted(self._plans)]
        self._plans.clear()
        self._first_ms = None
        cancels = [o for p in plans for o in p.cancel]
        mods = [m for p in plans for m in p.modify]
        places = [n for p in plans for n in p.place]
        out: list[Batch] = []
        out += self._chunks("cancel", False, cancels)
        out += self._chunks("modify", True, [m for m in mods if m.tif == "Alo"])
        out += self._chunks("modify", False, [m for m in mods if m.tif != "Alo"])
        out += self._chunks("order", True, [n for n in places if n.tif == "Alo"])
        out += self._chunks("order", False, [n for n in places if n.tif != "Alo"])
        self.batches_sent += len(out)
        return out

    def _chunks(self, kind: str, post_only: bool, items: list) -> list[Batch]:
        return [Batch(kind, post_only, tuple(items[i:i + self.max_items]))
                for i in range(0, len(items), self.max_items)]
