"""Requote pacing: spend the venue's address request budget so it lasts.

The address cap (10 000 requests + 1 per USDC traded) is cumulative: every order,
modify and cancel spends one for good. A quote model that moves its ladder a few
bps every 100 ms would spend it in minutes, after which only the reducing side can
be quoted. So the actions of a plan are split in two:

* urgent (always sent): cancels (a pulled side, a level too many), modifies that
  remove risk (``reconcile_kernel.is_urgent_modify`` with ``urgent_tolerance_bps``:
  the order rests more aggressively than its target, or is half again as large while its
  side rests more than its targets in total), and placing the first order of an empty side;
* optional (sent when the budget allows): every other modify (moving closer to
  the mid, growing, deeper levels following the mid) and further new levels.

Optional actions draw tokens from a bucket refilled at
``min(requote_budget_per_min, remaining address budget / requote_horizon_h)``
per minute (burst ``requote_burst``); best levels first. With
``requote_requests_per_usd`` > 0 they also need the volume-earned budget (the address
budget's own rule for this run: ``requote_request_allowance`` + that many per USDC
traded, less every request sent; ``volume_usd`` is set by the caller, as ``addr_left``;
spent, one optional action per ``requote_exhausted_interval_s``, the venue's own trickle).
Urgent actions do not draw, so the total is the urgent rate plus at most the budget. What is
deferred stays resting (it is within the urgent tolerance, so it is safe) and is
planned again once tokens are back (``retry_after_s``). The decision is
``pacing_kernel.ration``, the one the backtester charges too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import pacing_kernel as pk
from . import reconcile_kernel as rk
from .reconcile_plan import Plan, PlanConfig, Target, plan_arrays


@dataclass(frozen=True)
class PacingConfig:
    budget_per_min: float = 60.0  # optional actions per minute at most (0: no pacing)
    horizon_h: float = 8.0  # never spend the remaining address budget faster than this
    burst: float = 20.0
    urgent_tolerance_bps: float = 5.0
    urgent_sz_frac: float = 0.5  # an order this much larger than its target: at once
    requests_per_usd: float = 0.0  # optional actions earned per USDC traded (0: no volume budget)
    request_allowance: float = 100.0  # ... on top of this many
    exhausted_interval_s: float = 10.0  # spent: one optional action per this many s (0: none)


def pacing_config_of(g) -> PacingConfig:
    """The pacing settings from the ``[gateway]`` config (``GatewayConfig``)."""
    return PacingConfig(g.requote_budget_per_min, g.requote_horizon_h, g.requote_burst,
                        g.urgent_tolerance_bps, requests_per_usd=g.requote_requests_per_usd,
                        request_allowance=g.requote_request_allowance,
                        exhausted_interval_s=g.requote_exhausted_interval_s)


class RequotePacer:
    """``pacing_kernel.ration`` with its token bucket, for the live gateway."""

    def __init__(self, cfg: PacingConfig, plan_cfg: PlanConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.plan_cfg = plan_cfg
        self.kernel_cfg = pacing_config_vector(cfg, plan_cfg)
        self.clock = clock
        self.state = pk.new_pacing_state(cfg.burst)
        self.state[pk.P_LAST_S] = clock()
        self.addr_left = -1  # unknown until userRateLimit
        self.volume_usd = 0.0  # USDC traded so far (the volume budget's earnings)

    @property
    def enabled(self) -> bool:
        return self.cfg.budget_per_min > 0.0 or self.cfg.requests_per_usd > 0.0

    @property
    def volume_credit(self) -> float:
        return float(pk.volume_credit(self.kernel_cfg, self.state, self.volume_usd))

    @property
    def request_cost_usd(self) -> float:
        """What a request costs now (``pacing_kernel.request_cost_now``): 0 while volume
        keeps the budget full."""
        return float(pk.request_cost_now(self.kernel_cfg, self.state, self.volume_usd))

    @property
    def tokens(self) -> float:
        return float(self.state[pk.P_TOKENS])

    @property
    def deferred(self) -> int:
        return int(self.state[pk.P_DEFERRED])

    @property
    def urgent(self) -> int:
        return int(self.state[pk.P_URGENT])

    @property
    def optional(self) -> int:
        return int(self.state[pk.P_OPTIONAL])

    def rate_per_s(self) -> float:
        r = self.cfg.budget_per_min / 60.0
        if self.addr_left >= 0 and self.cfg.horizon_h > 0:
            r = min(r, self.addr_left / (self.cfg.horizon_h * 3600.0))
        return r

    def retry_after_s(self) -> float:
        """When one token will be there again (for a deferred plan)."""
        if self.volume_credit < 1.0:  # waits for fills, or the trickle
            return self.cfg.exhausted_interval_s if self.cfg.exhausted_interval_s > 0 else 60.0
        r = self.rate_per_s()
        return 60.0 if r <= 0 else max(0.05, (1.0 - self.tokens) / r)

    def ration(self, plan: Plan) -> tuple[Plan, int]:
        """The plan with the optional actions the budget does not allow removed
        (their orders kept); returns (plan, number deferred)."""
        if not self.enabled or plan.n_actions == 0:
            return plan, 0
        live = [*plan.keep, *(m.order for m in plan.modify), *plan.cancel]
        # a kept order stands for its target (within the tolerances of it): the sides'
        # target totals count it (``request_reasons._sides_over_target``)
        targets = [Target(o.coin, o.is_buy, o.px, o.sz, 0) for o in plan.keep]
        targets += [Target(plan.coin, m.order.is_buy, m.px, m.sz, m.level) for m in plan.modify]
        targets += [Target(n.coin, n.is_buy, n.px, n.sz, n.level) for n in plan.place]
        nk, nm, nc = len(plan.keep), len(plan.modify), len(plan.cancel)
        rows = [(rk.ACT_KEEP, j, j) for j in range(nk)]
        rows += [(rk.ACT_MODIFY, nk + k, nk + k) for k in range(nm)]
        rows += [(rk.ACT_CANCEL, nk + nm + k, -1) for k in range(nc)]
        rows += [(rk.ACT_PLACE, -1, nk + nm + k) for k in range(len(plan.place))]
        out = np.array(rows, np.int64).reshape(-1, 3)
        lb, lp, ls, tb, tp, ts, tl, _, _ = plan_arrays(targets, live)
        deferred = int(pk.ration(out, out.shape[0], lb, lp, ls, tb, tp, ts, tl, self.kernel_cfg,
                                 self.state, self.clock(), self.rate_per_s(), self.volume_usd))
        if not deferred:
            return plan, 0
        modify, place = {}, {}
        for r, (kind, _, i) in enumerate(out.tolist()):
            if r < nk + nm and r >= nk:
                modify[i - nk] = kind == rk.ACT_MODIFY
            elif r >= nk + nm + nc:
                place[i - nk - nm] = kind == rk.ACT_PLACE
        kept_back = [m.order for k, m in enumerate(plan.modify) if not modify[k]]
        return Plan(plan.coin, keep=[*plan.keep, *kept_back],
                    modify=[m for k, m in enumerate(plan.modify) if modify[k]],
                    cancel=list(plan.cancel),
                    place=[n for k, n in enumerate(plan.place) if place[k]],
                    dropped_small=plan.dropped_small), deferred

    def metrics(self) -> dict[str, float]:
        return {"requote_tokens": round(self.tokens, 2), "requote_rate_per_min": 60 * self.rate_per_s(),
                "requote_deferred": self.deferred, "requote_urgent": self.urgent,
                "requote_optional": self.optional,
                "requote_volume_credit": round(min(self.volume_credit, 1e12), 2),
                "requote_request_cost_usd": self.request_cost_usd}


def pacing_config_vector(cfg: PacingConfig, plan_cfg: PlanConfig) -> np.ndarray:
    """The reconcile kernel's vector with pacing on (as the backtester builds it)."""
    return rk.plan_config_vector(plan_cfg.px_tolerance_bps, plan_cfg.sz_tolerance_frac,
                                 plan_cfg.use_modify, plan_cfg.min_notional_usd,
                                 cfg.budget_per_min, cfg.burst, cfg.urgent_tolerance_bps,
                                 cfg.urgent_sz_frac, plan_cfg.keep_tolerance_bps,
                                 cfg.requests_per_usd, cfg.request_allowance, cfg.exhausted_interval_s,
                                 plan_cfg.keep_sz_frac, plan_cfg.keep_depth_bps, plan_cfg.keep_to_edge_zero,
                                 plan_cfg.request_cost_usd)
