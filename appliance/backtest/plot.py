"""The backtest plot: mid and our quotes, inventory, PnL over simulated time, and the
P&L by component (``measure.attribution.cumulative``) when given the per-fill records."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.measure import attribution as at


def plot_samples(samples: np.ndarray, fills: np.ndarray, report: dict, out: str | Path,
                 attribution: np.ndarray | None = None) -> Path:
    """Write a PNG of the BT_SAMPLE series (and fills as dots); returns the path.
    ``attribution`` (``BacktestResult.attribution``): a panel of the cumulative P&L
    components."""
    # matplotlib is optional and slow to import: only `--plot` pays for it.
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    out = Path(out)
    t0 = int(samples["ts_ns"][0]) if samples.shape[0] else 0
    t = (samples["ts_ns"] - t0) / 1e9
    with_attr = attribution is not None and "attribution" in report and samples.shape[0] > 0
    ratios = [3, 1, 1] + ([1.5] if with_attr else [])
    fig, axes = plt.subplots(len(ratios), 1, figsize=(11, 8 + 2 * with_attr), sharex=True,
                             gridspec_kw={"height_ratios": ratios})
    ax_px, ax_q, ax_pnl = axes[:3]
    ax_px.plot(t, samples["mid_px"], lw=0.8, color="black", label="mid")
    ax_px.step(t, samples["our_bid_px"], where="post", lw=0.7, color="tab:green", label="our bid")
    ax_px.step(t, samples["our_ask_px"], where="post", lw=0.7, color="tab:red", label="our ask")
    if fills.shape[0]:
        ft = (fills["pub_mono_ns"] - t0) / 1e9
        buy = fills["side"] > 0
        ax_px.scatter(ft[buy], fills["px"][buy], s=10, marker="^", color="tab:green",
                      label="we bought", zorder=3)
        ax_px.scatter(ft[~buy], fills["px"][~buy], s=10, marker="v", color="tab:red",
                      label="we sold", zorder=3)
    ax_px.set_ylabel("price (USD)")
    ax_px.legend(loc="upper left", fontsize=8, ncol=5)
    ax_px.set_title(f"{report.get('source', '')}  {report.get('coin', '')}  "
                    f"preset {report.get('preset', '')}  seed {report.get('seed', '')}", fontsize=9)
    ax_q.step(t, samples["position_sz"], where="post", lw=0.8, color="tab:blue")
    ax_q.axhline(0.0, lw=0.5, color="grey")
    ax_q.set_ylabel("position")
    ax_pnl.plot(t, samples["pnl_usd"], lw=0.8, color="tab:purple")
    ax_pnl.axhline(0.0, lw=0.5, color="grey")
    ax_pnl.set_ylabel("PnL (USD)")
    if with_attr:
        _attribution_panel(axes[3], t, samples, attribution, report["attribution"])
    axes[-1].set_xlabel("simulated time (s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _attribution_panel(ax, t: np.ndarray, samples: np.ndarray, attribution: np.ndarray, a: dict) -> None:
    cum = at.cumulative(attribution, samples["ts_ns"], samples["pnl_usd"], int(a["horizon_s"] * 1e9),
                        funding_usd=a["funding_usd"])
    for k, label in (("spread_usd", "spread"), ("adverse_selection_usd", "adverse selection"),
                     ("inventory_usd", "inventory"), ("fees_usd", "fees"), ("funding_usd", "funding")):
        if k != "funding_usd" or a["funding_usd"]:
            ax.plot(t, cum[k], lw=0.9, label=label)
    ax.plot(t, cum["pnl_usd"], lw=1.2, color="black", label="PnL")
    ax.axhline(0.0, lw=0.5, color="grey")
    ax.set_ylabel("by component (USD)")
    ax.legend(loc="upper left", fontsize=7, ncol=6)
