"""Where do adverse fills come from? Splits one backtest's fills by what the kernel
knew when they filled, with the share whose 10 s markout was adverse in each bucket.

    python -m tools.adverse_fill_features [--scenario toxic_burst] [--seed 1]
                                          [--preset unified] [--duration-s 1800]

Buckets: the drift estimate signed by the fill side (+ = the drift favoured the fill;
from the 1 s samples, the last requote before the fill), the ladder's predicted adverse
selection (terciles), and, for toxic_burst, the time from the nearest informed burst.
A feature that could meet the issue-6 toxic_burst goal (30 % fewer adverse fills for at
most 10 % fewer benign) must pick out a set of fills whose adverse share is about twice
the overall one.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from appliance.backtest.report import MARKOUT_10S_COL, rank_terciles
from appliance.backtest.runner import run_backtest
from appliance.config import load_config
from appliance.feed.sources.synthetic.scenarios import get_scenario
from appliance.feed.sources.synthetic.source import DEFAULT_START_TS_NS

ADVERSE_BPS = 4.0


def _row(label: str, sel: np.ndarray, adverse: np.ndarray, mk10: np.ndarray) -> str:
    n = int(sel.sum())
    share = 100.0 * adverse[sel].mean() if n else 0.0
    mean = float(np.nanmean(mk10[sel])) if n else float("nan")
    return f"| {label} | {n} | {int(adverse[sel].sum())} | {share:.1f} | {mean:.2f} |"


def _table(title: str, rows: list[str]) -> list[str]:
    return [f"**{title}**", "", "| bucket | fills | adverse | adverse % | mean 10 s markout bps |",
            "|---|---|---|---|---|", *rows, ""]


def analyse(scenario: str, seed: int, preset: str, duration_s: float) -> str:
    cfg = load_config()
    cfg = dataclasses.replace(cfg, backtest=dataclasses.replace(
        cfg.backtest, synthetic_duration_s=duration_s))
    res = run_backtest(f"synthetic:{scenario}", cfg, seed=seed, preset=preset)
    f, sm = res.fills, res.samples
    mk10 = res.markouts[:, MARKOUT_10S_COL]
    marked = np.isfinite(mk10)
    f, mk10 = f[marked], mk10[marked]
    adverse = mk10 < -ADVERSE_BPS
    everyone = np.ones(f.shape[0], bool)
    out = [f"{scenario} seed {seed}, preset {preset}: {f.shape[0]} marked fills, "
           f"{int(adverse.sum())} adverse (10 s markout < -{ADVERSE_BPS:g} bps)", "",
           *_table("all", [_row("all", everyone, adverse, mk10)])]
    idx = np.clip(np.searchsorted(sm["ts_ns"], f["ts_ns"]) - 1, 0, None)
    aligned = sm["drift_bps_per_s"][idx] * f["side"]
    edges = [-np.inf, -1.0, -0.3, 0.0, 0.3, 1.0, 3.0, np.inf]
    out += _table("drift estimate x fill side, bps/s", [
        _row(f"[{lo:g}, {hi:g})", (aligned >= lo) & (aligned < hi), adverse, mk10)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)])
    if f.shape[0] >= 30:
        bins = rank_terciles(f["pred_as_bps"])
        out += _table("predicted AS tercile (by rank; 1 = lowest)", [
            _row(f"tercile {b + 1}", bins == b, adverse, mk10) for b in range(3)])
    bursts = getattr(get_scenario(scenario).build(seed, duration_s), "bursts", None)
    if bursts is not None and len(bursts):
        t_s = (f["ts_ns"] - DEFAULT_START_TS_NS) / 1e9
        rel = np.full(f.shape[0], np.inf)
        for b in bursts:
            d = t_s - b["start_s"]
            near = (d >= -5.0) & (d < rel)
            rel[near] = d[near]
        spans = [(-5, 0), (0, 5), (5, 11), (11, 30), (30, np.inf)]
        out += _table("seconds from the informed burst's start", [
            _row(f"[{lo:g}, {hi:g})", (rel >= lo) & (rel < hi), adverse, mk10) for lo, hi in spans])
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="toxic_burst")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--preset", default="unified")
    ap.add_argument("--duration-s", type=float, default=1800.0)
    a = ap.parse_args()
    print(analyse(a.scenario, a.seed, a.preset, a.duration_s))


if __name__ == "__main__":
    main()
