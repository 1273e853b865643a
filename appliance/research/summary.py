"""The ranked summary: grid points by their mean P&L over data and seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .rows import ATTRIBUTION

RANK_METRICS = ("pnl_usd", "spread_capture_net_bps", "fills", "volume_usd")


@dataclass(frozen=True)
class PointStats:
    point: int
    label: str
    n_tasks: int
    mean: dict[str, float]  # column -> mean over the point's tasks (NaN ignored)
    pnl_std_usd: float
    pnl_min_usd: float


def _nanmean(xs: list[float]) -> float:
    a = np.asarray(xs, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def point_stats(rows: list[dict]) -> list[PointStats]:
    """One entry per grid point, in point order."""
    by_point: dict[int, list[dict]] = {}
    for r in rows:
        by_point.setdefault(r["point"], []).append(r)
    cols = ("pnl_usd", "fills", "orders_placed", "volume_usd", "spread_capture_bps",
            "spread_capture_net_bps", "markout_10s_bps", "max_abs_inventory_frac",
            *(f"attr_{a}" for a in ATTRIBUTION))
    out = []
    for p in sorted(by_point):
        rs = by_point[p]
        pnl = np.array([r["pnl_usd"] for r in rs], dtype=float)
        out.append(PointStats(
            p, rs[0]["point_label"], len(rs),
            {c: _nanmean([r.get(c, math.nan) for r in rs]) for c in cols},
            float(np.nanstd(pnl)) if np.isfinite(pnl).any() else math.nan,
            float(np.nanmin(pnl)) if np.isfinite(pnl).any() else math.nan))
    return out


def ranked(stats: list[PointStats], by: str = "pnl_usd") -> list[PointStats]:
    """Best first (highest mean of ``by``); a point without a value ranks last."""
    def key(s: PointStats) -> tuple:
        v = s.mean[by]
        return (not math.isfinite(v), -v if math.isfinite(v) else 0.0, s.point)
    return sorted(stats, key=key)


def render(stats: list[PointStats], by: str = "pnl_usd", top: int | None = None) -> str:
    """A text table of the ranked points."""
    rows = ranked(stats, by)
    shown = rows if top is None else rows[:top]
    head = (f"{'rank':>4} {'point':>5} {'tasks':>5} {'pnl_usd':>10} {'pnl_std':>9} {'pnl_min':>9} "
            f"{'fills':>7} {'spread_usd':>10} {'as_usd':>9} {'inv_usd':>9} {'fees_usd':>9} "
            f"{'mk10s_bps':>9}  params")
    lines = [f"grid points ranked by mean {by} over data and seeds", head]
    for i, s in enumerate(shown, 1):
        m = s.mean
        lines.append(
            f"{i:>4} {s.point:>5} {s.n_tasks:>5} {m['pnl_usd']:>10.4f} {s.pnl_std_usd:>9.4f} "
            f"{s.pnl_min_usd:>9.4f} {m['fills']:>7.1f} {m['attr_spread_usd']:>10.4f} "
            f"{m['attr_adverse_selection_usd']:>9.4f} {m['attr_inventory_usd']:>9.4f} "
            f"{m['attr_fees_usd']:>9.4f} {m['markout_10s_bps']:>9.3f}  {s.label}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more points in results.parquet")
    return "\n".join(lines)
