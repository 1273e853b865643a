"""From a TargetLadder and our live orders to the actions that make them agree.

The plan itself is ``reconcile_kernel.plan`` (njit, shared with the paper executor
and the backtester); this module is its Python face for the live gateway. Per coin
and side, targets and live orders are both taken best price first:

1. keep: a live order within ``sz_tolerance_frac`` of a target's size and within
   ``px_tolerance_bps`` of its price, or within ``keep_tolerance_bps`` while its edge at
   its own price is positive (requote hysteresis, ``reconcile_kernel.keeps``), is kept
   untouched: it keeps its queue place;
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

import math
from dataclasses import dataclass, field

import numpy as np

from shm_layout.constants import MAX_LEVELS

from . import ladder_kernel as lk
from . import reconcile_kernel as rk


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
    edge_bps: float = math.nan  # the level's per-fill edge (NaN: not known, no hysteresis)
    value_usd: float = math.nan  # what the level is expected to earn (NaN: not known)


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
    keep_tolerance_bps: float = 0.0  # hysteresis: kept this far off while it has edge
    keep_sz_frac: float = 0.0  # size hysteresis: a smaller order kept down to this share less
    keep_depth_bps: float = 0.0  # keep band, deeper side (0: keep_tolerance_bps)
    keep_to_edge_zero: bool = False  # keep band, nearer side: to the edge's zero
    request_cost_usd: float = 0.0  # a level worth less is not worth a request (0: off)


def plan_config_of(g, min_notional_usd: float) -> PlanConfig:
    """The reconciler's settings from the ``[gateway]`` config (``GatewayConfig``), as the
    live gateway and the backtester run them: post-only, and a request priced at the maker
    fee on the USDC that earns it back (``reconcile_kernel.address_request_cost_usd``)."""
    return PlanConfig(px_tolerance_bps=g.requote_tolerance_bps, sz_tolerance_frac=g.sz_tolerance_frac,
                      use_modify=g.use_modify, tif="Alo", min_notional_usd=min_notional_usd,
                      keep_tolerance_bps=g.keep_tolerance_bps, keep_sz_frac=g.keep_sz_frac,
                      keep_depth_bps=g.keep_depth_bps, keep_to_edge_zero=g.keep_to_edge_zero,
                      request_cost_usd=rk.address_request_cost_usd(
                          g.maker_fee_bps, g.requote_requests_per_usd, g.request_cost_mult))


def targets_from_ladder(ladder, coin: int, sz_decimals: int | None = None) -> list[Target]:
    """The levels of a TARGET_LADDER record (``reconcile_kernel.ladder_targets``): with
    ``sz_decimals``, prices rounded passively (bids down, asks up) and sizes to the lot
    by ``hyperliquid.rules``, as the backtester rounds them."""
    rec = ladder.reshape(1)[0] if isinstance(ladder, np.ndarray) else ladder
    n_max = 2 * MAX_LEVELS
    is_buy, px, sz = np.zeros(n_max, np.bool_), np.zeros(n_max), np.zeros(n_max)
    level = np.zeros(n_max, np.int64)
    edge, value = np.zeros(n_max), np.zeros(n_max)
    n = rk.ladder_targets(rec, -1 if sz_decimals is None else int(sz_decimals), is_buy, px, sz, level,
                          edge, value)
    return [Target(coin, bool(is_buy[k]), float(px[k]), float(sz[k]), int(level[k]), float(edge[k]),
                   float(value[k])) for k in range(n)]


def kernel_config(cfg: PlanConfig) -> np.ndarray:
    """``cfg`` as the reconcile kernel's vector (pacing off: ``RequotePacer`` adds it)."""
    return rk.plan_config_vector(cfg.px_tolerance_bps, cfg.sz_tolerance_frac, cfg.use_modify,
                                 cfg.min_notional_usd, keep_tolerance_bps=cfg.keep_tolerance_bps,
                                 keep_sz_frac=cfg.keep_sz_frac, keep_depth_bps=cfg.keep_depth_bps,
                                 keep_to_edge_zero=cfg.keep_to_edge_zero,
                                 request_cost_usd=cfg.request_cost_usd)


def plan_arrays(targets: list[Target], live: list[LiveOrder]) -> tuple[np.ndarray, ...]:
    """Live orders and targets as the kernel's arrays (is_buy, px, sz[, level, edge, value])."""
    return (np.array([o.is_buy for o in live], np.bool_), np.array([o.px for o in live], np.float64),
            np.array([o.sz for o in live], np.float64),
            np.array([t.is_buy for t in targets], np.bool_), np.array([t.px for t in targets], np.float64),
            np.array([t.sz for t in targets], np.float64), np.array([t.level for t in targets], np.int64),
            np.array([t.edge_bps for t in targets], np.float64),
            np.array([t.value_usd for t in targets], np.float64))


def plan_from_rows(coin: int, rows: np.ndarray, targets: list[Target], live: list[LiveOrder],
                   tif: str, reduce_only_side: int = 0, dropped_small: int = 0) -> Plan:
    """A ``Plan`` from the kernel's rows (kind, live index, target index)."""
    plan = Plan(coin, dropped_small=dropped_small)
    for kind, j, i in rows.tolist():
        if kind == rk.ACT_KEEP:
            plan.keep.append(live[j])
        elif kind == rk.ACT_MODIFY:
            t = targets[i]
            plan.modify.append(Modify(live[j], t.px, t.sz, t.level, tif))
        elif kind == rk.ACT_CANCEL:
            plan.cancel.append(live[j])
        elif kind == rk.ACT_PLACE:
            t = targets[i]
            ro = reduce_only_side == (1 if t.is_buy else -1)
            plan.place.append(NewOrder(coin, t.is_buy, t.px, t.sz, t.level, tif, ro))
    return plan


def plan_coin(coin: int, targets: list[Target], live: list[LiveOrder], cfg: PlanConfig,
              allow_buy: bool = True, allow_sell: bool = True,
              reduce_only_side: int = 0) -> Plan:
    """The actions that turn ``live`` (active orders of ``coin``) into ``targets``
    (``reconcile_kernel.plan``, the reconciler the paper executor and the backtester run).

    ``allow_buy``/``allow_sell`` False pulls a side. ``reduce_only_side`` (+1 buy,
    -1 sell, 0 none) marks new orders of that side reduce-only.
    """
    live = [o for o in live if o.coin == coin]
    targets = [t for t in targets if t.coin == coin]
    lb, lp, ls, tb, tp, ts, _, te, tv = plan_arrays(targets, live)
    out = rk.new_plan_buffer(max(len(live), len(targets)))
    n, dropped = rk.plan(lb, lp, ls, len(live), tb, tp, ts, te, tv, len(targets), bool(allow_buy),
                         bool(allow_sell), kernel_config(cfg), out, cfg.request_cost_usd)
    return plan_from_rows(coin, out[:n], targets, live, cfg.tif, reduce_only_side, int(dropped))


def ladder_changed(prev: list[Target] | None, new: list[Target], cfg: PlanConfig) -> bool:
    """True when ``new`` differs materially from ``prev`` (the targets last planned):
    another level count on a side, or a level (best first per side) whose price or
    size moved beyond the requote tolerances. Jitter inside them changes nothing
    (``ladder_kernel.ladder_moved``, the test the gateway's planner runs)."""
    if prev is None:
        return True
    a, b = plan_arrays(prev, []), plan_arrays(new, [])
    return bool(lk.ladder_moved(a[3], a[4], a[5], len(prev), b[3], b[4], b[5], len(new),
                                cfg.px_tolerance_bps, cfg.sz_tolerance_frac))


def is_urgent_modify(m: Modify, cfg: PlanConfig, urgent_sz_frac: float = 0.5) -> bool:
    """A modify that removes risk (``reconcile_kernel.is_urgent_modify``): the resting
    order is more aggressive than its target beyond the tolerance, or larger than it by
    more than ``urgent_sz_frac``. Other modifies only improve the quote and can wait."""
    o = m.order
    return bool(rk.is_urgent_modify(o.is_buy, o.px, o.sz, m.px, m.sz, cfg.px_tolerance_bps,
                                    cfg.sz_tolerance_frac, urgent_sz_frac))


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
