"""Issue 14's cross-fit table: every model's score with the default and the calibrated
configuration, in and out of sample, on every capture of ``../shared/data``.

    python -m tools.crossfit_table --out /tmp/crossfit [--skip-calibrate]

Fixed scheme (not chosen per capture): calibrate on Binance USD-M BTCUSDT (all of it),
out of sample on each of the other five Binance captures; calibrate on USD-M ETHUSDT,
out of sample on USD-M BTCUSDT. In sample: each capture calibrated on itself (its fit
scored on the data it was fitted on). Hyperliquid BTC: backtested with the USD-M BTC
overlay (55 frames: too few events for any score).

Market-fill scores (AS, Hawkes, kappa, drift) come from ``calibrate`` (in process, the
same function ``mmctl calibrate`` runs; overlays written as ``params_<capture>.toml``);
own-fill scores (AS on our fills, fill probability, toxicity, drift and microprice per
requote) and the attribution from ``mmctl backtest --config ... --json`` run as a
subprocess, the command printed. Writes ``crossfit.json`` and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from appliance.calibrate import calibrate
from appliance.measure.scores import forecast_score
from tools.as_rank_features import CAPTURES, block_bootstrap_spearman

DATA = "../shared/data"
TRAIN_OOS = {"usdm_btc": "usdm_eth"}  # capture -> the capture whose overlay tests it
HL = ("hyperliquid/btc_ws_20250126.gz", "BTC")


def _oos_source(name: str) -> str:
    return TRAIN_OOS.get(name, "usdm_btc")


def _pair(name: str) -> tuple[str, str]:
    rel, coin = CAPTURES[name]
    return f"{DATA}/{rel}", coin


def _rows(res) -> dict:
    return {f"{r.model} | {r.metric}": [r.default_in, r.default_out, r.calibrated_in, r.calibrated_out]
            for r in res.rows}


def _as_extra(res) -> dict:
    """AS on market fills at 10 s: Spearman over moved fills and a 10 s block CI."""
    fit = res.fits.get("adverse_selection")
    out: dict = {}
    if fit is None:
        return out
    for (which, part), (pred, real) in fit.goal_pairs.items():
        ok = np.isfinite(pred) & np.isfinite(real)
        s = forecast_score(pred, real)
        t = fit.goal_t_s[part][ok]
        ci = (block_bootstrap_spearman(pred[ok], real[ok], t, 10.0, 300)
              if s is not None and s.spearman is not None else (None, None))
        out[f"{which}_{part}"] = {"n": int(ok.sum()), "ratio": s.ratio if s else None,
                                  "spearman": s.spearman if s else None,
                                  "spearman_moved": s.spearman_moved if s else None,
                                  "zero_share": s.zero_realized_share if s else None,
                                  "ci95": ci}
    return out


def run_calibrations(out: Path) -> dict:
    runs: dict = {}
    names = list(CAPTURES)
    plan = [("usdm_btc", t) for t in names if t != "usdm_btc"] + [("usdm_eth", "usdm_btc")]
    plan += [(n, "usdm_btc") for n in names if n not in ("usdm_btc", "usdm_eth")]
    for train, test in plan:
        key = f"{train}->{test}"
        print(f"calibrate {key}", file=sys.stderr, flush=True)
        res = calibrate([_pair(train)], test_data=[_pair(test)], train_frac=1.0, backtests=False)
        (out / f"params_{train}.toml").write_text(res.text)
        runs[key] = {"rows": _rows(res), "as": _as_extra(res), "notes": res.notes}
    return runs


def _backtest(out: Path, name: str, path: str, cfg: str | None, tag: str) -> dict:
    js = out / f"bt_{name}_{tag}.json"
    cmd = [sys.executable, "-m", "appliance.cli", "backtest", "--source", f"replay:{path}",
           "--json", str(js), "--no-progress"] + (["--config", cfg] if cfg else [])
    print(" ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return {"error": p.stderr[-2000:]}
    return json.loads(js.read_text())


def _bt_summary(r: dict) -> dict:
    if "error" in r:
        return r
    m = r["scores"]["models"]
    a = r["attribution"]
    fp, sh, hz = m["fill_prob"], m["fill_prob"].get("short") or {}, m["fill_prob"].get("hazard") or {}
    as10 = m["adverse_selection"]["by_horizon"].get("10s", {})
    pick = ("n", "ratio", "spearman", "spearman_moved", "ir", "hit_rate", "zero_realized_share",
            "skill", "brier", "uncertainty", "horizon_s", "filled", "missed", "censored")
    return {
        "events": r["events"], "fills": r["fills"], "pnl": r["pnl"],
        "attribution": {k: a[k] for k in ("spread_usd", "adverse_selection_usd", "inventory_usd",
                                          "funding_usd", "fees_usd", "total_usd", "pnl_usd",
                                          "residual_usd")},
        "fill_prob": {k: fp.get(k) for k in pick}, "fill_prob_short": {k: sh.get(k) for k in pick},
        "fill_prob_hazard": {k: hz.get(k) for k in ("n", "ratio", "skill", "observed", "expected")},
        "as_own_10s": {k: as10.get(k) for k in pick},
        **{name: {k: m[name].get(k) for k in pick} for name in ("toxicity", "drift", "microprice")},
    }


def run_backtests(out: Path) -> dict:
    bts: dict = {}
    for name in CAPTURES:
        path, _ = _pair(name)
        for tag, cfg in (("default", None), ("in", str(out / f"params_{name}.toml")),
                         ("out", str(out / f"params_{_oos_source(name)}.toml"))):
            bts[f"{name}/{tag}"] = _bt_summary(_backtest(out, name, path, cfg, tag))
    for tag, cfg in (("default", None), ("out", str(out / "params_usdm_btc.toml"))):
        bts[f"hl_btc/{tag}"] = _bt_summary(_backtest(out, "hl_btc", f"{DATA}/{HL[0]}", cfg, tag))
    return bts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--skip-calibrate", action="store_true", help="reuse crossfit.json's calibrations")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    store = a.out / "crossfit.json"
    old = json.loads(store.read_text()) if store.exists() else {}
    cal = old["calibrate"] if a.skip_calibrate else run_calibrations(a.out)
    store.write_text(json.dumps({"calibrate": cal}, indent=1, default=str))
    bts = run_backtests(a.out)
    store.write_text(json.dumps({"calibrate": cal, "backtest": bts}, indent=1, default=str))
    print(f"wrote {store}")


if __name__ == "__main__":
    main()
