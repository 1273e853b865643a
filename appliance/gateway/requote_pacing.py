"""Requote pacing: spend the venue's address request budget so it lasts.

The address cap (10 000 requests + 1 per USDC traded) is cumulative: every order,
modify and cancel spends one for good. A quote model that moves its ladder a few
bps every 100 ms would spend it in minutes, after which only the reducing side can
be quoted. So the actions of a plan are split in two:

* urgent (always sent): cancels (a pulled side, a level too many), modifies that
  remove risk (``reconcile_plan.is_urgent_modify`` with ``urgent_tolerance_bps``:
  the order rests more aggressively than its target, or is half again as large), and placing the
  first order of an empty side;
* optional (sent when the budget allows): every other modify (moving closer to
  the mid, growing, deeper levels following the mid) and further new levels.

Optional actions draw tokens from a bucket refilled at
``min(requote_budget_per_min, remaining address budget / requote_horizon_h)``
per minute (burst ``requote_burst``); best levels first. Urgent actions do not draw,
so the total is the urgent rate plus at most the budget. What is
deferred stays resting (it is within the urgent tolerance, so it is safe) and is
planned again once tokens are back (``retry_after_s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from .reconcile_plan import Plan, PlanConfig, is_urgent_modify


@dataclass(frozen=True)
class PacingConfig:
    budget_per_min: float = 60.0  # optional actions per minute at most (0: no pacing)
    horizon_h: float = 8.0  # never spend the remaining address budget faster than this
    burst: float = 20.0
    urgent_tolerance_bps: float = 5.0
    urgent_sz_frac: float = 0.5  # an order this much larger than its target: at once


class RequotePacer:
    def __init__(self, cfg: PacingConfig, plan_cfg: PlanConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.urgent_cfg = replace(plan_cfg, px_tolerance_bps=max(cfg.urgent_tolerance_bps,
                                                                  plan_cfg.px_tolerance_bps))
        self.clock = clock
        self.tokens = cfg.burst
        self._t = clock()
        self.addr_left = -1  # unknown until userRateLimit
        self.deferred = 0  # metric: optional actions put off
        self.urgent = 0
        self.optional = 0

    @property
    def enabled(self) -> bool:
        return self.cfg.budget_per_min > 0.0

    def rate_per_s(self) -> float:
        r = self.cfg.budget_per_min / 60.0
        if self.addr_left >= 0 and self.cfg.horizon_h > 0:
            r = min(r, self.addr_left / (self.cfg.horizon_h * 3600.0))
        return r

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.cfg.burst, self.tokens + (now - self._t) * self.rate_per_s())
        self._t = now

    def retry_after_s(self) -> float:
        """When one token will be there again (for a deferred plan)."""
        r = self.rate_per_s()
        return 60.0 if r <= 0 else max(0.05, (1.0 - self.tokens) / r)

    def ration(self, plan: Plan) -> tuple[Plan, int]:
        """The plan with the optional actions the budget does not allow removed
        (their orders kept); returns (plan, number deferred)."""
        if not self.enabled or plan.n_actions == 0:
            return plan, 0
        self._refill()
        out = Plan(plan.coin, keep=list(plan.keep), cancel=list(plan.cancel),
                   dropped_small=plan.dropped_small)
        optional: list[tuple[int, int, object]] = []  # (level, kind, action)
        for m in plan.modify:
            if is_urgent_modify(m, self.urgent_cfg, self.cfg.urgent_sz_frac):
                out.modify.append(m)
            else:
                optional.append((m.level, 0, m))
        sides_quoted = {o.is_buy for o in plan.keep} | {m.order.is_buy for m in plan.modify}
        for n in plan.place:
            if n.is_buy not in sides_quoted:
                out.place.append(n)  # an empty side gets its best level at once
                sides_quoted.add(n.is_buy)
            else:
                optional.append((n.level, 1, n))
        n_urgent = out.n_actions  # urgent actions do not draw: a noisy ladder's risk
        # modifies must not starve the best level's improvements
        self.urgent += n_urgent
        optional.sort(key=lambda x: (x[0], x[1]))
        deferred = 0
        for _, kind, a in optional:
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                self.optional += 1
                (out.modify if kind == 0 else out.place).append(a)
            else:
                deferred += 1
                if kind == 0:
                    out.keep.append(a.order)
        self.deferred += deferred
        return out, deferred

    def metrics(self) -> dict[str, float]:
        return {"requote_tokens": round(self.tokens, 2), "requote_rate_per_min": 60 * self.rate_per_s(),
                "requote_deferred": self.deferred, "requote_urgent": self.urgent,
                "requote_optional": self.optional}
