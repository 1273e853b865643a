"""The backtest report's ``attribution``: the run's P&L by component, through
``appliance.measure.attribution`` (the module the live risk watchdog uses).

The mid at fill+H is the markouts' own (``bookkeeping.mark_out``: the first book mid at
least H after the fill, in simulated time), recovered exactly from the markout in
bps, when H is one of the markout horizons; otherwise the first sampled mid at
least H after the fill (``[backtest] sample_interval_ms`` apart: ``horizon_exact``
false). Fills without one (too close to the end) run their adverse-selection leg to
the final mark. The final mark and the P&L are the PositionState mirror's
(``mark_px``, ``total_pnl_usd``, funding included), and the components must sum to
that P&L to the cent: ``block`` raises ``AttributionMismatch`` otherwise, so every
backtest checks the invariant.
"""

from __future__ import annotations

import numpy as np

from appliance.measure import attribution as at


def horizon_mids(fills: np.ndarray, markouts: np.ndarray, markout_horizons_s, samples: np.ndarray | None,
                 horizon_s: float) -> tuple[np.ndarray, bool]:
    """(mid at fill+H per fill, NaN where there is none; exact: from the markouts)."""
    for col, secs in enumerate(markout_horizons_s):
        if abs(float(secs) - horizon_s) < 1e-9:
            mk = markouts[:, col]
            return fills["px"] + mk * fills["px"] / 1e4 * fills["side"], True
    if samples is None or samples.shape[0] == 0:
        return np.full(fills.shape[0], np.nan), False
    ok = np.isfinite(samples["mid_px"])
    return at.mid_after(fills["pub_mono_ns"], int(round(horizon_s * 1e9)), samples["ts_ns"][ok],
                        samples["mid_px"][ok]), False


def per_fill(fills: np.ndarray, markouts: np.ndarray, markout_horizons_s, samples: np.ndarray | None,
             final_mark: float, horizon_s: float) -> tuple[np.ndarray, bool]:
    """The legs of each fill (``attribution.PER_FILL``, timed in simulated time) and
    whether the mids at fill+H are exact."""
    mid_h, exact = horizon_mids(fills, markouts, markout_horizons_s, samples, horizon_s)
    return at.per_fill(fills["side"], fills["sz"], fills["px"], fills["mid_px"], fills["fee_usd"],
                       mid_h, final_mark, ts_ns=fills["pub_mono_ns"]), exact


def block(*, fills: np.ndarray, markouts: np.ndarray, markout_horizons_s, samples: np.ndarray | None,
          pos, horizon_s: float = at.DEFAULT_HORIZON_S) -> dict:
    """The report's ``attribution`` (JSON-ready); raises ``AttributionMismatch`` when
    the components do not sum to the P&L. The per-fill records are
    ``BacktestResult.attribution``."""
    mark = float(pos["mark_px"])
    pf, exact = per_fill(fills, markouts, markout_horizons_s, samples, mark, horizon_s)
    c = at.summarize(pf, mark, funding_usd=float(pos["funding_usd"]))
    pnl = float(pos["total_pnl_usd"])
    residual = at.check_sum(c["total_usd"], pnl, what="backtest P&L attribution")
    return {**c, "pnl_usd": pnl, "residual_usd": residual, "horizon_s": float(horizon_s),
            "horizon_exact": exact, "fills_without_horizon": int((~pf["at_horizon"]).sum()),
            "final_mark_px": mark}


def render_line(a: dict) -> str:
    return (f"attrib     spread ${a['spread_usd']:,.4f}  adverse sel. ${a['adverse_selection_usd']:,.4f}  "
            f"inventory ${a['inventory_usd']:,.4f}  funding ${a['funding_usd']:,.4f}  "
            f"fees ${a['fees_usd']:,.4f}  = ${a['total_usd']:,.4f} (pnl ${a['pnl_usd']:,.4f}; "
            f"AS over {a['horizon_s']:g} s)")
