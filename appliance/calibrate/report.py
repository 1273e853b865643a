"""What a calibration shows: the score table, PNG plots and one self-contained HTML page.

Plots (matplotlib, Agg): per Hawkes side, the time-rescaled gaps against Exp(1)
(Poisson, default, fitted); per kappa side, the empirical survival of trade distances
against the fitted exponential and Lomax; the AS term structure and AS by depth with
the fitted curve; the AS reliability curves (mean realized per predicted decile,
default and calibrated, out of sample); own-fill AS pairs when there are any.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from . import hawkes
from .result import CalibrationResult, Row

HEAD = ("model", "metric", "default in", "default out", "calibrated in", "calibrated out")


def _fmt(v: float | int | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def table_lines(rows: list[Row]) -> list[str]:
    cells = [HEAD] + [(r.model, r.metric, *(_fmt(x) for x in (r.default_in, r.default_out,
                                                              r.calibrated_in, r.calibrated_out)))
                      for r in rows]
    w = [max(len(c[i]) for c in cells) for i in range(len(HEAD))]
    out = []
    for j, c in enumerate(cells):
        out.append("  ".join(x.ljust(w[i]) if i < 2 else x.rjust(w[i]) for i, x in enumerate(c)))
        if j == 0:
            out.append("  ".join("-" * n for n in w))
    return out


def summary_lines(res: CalibrationResult) -> list[str]:
    out = ["segments (file, coin, part, seconds, trades):"]
    out += [f"  {p}  {c}  {part}  {span:.1f} s  {n} trades" for p, c, part, span, n in res.segments]
    out.append("fitted keys:")
    for table, values in res.overlay.items():
        for k, v in values.items():
            out.append(f"  [{table}] {k} = {_fmt(v) if not isinstance(v, int) else v}")
    out.append("")
    out += table_lines(res.rows)
    if res.notes:
        out += ["", "notes (tests failed, bounds hit, fits refused):"] + [f"  {n}" for n in res.notes]
    out += ["", "not fitted (out of scope of market captures):"]
    out += [f"  {k}: {v}" for k, v in res.not_fitted.items()]
    return out


# --- plots --------------------------------------------------------------------------------


def _plots(res: CalibrationResult, out_dir: Path) -> list[tuple[str, Path]]:
    import matplotlib  # imported here: matplotlib only for --report

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[tuple[str, Path]] = []

    def save(fig, name: str, title: str) -> None:
        path = out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append((title, path))

    sides = [res.fits[k] for k in ("hawkes_buy", "hawkes_sell") if k in res.fits]
    if sides:
        fig, axes = plt.subplots(1, len(sides), figsize=(5 * len(sides), 4), squeeze=False)
        for ax, f in zip(axes[0], sides, strict=True):
            q = np.linspace(0.01, 0.99, 60)
            theo = -np.log1p(-q)
            rate = f.n_train / sum(T for _, T in f.train)
            for label, p in (("Poisson", hawkes.HawkesParams(rate, 0.0, 1.0)), ("default", f.default),
                             ("fitted", f.fitted)):
                g = np.concatenate([hawkes.rescaled_gaps(t, p) for t, _ in f.train])
                ax.plot(theo, np.quantile(g, q), ".", label=label, ms=4)
            ax.plot(theo, theo, "k-", lw=0.8)
            ax.set(title=f"Hawkes {f.side}: rescaled gaps vs Exp(1) (train)", xlabel="Exp(1) quantile",
                   ylabel="rescaled gap quantile")
            ax.legend()
        save(fig, "hawkes_qq.png", "Hawkes: time-rescaled inter-event gaps against Exp(1)")
    ks = [res.fits[k] for k in ("kappa_bid", "kappa_ask") if k in res.fits]
    if ks:
        fig, axes = plt.subplots(1, len(ks), figsize=(5 * len(ks), 4), squeeze=False)
        for ax, f in zip(axes[0], ks, strict=True):
            d = np.sort(f.sample_train)
            surv = 1.0 - np.arange(d.size) / d.size
            ax.semilogy(d, surv, "k.", ms=2, label="empirical")
            x = np.linspace(0, d[-1], 200)
            ax.semilogy(x, np.exp(-f.kappa * x), label=f"exponential k={f.kappa:.3g}")
            ax.semilogy(x, np.exp(-f.kappa_default * x), "--", label=f"default k={f.kappa_default:.3g}")
            ax.semilogy(x, (1 + x / f.lomax_s_bps) ** -f.lomax_a, label=f"Lomax a={f.lomax_a:.3g}")
            ax.set(title=f"kappa {f.side}: P(distance > d) (train)", xlabel="d (bps)",
                   ylim=(max(1.0 / d.size, 1e-5), 1.2))
            ax.legend(fontsize=8)
        save(fig, "kappa_survival.png", "Kappa: trade distance survival, fitted vs empirical")
    a = res.fits.get("adverse_selection")
    if a is not None:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        axes[0].plot(a.horizons_s, a.term_train, "o-", label="train")
        axes[0].plot(a.horizons_s, a.term_test, "s--", label="test")
        axes[0].axvline(a.fitted.reference_horizon_s, color="k", lw=0.8)
        axes[0].set(xscale="log", title="mean AS by horizon (market fills)", xlabel="horizon (s)",
                    ylabel="AS (bps)")
        axes[0].legend()
        md, ma, cnt = a.bins_train
        axes[1].plot(md, ma, "ko", label="train bins")
        x = np.linspace(0, max(md.max(), 1e-3), 100)
        for p, style, label in ((a.fitted, "-", "fitted (momentum 0)"), (a.default, "--", "default prior")):
            axes[1].plot(x, p.predict(x, np.zeros_like(x)), style, label=label)  # decay x growth
        axes[1].set(title=f"AS at {a.fitted.reference_horizon_s:g} s by depth", xlabel="depth (bps)",
                    ylabel="AS (bps)")
        axes[1].legend()
        for which, style in (("default", "--"), ("fitted", "-")):
            pred, real = a.goal_pairs[(which, "test")]
            _reliability(axes[2], pred, real, style, which)
        lim = axes[2].get_xlim()
        axes[2].plot(lim, lim, "k-", lw=0.8)
        axes[2].set(title="AS reliability, 10 s, test part", xlabel="predicted (bps, decile mean)",
                    ylabel="realized (bps)", xscale="symlog")
        axes[2].legend()
        save(fig, "adverse_selection.png", "Adverse selection: term structure, depth decay, reliability")
    own = res.fits.get("as_own_fills")
    if own is not None:
        fig, ax = plt.subplots(figsize=(5, 4))
        for which, mk in (("default", "x"), ("fitted", "o")):
            for part, col in (("train", "C0"), ("test", "C1")):
                p, r = own["pairs"][(which, part)]
                ax.plot(p, r, mk, color=col, ms=4, label=f"{which} {part}")
        ax.set(xscale="symlog", title="own fills: predicted vs realized 10 s AS", xlabel="pred_as_bps",
               ylabel="realized (bps)")
        ax.legend(fontsize=8)
        save(fig, "as_own_fills.png", "Adverse selection on our own backtest fills")
    return made


def _reliability(ax, pred: np.ndarray, real: np.ndarray, style: str, label: str) -> None:
    ok = np.isfinite(pred) & np.isfinite(real)
    p, r = pred[ok], real[ok]
    if p.size < 10:
        return
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, 10)
    ax.plot([p[g].mean() for g in groups], [r[g].mean() for g in groups], style, marker="o", label=label)


def write_report(res: CalibrationResult, out_dir: Path, overlay_path: Path | None = None) -> Path:
    """PNG plots and ``report.html`` (plots embedded as base64) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = _plots(res, out_dir)
    def cells(r: Row) -> tuple[str, ...]:
        return (r.model, r.metric, *(_fmt(x) for x in (r.default_in, r.default_out, r.calibrated_in,
                                                        r.calibrated_out)))

    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(r)) + "</tr>"
                   for r in res.rows)
    imgs = "".join(
        f"<h3>{html.escape(t)}</h3><img alt='{html.escape(p.name)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'/>" for t, p in plots)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
    nf = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in res.not_fitted.items())
    segs = "".join(f"<li>{html.escape(p)} ({html.escape(c)}), {part}: {span:.1f} s, {n} trades</li>"
                   for p, c, part, span, n in res.segments)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>mmctl calibrate</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}td,th{{padding:2px 8px;
border-bottom:1px solid #ddd;text-align:right}}td:nth-child(-n+2){{text-align:left}}
pre{{background:#f6f6f6;padding:1em}}</style></head><body>
<h1>Calibration report</h1><h2>Data</h2><ul>{segs}</ul>
<h2>Scores (in = train part, out = test part)</h2><table><tr>{''.join(f'<th>{h}</th>' for h in HEAD)}</tr>
{rows}</table><h2>Overlay{(' ' + html.escape(str(overlay_path))) if overlay_path else ''}</h2>
<pre>{html.escape(res.text)}</pre>
<h2>Not fitted</h2><ul>{notes}{nf}</ul><h2>Plots</h2>{imgs}</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path
