"""Is a synthetic scenario's toxic flow forecastable by a causal feature? (issue 16)

    python -m tools.toxic_forecast_scores [--scenario toxic_burst] [--seeds 1-5]
                                          [--duration-s 1800] [--backtest]

Per seed, on the market itself (no quoting): every passive side of a trade at depth
>= 0 (the fills ``tools/as_rank_features`` scores on the captures), its realized 10 s
adverse selection, and the measurement loop's pre-trade features (flow imbalance,
touch imbalance, momentum, spread; ``appliance/calibrate/as_features``) with their
Spearman against it and their AUC for "adverse" (10 s AS > 4 bps, the harness's
threshold). The fills are split by the scenario's truth: *informed* (the aggressor
trades the informed episode's side while it runs) and *background* (the rest).
What it answers: how many of the adverse fills are informed at all, and whether any
causal feature separates the adverse ones from the rest (AUC 0.5 = no skill).
``--backtest`` adds the toxicity model's own score (Brier skill of its P(toxic) on
unified's fills, ``scores.models.toxicity``) and the AS ranking of those fills.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from appliance.backtest.load import bounded_chunks, open_market
from appliance.calibrate.as_features import FEATURES, market_features
from appliance.calibrate.data import slice_arrays
from appliance.feed.events import concat_events
from appliance.feed.sources.synthetic.scenarios import get_scenario
from appliance.feed.sources.synthetic.source import DEFAULT_START_TS_NS

ADVERSE_BPS = 4.0
HORIZON_S = 10.0


def auc(x: np.ndarray, y: np.ndarray) -> float:
    """P(x of an adverse fill > x of another one), ties half (0.5 = no skill)."""
    pos, neg = x[y], x[~y]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    return float(mannwhitneyu(pos, neg).statistic / (pos.size * neg.size))


def informed_mask(t_s: np.ndarray, aggr: np.ndarray, bursts: np.ndarray) -> np.ndarray:
    """Trades whose aggressor trades the informed side while an episode's flow runs."""
    m = np.zeros(t_s.shape[0], bool)
    for b in bursts:
        m |= (t_s >= b["start_s"]) & (t_s < b["flow_end_s"]) & (aggr == b["side"])
    return m


def market_scores(scenario: str, seed: int, duration_s: float) -> dict:
    src = open_market(f"synthetic:{scenario}", "BTC", seed)
    ev = concat_events(list(bounded_chunks(src, 65_536, duration_s)))
    f = market_features(slice_arrays(ev), ev, HORIZON_S)
    ok = np.isfinite(f["as_bps"])
    y_bps = f["as_bps"][ok]
    adverse = y_bps > ADVERSE_BPS
    t_rel = f["t_s"][ok] - DEFAULT_START_TS_NS / 1e9
    bursts = get_scenario(scenario).build(seed, duration_s).bursts
    inf = informed_mask(t_rel, f["aggr"][ok], bursts)
    out = {"seed": seed, "fills": int(ok.sum()), "adverse": int(adverse.sum()),
           "adverse_informed": int((adverse & inf).sum()), "informed": int(inf.sum()),
           "adverse_pct_informed": 100.0 * adverse[inf].mean() if inf.any() else None,
           "adverse_pct_background": 100.0 * adverse[~inf].mean() if (~inf).any() else None,
           "features": {}}
    for name in FEATURES:
        x = f[name][ok]
        good = np.isfinite(x)
        if np.ptp(x[good]) <= 0:
            continue
        out["features"][name] = {
            "spearman": float(spearmanr(x[good], y_bps[good]).statistic),
            "auc": auc(x[good], adverse[good]),
            "auc_background": auc(x[good & ~inf], adverse[good & ~inf]),
        }
    return out


def backtest_scores(scenario: str, seed: int, duration_s: float) -> dict:
    """unified's own fills: the toxicity model's score (its 2 s label, Brier skill
    against the base rate) and how its P(toxic) and the predicted AS rank the fills
    that end adverse at 10 s (AUC, Spearman)."""
    from appliance.backtest.report import MARKOUT_10S_COL
    from appliance.backtest.runner import run_backtest
    from appliance.config import load_config

    cfg = load_config()
    cfg = dataclasses.replace(cfg, backtest=dataclasses.replace(cfg.backtest,
                                                                synthetic_duration_s=duration_s))
    res = run_backtest(f"synthetic:{scenario}", cfg, seed=seed, preset="unified")
    tox = res.report["scores"]["models"]["toxicity"]
    mk = res.markouts[:, MARKOUT_10S_COL]
    ok = np.isfinite(mk)
    adverse = mk[ok] < -ADVERSE_BPS
    p_tox = res.fill_info["pred_toxicity"][ok]
    pred_as = res.fills["pred_as_bps"][ok]
    return {"fills": int(ok.sum()), "adverse": int(adverse.sum()),
            "toxicity": {k: tox.get(k) for k in ("n", "base_rate", "brier", "skill", "horizon_s",
                                                  "threshold_bps")},
            "p_toxic_auc_adverse_10s": auc(p_tox, adverse),
            "pred_as_auc_adverse_10s": auc(pred_as, adverse),
            "pred_as_spearman_10s": float(spearmanr(pred_as, -mk[ok]).statistic) if ok.sum() > 2 else None}


def _seeds(spec: str) -> list[int]:
    a, _, b = spec.partition("-")
    return list(range(int(a), int(b) + 1)) if b else [int(x) for x in spec.split(",")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="toxic_burst")
    ap.add_argument("--seeds", default="1-5")
    ap.add_argument("--duration-s", type=float, default=1800.0)
    ap.add_argument("--backtest", action="store_true", help="also unified's toxicity and AS scores")
    a = ap.parse_args(argv)
    for seed in _seeds(a.seeds):
        row = market_scores(a.scenario, seed, a.duration_s)
        if a.backtest:
            row["backtest"] = backtest_scores(a.scenario, seed, a.duration_s)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
