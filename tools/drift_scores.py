"""The Kalman drift's forecast score from the measurement loop (the backtest report's
``scores.models.drift``: calibration slope, correlation, IR at the 5 s horizon) on the
synthetic scenarios and the two USD-M captures, at the defaults (issue 16).

    python -m tools.drift_scores [--seeds 1-3] [--overlays /tmp/tq]

``--overlays``: a directory with the cross-fit overlays (``params_usdm_eth.toml`` for
usdm_btc, ``params_usdm_btc.toml`` for usdm_eth), as ``tools/trading_quality`` writes them.
"""

from __future__ import annotations

import argparse
import json
import sys

SCENARIOS = ("toxic_burst", "trend_selloff")
CAPTURES = (("usdm_btc", "binance_usdm/btcusdt_20240808.gz", "params_usdm_eth.toml"),
            ("usdm_eth", "binance_usdm/ethusdt_20240808.gz", "params_usdm_btc.toml"))
KEYS = ("mean_forecast", "mean_realized", "slope", "pearson", "ir", "hit_rate", "n")


def drift_score(rep: dict) -> dict:
    d = rep["scores"]["models"].get("drift") or {}
    return {k: d.get(k) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-3")
    ap.add_argument("--overlays", default=None, help="directory of params_*.toml (else no overlay)")
    ap.add_argument("--duration-s", type=float, default=1800.0)
    a = ap.parse_args(argv)
    from appliance.backtest import run_backtest
    from appliance.config import load_config

    lo, _, hi = a.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    syn = load_config(overrides={"backtest": {"synthetic_duration_s": a.duration_s}})
    for scen in SCENARIOS:
        for seed in seeds:
            rep = run_backtest(f"synthetic:{scen}", syn, seed=seed, preset="unified").report
            print(json.dumps({"run": f"{scen} seed {seed}", **drift_score(rep)}))
    for name, path, overlay in CAPTURES:
        cfg = load_config(f"{a.overlays}/{overlay}" if a.overlays else None)
        rep = run_backtest(f"replay:../shared/data/{path}", cfg, preset="unified").report
        print(json.dumps({"run": name, **drift_score(rep)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
