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


def _g(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _cal_cells(cal: dict, name: str) -> dict[str, tuple[dict, str, int]]:
    """(run, which AS key / part index) per column for capture ``name``."""
    own = next(k for k in cal if k.startswith(f"{name}->"))
    oos = f"{_oos_source(name)}->{name}"
    return {"default in": (cal[own], "default_train", 0), "in": (cal[own], "fitted_train", 2),
            "default out": (cal[oos], "default_test", 1), "out": (cal[oos], "fitted_test", 3)}


def _model_cells(cal: dict, bts: dict, name: str) -> list[tuple[str, list[str]]]:
    cells = _cal_cells(cal, name)
    rows: list[tuple[str, list[str]]] = []

    def market(fn) -> list[str]:
        return [fn(run, key, idx) for run, key, idx in cells.values()]

    def as_cell(run: dict, key: str, idx: int) -> str:
        e = run["as"].get(key) or {}
        lo, hi = e.get("ci95") or (None, None)
        return (f"{_g(e.get('ratio'), '{:.2f}x')}, {_g(e.get('spearman'), '{:+.3f}')} "
                f"[{_g(lo, '{:+.2f}')}, {_g(hi, '{:+.2f}')}]")

    rows.append(("AS market fills 10 s: pred/real, Spearman [10 s block CI]", market(as_cell)))

    def row(label: str) -> list[str]:
        return market(lambda run, key, idx: _g(run["rows"].get(label, [None] * 4)[idx], "{:+.3f}"))

    rows.append(("Hawkes buy / sell: loglik/event - Poisson", [
        f"{a} / {b}" for a, b in zip(row("hawkes buy | loglik/event - Poisson"),
                                     row("hawkes sell | loglik/event - Poisson"), strict=True)]))
    rows.append(("kappa: loglik/trade, exponential", row("kappa both | loglik/trade exponential")))
    rows.append(("drift: next 1 s return Spearman / IR", [
        f"{a} / {b}" for a, b in zip(row("drift Kalman | next-return forecast spearman"),
                                     row("drift Kalman | next-return forecast ir"), strict=True)]))
    bt = [bts.get(f"{name}/{t}", {"error": "missing"}) for t in ("default", "in", "default", "out")]

    def b(fn) -> list[str]:
        return ["error" if "error" in r else fn(r) for r in bt]

    rows.append(("AS own fills 10 s (backtest): fills, pred/real, Spearman", b(
        lambda r: f"{r['as_own_10s']['n'] or 0}, {_g(r['as_own_10s']['ratio'], '{:.2f}x')}, "
                  f"{_g(r['as_own_10s']['spearman'], '{:+.3f}')}")))
    rows.append(("fill prob: Brier skill at h (h s; filled / missed)", b(
        lambda r: f"{_g(r['fill_prob_short']['skill'], '{:+.3f}')} ({_g(r['fill_prob_short']['horizon_s'])}; "
                  f"{r['fill_prob_short']['filled']} / {r['fill_prob_short']['missed']})")))
    rows.append(("fill prob: survival skill, O/E (every order)", b(
        lambda r: f"{_g(r['fill_prob_hazard']['skill'], '{:+.2g}')}, {_g(r['fill_prob_hazard']['ratio'])}")))
    rows.append(("toxicity: Brier skill (fills)", b(
        lambda r: f"{_g(r['toxicity']['skill'], '{:+.3f}')} ({r['toxicity']['n'] or 0})")))
    rows.append(("drift per requote: IR", b(lambda r: _g(r["drift"]["ir"], "{:+.3f}"))))
    rows.append(("microprice: hit on moves, no-move share, Spearman", b(
        lambda r: f"{_g(r['microprice']['hit_rate'])}, "
                  f"{_g(r['microprice']['zero_realized_share'], '{:.0%}')}, "
                  f"{_g(r['microprice']['spearman'], '{:+.3f}')}")))
    rows.append(("attribution - pnl (USD); pnl", b(
        lambda r: f"{r['attribution']['total_usd'] - r['attribution']['pnl_usd']:.1e}; {r['pnl']:+.3f}")))
    return rows


def render(data: dict) -> str:
    cal, bts = data["calibrate"], data["backtest"]
    out = ["| capture | model: metric | default, in | calibrated, in | default, out | calibrated, out |",
           "| --- | --- | --- | --- | --- | --- |"]
    for name in CAPTURES:
        src = _oos_source(name)
        for label, cells in _model_cells(cal, bts, name):
            out.append(f"| {name} (out: fit on {src}) | {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--skip-calibrate", action="store_true", help="reuse crossfit.json's calibrations")
    ap.add_argument("--render-only", action="store_true", help="table.md from crossfit.json")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    store = a.out / "crossfit.json"
    if a.render_only:
        (a.out / "table.md").write_text(render(json.loads(store.read_text())) + "\n")
        print(f"wrote {a.out / 'table.md'}")
        return
    old = json.loads(store.read_text()) if store.exists() else {}
    cal = old["calibrate"] if a.skip_calibrate else run_calibrations(a.out)
    store.write_text(json.dumps({"calibrate": cal}, indent=1, default=str))
    bts = run_backtests(a.out)
    data = {"calibrate": cal, "backtest": bts}
    store.write_text(json.dumps(data, indent=1, default=str))
    (a.out / "table.md").write_text(render(data) + "\n")
    print(f"wrote {store} and table.md")


if __name__ == "__main__":
    main()
