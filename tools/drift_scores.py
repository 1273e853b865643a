"""The Kalman drift's forecast score from the measurement loop (the backtest report's
``scores.models.drift``: calibration slope, correlation, IR at the 5 s horizon) on the
synthetic scenarios and the Binance captures, at the defaults (issue 16).

    python -m tools.drift_scores [--seeds 1-3] [--overlays /tmp/tq] [--captures all] [--seeds none]
                                 [--horizons 60,300]

``--horizons``: the same score at longer horizons too, from the run's requotes (forecast
mu x T, as the report's; the filter's OU decay makes that an upper bound of its own
forecast, so read the correlation, IR and hit rate there, not the slope). The drift's
slow flow term is a lean over minutes (issue 16): its 5 s score cannot show it.

``--overlays``: a directory with the cross-fit overlays (``params_usdm_eth.toml`` for
usdm_btc, ``params_usdm_btc.toml`` for the others), as ``tools/trading_quality`` writes
them. ``--captures``: the two USD-M ones (default), ``all`` six, or a comma list.
"""

from __future__ import annotations

import argparse
import json
import sys

SCENARIOS = ("toxic_burst", "trend_selloff")
KEYS = ("mean_forecast", "mean_realized", "slope", "pearson", "ir", "hit_rate", "n")


def drift_score(rep: dict) -> dict:
    d = rep["scores"]["models"].get("drift") or {}
    return {k: d.get(k) for k in KEYS}


def drift_score_at(requotes, horizon_s: float) -> dict:
    """The drift's score over ``horizon_s`` from a run's requote records (BT_REQUOTE)."""
    from appliance.calibrate.drift import drift_pairs
    from appliance.measure.scores import forecast_score

    sc = forecast_score(*drift_pairs(requotes, horizon_s))
    d = sc.as_dict() if sc is not None else {}
    return {k: d.get(k) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-3")
    ap.add_argument("--overlays", default=None, help="directory of params_*.toml (else no overlay)")
    ap.add_argument("--duration-s", type=float, default=1800.0)
    ap.add_argument("--captures", default="usdm_btc,usdm_eth", help="'all' or a comma list")
    ap.add_argument("--horizons", default="", help="longer horizons too, s, e.g. 60,300")
    a = ap.parse_args(argv)
    horizons = [float(h) for h in a.horizons.split(",") if h]
    from appliance.backtest import run_backtest
    from appliance.config import load_config
    from tools.as_rank_features import CAPTURES
    from tools.trading_quality import DATA, train_of

    lo, _, hi = a.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1) if a.seeds != "none" else range(0)
    names = list(CAPTURES) if a.captures == "all" else a.captures.split(",")
    syn = load_config(overrides={"backtest": {"synthetic_duration_s": a.duration_s}})
    for scen in SCENARIOS:
        for seed in seeds:
            r = run_backtest(f"synthetic:{scen}", syn, seed=seed, preset="unified")
            print(json.dumps({"run": f"{scen} seed {seed}", **drift_score(r.report),
                              **{f"h{h:g}": drift_score_at(r.requotes, h) for h in horizons}}))
    for name in names:
        overlay = f"{a.overlays}/params_{train_of(name)}.toml" if a.overlays else None
        r = run_backtest(f"replay:{DATA}/{CAPTURES[name][0]}", load_config(overlay), preset="unified")
        print(json.dumps({"run": name, **drift_score(r.report),
                          **{f"h{h:g}": drift_score_at(r.requotes, h) for h in horizons}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
