"""The backtest plot: mid and our quotes, inventory, PnL over simulated time."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_samples(samples: np.ndarray, fills: np.ndarray, report: dict, out: str | Path) -> Path:
    """Write a PNG of the BT_SAMPLE series (and fills as dots); returns the path."""
    # matplotlib is optional and slow to import: only `--plot` pays for it.
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    out = Path(out)
    t0 = int(samples["ts_ns"][0]) if samples.shape[0] else 0
    t = (samples["ts_ns"] - t0) / 1e9
    fig, (ax_px, ax_q, ax_pnl) = plt.subplots(3, 1, figsize=(11, 8), sharex=True,
                                              gridspec_kw={"height_ratios": [3, 1, 1]})
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
    ax_pnl.set_xlabel("simulated time (s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
