"""The sweep's plots (PNG): points ranked by P&L with its attribution, and P&L
against each grid key's values, one line per data source."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
import numpy as np  # noqa: E402

from .grid import Grid  # noqa: E402
from .rows import param_column  # noqa: E402
from .summary import PointStats, ranked  # noqa: E402

_COMPONENTS = (("attr_spread_usd", "spread"), ("attr_adverse_selection_usd", "adverse sel."),
               ("attr_inventory_usd", "inventory"), ("attr_funding_usd", "funding"),
               ("attr_fees_usd", "fees"))


def plot_ranking(stats: list[PointStats], path: Path, top: int = 30) -> Path:
    """Mean P&L per point, best first (bars, with the worst task as a dot), and its
    attribution components stacked below."""
    rows = ranked(stats)[:top]
    y = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.35 * len(rows) + 2), sharey=True)
    ax1.barh(y, [s.mean["pnl_usd"] for s in rows], color="tab:blue", label="mean P&L")
    ax1.plot([s.pnl_min_usd for s in rows], y, "k.", label="worst task")
    ax1.set_yticks(y, [s.label for s in rows], fontsize=7)
    ax1.invert_yaxis()
    ax1.axvline(0, color="grey", lw=0.5)
    ax1.set_xlabel("P&L, USD")
    ax1.legend(fontsize=7)
    pos = np.zeros(len(rows))
    neg = np.zeros(len(rows))
    for col, name in _COMPONENTS:
        v = np.nan_to_num(np.array([s.mean[col] for s in rows]))
        base = np.where(v >= 0, pos, neg)
        ax2.barh(y, v, left=base, label=name)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    ax2.axvline(0, color="grey", lw=0.5)
    ax2.set_xlabel("mean attribution, USD")
    ax2.legend(fontsize=7)
    fig.suptitle("sweep: grid points ranked by mean P&L")
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")  # long parameter labels stay in
    plt.close(fig)
    return path


def plot_params(rows: list[dict], grid: Grid, path: Path) -> Path:
    """For each grid key: mean P&L over the other keys and the seeds, by value, one
    line per data source."""
    keys = grid.keys
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    datas = sorted({r["data"] for r in rows})
    for ax, key in zip(axes[0], keys, strict=True):
        col = param_column(key)
        values = sorted({r[col] for r in rows}, key=lambda v: (isinstance(v, str), v))
        x = np.arange(len(values))
        for d in datas:
            means = [np.nanmean([r["pnl_usd"] for r in rows if r["data"] == d and r[col] == v] or [np.nan])
                     for v in values]
            ax.plot(x, means, "o-", label=d)
        ax.set_xticks(x, [str(v) for v in values], fontsize=8)
        ax.set_xlabel(key)
        ax.set_ylabel("mean P&L, USD")
        ax.axhline(0, color="grey", lw=0.5)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")  # long parameter labels stay in
    plt.close(fig)
    return path


def plot_search(rows: list[dict], metric: str, path: Path) -> Path:
    """A search's trials in order: each trial's mean ``metric`` and the best so far."""
    by_trial: dict[int, list[float]] = {}
    for r in rows:
        by_trial.setdefault(r["point"], []).append(r[metric])
    trials = sorted(by_trial)
    means = np.array([np.nanmean(by_trial[t]) if np.isfinite(by_trial[t]).any() else np.nan
                      for t in trials])
    best = np.fmax.accumulate(np.where(np.isfinite(means), means, -np.inf))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(trials, means, "o", label=f"trial mean {metric}")
    ax.step(trials, np.where(np.isfinite(best), best, np.nan), where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    fig.suptitle("search: trials in order")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
