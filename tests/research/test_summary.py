"""The ranked summary: points by their mean over data and seeds, best first, a point
without a value last."""

from __future__ import annotations

import math

from appliance.research.rows import ATTRIBUTION
from appliance.research.summary import point_stats, ranked, render


def _row(point: int, pnl: float, fills: int = 1) -> dict:
    r = {"point": point, "point_label": f"quote.gamma={point}", "pnl_usd": pnl, "fills": fills,
         "orders_placed": 3, "volume_usd": 10.0, "spread_capture_bps": 1.0,
         "spread_capture_net_bps": 0.5, "markout_10s_bps": -0.2, "max_abs_inventory_frac": 0.1}
    r.update({f"attr_{a}": 0.0 for a in ATTRIBUTION})
    return r


def test_rank_when_points_have_several_tasks_then_by_mean_best_first():
    rows = [_row(0, 1.0), _row(0, -3.0), _row(1, 0.5), _row(1, 0.3), _row(2, math.nan)]
    stats = point_stats(rows)
    assert [s.n_tasks for s in stats] == [2, 2, 1]
    assert stats[0].mean["pnl_usd"] == -1.0 and stats[0].pnl_min_usd == -3.0
    assert [s.point for s in ranked(stats)] == [1, 0, 2]
    text = render(stats)
    lines = text.splitlines()
    assert lines[2].split()[:2] == ["1", "1"] and lines[-1].endswith("quote.gamma=2")


def test_render_when_top_then_says_how_many_more():
    stats = point_stats([_row(i, float(i)) for i in range(5)])
    text = render(stats, top=2)
    assert "... 3 more points" in text and text.count("quote.gamma=") == 2
