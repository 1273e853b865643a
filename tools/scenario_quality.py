"""Issue 16's scenario goals: unified against legacy (trend_selloff), no_as
(toxic_burst) or alone (liquidation_cascade) on synthetic scenarios, seed by seed, with
the goal counts, medians, every seed, requests by reason and toxic fills by episode
phase. ``python -m tools.trading_quality --out OUT --scenario NAME --seeds A-B`` runs
it (writes ``scenario_NAME.json`` and ``.md``); split from ``tools/trading_quality.py``,
whose capture table shares the overrides and the requests-by-reason rendering.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from tools.trading_quality import render_reasons, with_overrides


def summed_reasons(runs: list[dict], p: str) -> dict | None:
    """A preset's requests by reason, summed over the seeds (None: not counted)."""
    out: dict[str, int] = {}
    for r in runs:
        c = r[p].get("requests_by_reason")
        if not c:
            return None
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


SCENARIO_KEYS = ("pnl", "fills", "max_long_frac", "max_short_frac", "markout_10s_adverse_fills",
                 "markout_10s_benign_fills", "quoted_while_should_pull_s", "requests", "volume",
                 "requests_by_reason", "markout_10s_by_episode_phase")


def run_scenario(scen: str, seeds: list[int], quote: dict,
                 presets: tuple[str, ...] = ("unified", "legacy"), overlay: Path | None = None,
                 legacy_overlay: Path | None = None) -> list[dict]:
    """``presets`` (unified with ``quote`` overrides) on ``synthetic:<scen>`` per seed,
    the whole 1800 s script (as tools/prove_quote_presets.py runs it). ``overlay``: a
    config overlay for unified and no_as (legacy, the yardstick, reads none unless
    ``legacy_overlay``: e.g. an earlier gateway default, for a before arm)."""
    from appliance.backtest.runner import run_backtest
    from appliance.config import load_config

    def full(c):
        return dataclasses.replace(c, backtest=dataclasses.replace(c.backtest, synthetic_duration_s=1800.0))

    cfg = full(load_config(str(legacy_overlay) if legacy_overlay else None))
    cfg_ov = full(load_config(str(overlay))) if overlay else full(load_config())
    runs = []
    for seed in seeds:
        row: dict = {"seed": seed}
        for preset in presets:
            q = quote if preset == "unified" else {}
            c = with_overrides(cfg if preset == "legacy" else cfg_ov, q)
            rep = run_backtest(f"synthetic:{scen}", c, seed=seed, preset=preset).report
            row[preset] = {k: rep.get(k) for k in SCENARIO_KEYS}
            worst = (rep.get("windows") or {}).get("worst_minute", {})
            row[preset]["worst_minute_fills"] = worst.get("fills")
        print(f"{scen} seed {seed}: {row}", file=sys.stderr, flush=True)
        runs.append(row)
    return runs


def _requests(runs: list[dict], p: str) -> str:
    """Median requests / median USDC traded, and on how many seeds requests <= volume
    ("-" for runs recorded before the report had them)."""
    import statistics

    if any(r[p].get("requests") is None for r in runs):
        return "- | -"
    req = statistics.median(r[p]["requests"] for r in runs)
    vol = statistics.median(r[p]["volume"] for r in runs)
    ok = sum(1 for r in runs if r[p]["requests"] <= r[p]["volume"])
    return f"{req:,.0f} / ${vol:,.0f} | {ok}/{len(runs)}"


def render_scenario(scen: str, runs: list[dict]) -> str:
    """Medians per preset and the trend_selloff goal counts over the seeds."""
    import statistics

    lines = [f"**{scen}**, seeds {runs[0]['seed']}-{runs[-1]['seed']} (1800 s each)", "",
             "| preset | median P&L $ | median fills | median max long % | median max short % "
             "| median adverse / benign 10 s fills | max quoted while should pull s "
             "| median requests / USDC traded | requests <= USDC traded |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    presets = [p for p in ("unified", "legacy", "no_as") if p in runs[0]]
    for p in presets:
        med = {k: statistics.median(r[p][k] for r in runs)
               for k in ("pnl", "fills", "max_long_frac", "max_short_frac", "markout_10s_adverse_fills",
                         "markout_10s_benign_fills")}
        worst_pull = max((r[p].get("quoted_while_should_pull_s") or 0.0) for r in runs)
        lines.append(f"| {p} | {med['pnl']:+.2f} | {med['fills']:.0f} | {100 * med['max_long_frac']:.0f} "
                     f"| {100 * med['max_short_frac']:.0f} | {med['markout_10s_adverse_fills']:.0f} / "
                     f"{med['markout_10s_benign_fills']:.0f} | {worst_pull:.2f} | {_requests(runs, p)} |")
    n = len(runs)
    worst = [r["unified"].get("worst_minute_fills") for r in runs]
    if any(w is not None for w in worst):  # liquidation_cascade's goal
        clean = sum(1 for r, w in zip(runs, worst, strict=True)
                    if w == 0 and (r["unified"].get("quoted_while_should_pull_s") or 0.0) <= 1.0)
        lines += ["", f"- unified no fill in the worst minute and quoted <= 1 s while it should pull: "
                  f"{clean}/{n} (goal all)"]
    if "no_as" in presets:  # toxic_burst's goal
        adv, ben = "markout_10s_adverse_fills", "markout_10s_benign_fills"
        tox = sum(1 for r in runs
                  if r["no_as"][adv] > 0 and r["unified"][adv] <= 0.7 * r["no_as"][adv]
                  and r["unified"][ben] >= 0.9 * r["no_as"][ben])
        lines += ["", f"- unified >= 30 % fewer adverse 10 s fills than no_as, <= 10 % fewer benign: "
                  f"{tox}/{n} (goal >= 15)"]
    if "legacy" not in presets:
        return "\n".join(lines) + "\n"
    inside = sum(1 for r in runs if max(r["unified"]["max_long_frac"], r["unified"]["max_short_frac"]) <= 0.6)
    half = sum(1 for r in runs
               if max(-r["unified"]["pnl"], 0.0) <= 0.5 * max(-r["legacy"]["pnl"], 0.0))
    lines += ["", f"- unified max |q| <= 60 % of the limit on both sides: {inside}/{n} (goal >= 18)",
              f"- unified loss <= half of legacy's: {half}/{n}"]
    return "\n".join(lines) + "\n"


def render_phases(runs: list[dict]) -> str:
    """Adverse / benign 10 s fills by informed-episode phase (lead, move, the 10 s and the
    10-30 s after it, other), summed over the seeds, per preset; "" for scenarios without
    episodes (or runs recorded before the report had them)."""
    presets = [p for p in ("unified", "legacy", "no_as") if p in runs[0]]
    rows = []
    for p in presets:
        split = [r[p].get("markout_10s_by_episode_phase") for r in runs]
        if not all(split):
            continue
        cells = [f"{sum(x[ph][0] for x in split):,} / {sum(x[ph][1] for x in split):,}"
                 for ph in split[0]]
        rows.append(f"| {p} | " + " | ".join(cells) + " |")
    if not rows:
        return ""
    phases = list(runs[0][presets[0]]["markout_10s_by_episode_phase"])
    return "\n".join(["| preset | " + " | ".join(phases) + " |", "| --- |" + " --- |" * len(phases),
                      *rows]) + "\n"


def render_seeds(runs: list[dict]) -> str:
    """Every seed: per preset P&L $, fills, max long / short %, adverse / benign 10 s
    fills, requests / USDC traded, fills in the worst minute."""
    presets = [p for p in ("unified", "legacy", "no_as") if p in runs[0]]
    lines = ["| seed | " + " | ".join(presets) + " |", "| --- |" + " --- |" * len(presets)]
    for r in runs:
        cells = []
        for p in presets:
            x = r[p]
            req = f", {x['requests']:,} / ${x['volume']:,.0f}" if x.get("requests") is not None else ""
            w = x.get("worst_minute_fills")
            worst = f", worst minute {w}" if w is not None else ""
            cells.append(f"{x['pnl']:+.2f}, {x['fills']}, {100 * x['max_long_frac']:.0f} / "
                         f"{100 * x['max_short_frac']:.0f} %, {x['markout_10s_adverse_fills']} / "
                         f"{x['markout_10s_benign_fills']}{req}{worst}")
        lines.append(f"| {r['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _seeds(spec: str) -> list[int]:
    a, _, b = spec.partition("-")
    return list(range(int(a), int(b) + 1)) if b else [int(x) for x in spec.split(",")]


def write_scenario(out: Path, scen: str, seeds: str, quote: dict, presets: tuple[str, ...],
                   overlay: Path | None, legacy_overlay: Path | None, render_only: bool) -> str:
    """Run (unless ``render_only``) and render one scenario into ``out``; the markdown."""
    js = out / f"scenario_{scen}.json"
    if not render_only:
        js.write_text(json.dumps(run_scenario(scen, _seeds(seeds), quote, presets, overlay,
                                              legacy_overlay)))
    runs = json.loads(js.read_text())
    why = render_reasons([(f"{p}, sum over seeds", summed_reasons(runs, p))
                          for p in presets if p in runs[0]])
    phases = render_phases(runs)
    md = render_scenario(scen, runs) + "\n" + render_seeds(runs) + (
        f"\nrequests by reason:\n\n{why}" if why else "") + (
        f"\nadverse / benign 10 s fills by episode phase, sums over seeds:\n\n{phases}" if phases else "")
    (out / f"scenario_{scen}.md").write_text(md)
    return md
