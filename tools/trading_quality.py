"""Issue 16's trading-quality table: unified (calibrated out of sample), legacy and
hftbacktest's GLFT tutorial side by side on every Binance capture of ``../shared/data``.

    python -m tools.trading_quality --out /tmp/tq [--skip-calibrate] [--quote KEY=VALUE ...]
    python -m tools.trading_quality --out /tmp/tq --scenario trend_selloff --seeds 1-20
    python -m tools.trading_quality --out /tmp/tq --render-only

Fixed scheme (issue 14's cross-fit, ``tools/crossfit_table.py``, not chosen per
capture): calibrate on USD-M BTCUSDT (all of it) for the other five captures, on
USD-M ETHUSDT for USD-M BTCUSDT (``mmctl calibrate --train-frac 1``, in process).
Then per capture, in process (one numba compile for every run):

* unified: the built-in defaults + the other capture's overlay, ``--quote`` overrides
  on top (``--quote edge_vs_fair=true``: issue 16's own-edge rule, off by default);
  once at the default maker fee and once with maker fee -0.3 bps (the best rebate
  tier) in both the simulated venue and the quote kernel;
* legacy: the built-in defaults, no overlay (the yardstick as the issue ran it);
* hftbacktest's GLFT tutorial grid (``tools/hftbacktest_glft.py``), USD-M only: its
  Binance-futures converter does not read the spot frames and its linear asset is not
  the coin-margined contract.

Figures per run: P&L net of fees, fills, net spread capture (attribution's spread +
fees over the volume traded, bps), fees, the share of unpulled time quoted on both
sides within the max half-spread, requests (orders + modifies + cancels) against
the USDC volume traded. Writes ``quality.json`` and ``table.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import tomllib
from pathlib import Path

from tools.as_rank_features import CAPTURES

DATA = "../shared/data"
TRAIN_OOS = {"usdm_btc": "usdm_eth"}  # capture -> the capture its overlay is fitted on
REBATE_BPS = -0.3  # Hyperliquid's best maker tier
HFT_TICK_LOT = {"usdm_btc": (0.1, 0.001), "usdm_eth": (0.01, 0.001)}  # tutorial runs here


def train_of(name: str) -> str:
    return TRAIN_OOS.get(name, "usdm_btc")


def _path(name: str) -> str:
    return f"{DATA}/{CAPTURES[name][0]}"


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` strings (VALUE a TOML value) -> ``{KEY: value}``."""
    out: dict[str, object] = {}
    for item in items:
        key, _, raw = item.partition("=")
        if not key or not raw:
            raise ValueError(f"--quote {item!r}: expected KEY=VALUE")
        out[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
    return out


def with_overrides(cfg, over: dict):
    """``cfg`` with ``--quote`` overrides: KEY for [quote], SECTION.KEY for another
    section, nested as deep as the config goes (``estimator.vol.kurtosis_as_k``)."""
    for key, v in over.items():
        path = key.split(".")
        if len(path) == 1:
            path = ["quote", *path]
        cfg = _replaced(cfg, path, v)
    return cfg


def _replaced(node, path: list[str], v):
    if len(path) == 1:
        return dataclasses.replace(node, **{path[0]: v})
    return dataclasses.replace(node, **{path[0]: _replaced(getattr(node, path[0]), path[1:], v)})


def summarize(rep: dict) -> dict:
    """The table's figures from one ``mmctl backtest`` report."""
    a = rep["attribution"]
    vol = float(rep["volume"])
    net = (a["spread_usd"] + a["fees_usd"]) / vol * 1e4 if vol > 0 else None
    return {"pnl": rep["pnl"], "fills": rep["fills"], "taker_fills": rep["taker_fills"],
            "net_capture_bps": net, "fees": rep["fees"], "volume": vol,
            "two_sided_share": rep.get("two_sided_share"), "requests": rep["requests"],
            "requests_by_reason": rep.get("requests_by_reason"),
            "max_abs_inventory_frac": rep["max_abs_inventory_frac"]}


def _run_ours(name: str, preset: str, overlay: Path | None, quote: dict, maker_bps: float | None) -> dict:
    # Imported here: --render-only needs no kernels.
    from appliance.backtest.runner import run_backtest
    from appliance.config import load_config

    cfg = with_overrides(load_config(str(overlay) if overlay else None), quote)
    q = cfg.quote
    g = cfg.gateway
    if maker_bps is not None:  # the venue charges it and the kernel prices it
        q = dataclasses.replace(q, maker_fee_bps=maker_bps)
        g = dataclasses.replace(g, maker_fee_bps=maker_bps)
    cfg = dataclasses.replace(cfg, quote=q, gateway=g)
    return summarize(run_backtest(f"replay:{_path(name)}", cfg, preset=preset).report)


def _run_hft(name: str, maker_bps: float) -> dict | None:
    """hftbacktest's GLFT tutorial grid on a USD-M capture: P&L = balance + position x
    last mid - fees; requests = submits + cancels; no per-fill record (no capture)."""
    if name not in HFT_TICK_LOT:
        return None
    import contextlib
    import io

    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
    from hftbacktest.data.utils import binancefutures

    from appliance.config import load_config
    from tools import hftbacktest_glft as bb

    tick, lot = HFT_TICK_LOT[name]
    g = load_config().gateway
    with contextlib.redirect_stdout(io.StringIO()):
        data = binancefutures.convert(_path(name), buffer_size=20_000_000)
    asset = (BacktestAsset().data(data).linear_asset(1.0)
             .constant_latency(bb.ORDER_LATENCY_NS, bb.ORDER_LATENCY_NS)
             .power_prob_queue_model(2.0).no_partial_fill_exchange()
             .trading_value_fee_model(maker_bps * 1e-4, g.taker_fee_bps * 1e-4)
             .tick_size(tick).lot_size(lot).last_trades_capacity(10_000))
    hbt = HashMapMarketDepthBacktest([asset])
    n_orders, n_cancels = bb.glft_strategy()(hbt, 100_000, bb.CALIBRATION_STEPS, bb.GRID_LEVELS,
                                              lot, 50 * lot, 0.05)
    sv = hbt.state_values(0)
    depth = hbt.depth(0)
    mid = 0.5 * (depth.best_bid + depth.best_ask)
    out = {"pnl": float(sv.balance + sv.position * mid - sv.fee), "fills": int(sv.num_trades),
           "taker_fills": None, "net_capture_bps": None, "fees": float(sv.fee),
           "volume": float(sv.trading_value), "two_sided_share": None,
           "requests": int(n_orders + n_cancels), "max_abs_inventory_frac": None}
    hbt.close()
    return out


def run_calibrations(out: Path) -> None:
    from appliance.calibrate import calibrate

    for train, test in (("usdm_btc", "usdm_eth"), ("usdm_eth", "usdm_btc")):
        print(f"calibrate on {train}", file=sys.stderr, flush=True)
        res = calibrate([(_path(train), CAPTURES[train][1])],
                        test_data=[(_path(test), CAPTURES[test][1])], train_frac=1.0,
                        backtests=False)
        (out / f"params_{train}.toml").write_text(res.text)


def run_capture(out: Path, name: str, quote: dict, baselines: dict | None = None) -> dict:
    """Unified (both fees) on capture ``name``, and the baselines; ``baselines``: a
    previous run's rows, whose legacy and hftbacktest figures are reused (they read
    no overlay and no ``--quote``, so they do not change between runs)."""
    overlay = out / f"params_{train_of(name)}.toml"
    t0 = time.perf_counter()
    row = {"train": train_of(name),
           "unified": _run_ours(name, "unified", overlay, quote, None),
           "unified_rebate": _run_ours(name, "unified", overlay, quote, REBATE_BPS)}
    if baselines is not None:
        row.update({k: baselines[name][k] for k in ("legacy", "hft", "hft_rebate")})
    else:
        from appliance.config import load_config

        row["legacy"] = _run_ours(name, "legacy", None, {}, None)
        row["hft"] = _run_hft(name, load_config().gateway.maker_fee_bps)
        row["hft_rebate"] = _run_hft(name, REBATE_BPS)
    print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return row


def _f(x, fmt: str = "{:+.3f}") -> str:
    return "-" if x is None else fmt.format(x)


def _req(s: dict | None) -> str:
    if s is None:
        return "-"
    return f"{s['requests']:,} / ${s['volume']:,.0f}"


def render_table(rows: dict[str, dict]) -> str:
    """Markdown: one line per capture and strategy, the issue's figures as columns."""
    head = ("| capture (fit on) | strategy | P&L $ | fills | net capture bps | fees $ "
            "| both sides quoted | requests / USDC traded | P&L $ at maker -0.3 bps |")
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in rows.items():
        for key, label, rebate in (("unified", "unified", "unified_rebate"),
                                   ("legacy", "legacy", None), ("hft", "hftbacktest GLFT", "hft_rebate")):
            s = row.get(key)
            if s is None:
                lines.append(f"| {name} ({row['train']}) | {label} | n/a | | | | | | |")
                continue
            reb = row.get(rebate) if rebate else None
            lines.append(
                f"| {name} ({row['train']}) | {label} | {_f(s['pnl'])} | {s['fills']} | "
                f"{_f(s['net_capture_bps'], '{:+.2f}')} | {_f(s['fees'], '{:.3f}')} | "
                f"{_f(s['two_sided_share'], '{:.0%}')} | {_req(s)} | "
                f"{_f(reb['pnl']) if reb else '-'} |")
    return "\n".join(lines)


def goals(rows: dict[str, dict]) -> dict[str, str]:
    """The issue's capture goals as counts (unified against both baselines)."""
    n = len(rows)
    beat = sum(1 for r in rows.values()
               if (r["unified"]["pnl"] or 0) >= (r["legacy"]["pnl"] or 0)
               and (r["hft"] is None or (r["unified"]["pnl"] or 0) >= r["hft"]["pnl"]))
    busy = [r for r in rows.values() if r["unified"]["fills"] >= 10]
    cap = sum(1 for r in busy if (r["unified"]["net_capture_bps"] or 0) >= 0)
    two = sum(1 for r in rows.values() if (r["unified"]["two_sided_share"] or 0) >= 0.8)
    reb = sum(1 for r in rows.values() if (r["unified_rebate"]["pnl"] or 0) > 0)
    req = sum(1 for r in rows.values() if r["unified"]["requests"] <= r["unified"]["volume"])
    return {"P&L >= legacy and >= hftbacktest (where run)": f"{beat}/{n} (goal >= 5)",
            "net capture >= 0 where >= 10 fills": f"{cap}/{len(busy)} (goal all)",
            "both sides quoted >= 80 % of unpulled time": f"{two}/{n} (goal all)",
            "P&L > 0 at maker -0.3 bps": f"{reb}/{n} (goal >= 4)",
            "requests <= USDC traded": f"{req}/{n} (goal all)"}


def render_reasons(named: list[tuple[str, dict | None]]) -> str:
    """Unified's requests by reason (the backtest report's ``requests_by_reason``), one
    line per (label, counts); empty when no run counted them."""
    named = [(k, c) for k, c in named if c]
    if not named:
        return ""
    keys = list(named[0][1])
    lines = ["| run | " + " | ".join(keys) + " | total |", "| --- |" + " ---: |" * (len(keys) + 1)]
    for label, c in named:
        lines.append(f"| {label} | " + " | ".join(f"{c.get(k, 0):,}" for k in keys)
                     + f" | {sum(c.values()):,} |")
    return "\n".join(lines) + "\n"


def render(data: dict) -> str:
    rows = data["rows"]
    g = "\n".join(f"- {k}: {v}" for k, v in goals(rows).items())
    why = render_reasons([(f"{name} unified", r["unified"].get("requests_by_reason"))
                          for name, r in rows.items()])
    why = f"\nunified's requests by reason:\n\n{why}" if why else ""
    return f"{render_table(rows)}\n\nunified overrides: {data.get('quote') or 'none'}\n\n{g}\n{why}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--skip-calibrate", action="store_true", help="reuse params_*.toml in --out")
    ap.add_argument("--render-only", action="store_true", help="table.md from quality.json")
    ap.add_argument("--quote", action="append", default=[], metavar="KEY=VALUE",
                    help="[quote] override for unified, e.g. edge_vs_fair=false "
                         "(SECTION.KEY=VALUE for another section, nested: gateway.keep_depth_bps=6, "
                         "estimator.vol.kurtosis_as_k=0.3)")
    ap.add_argument("--captures", default=",".join(CAPTURES))
    ap.add_argument("--scenario", help="instead of the captures: synthetic scenario NAME, unified vs legacy")
    ap.add_argument("--seeds", default="1-20", help="for --scenario: A-B or a comma list")
    ap.add_argument("--presets", default="unified,legacy", help="for --scenario")
    ap.add_argument("--overlay", type=Path, help="for --scenario: a config overlay for unified and no_as")
    ap.add_argument("--legacy-overlay", type=Path,
                    help="for --scenario: a config overlay for legacy (e.g. a before arm's gateway defaults)")
    ap.add_argument("--baselines", type=Path,
                    help="a previous quality.json: reuse its legacy and hftbacktest rows (captures)")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.scenario:
        from tools import scenario_quality  # not at the top: it imports this module

        print(scenario_quality.write_scenario(a.out, a.scenario, a.seeds, parse_overrides(a.quote),
                                              tuple(a.presets.split(",")), a.overlay,
                                              a.legacy_overlay, a.render_only))
        return 0
    store = a.out / "quality.json"
    if not a.render_only:
        quote = parse_overrides(a.quote)
        if not a.skip_calibrate:
            run_calibrations(a.out)
        data = {"quote": quote, "command": "python -m tools.trading_quality " + " ".join(
            sys.argv[1:] if argv is None else argv), "rows": {}}
        for name in a.captures.split(","):
            base = json.loads(a.baselines.read_text())["rows"] if a.baselines else None
            data["rows"][name] = run_capture(a.out, name, quote, base)
            store.write_text(json.dumps(data, indent=1))
    data = json.loads(store.read_text())
    md = render(data)
    (a.out / "table.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
