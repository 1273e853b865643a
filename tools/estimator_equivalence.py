"""Before/after equivalence of the estimator kernel, for refactors that must not change a bit.

    PYTHONPATH=OLD python tools/estimator_equivalence.py capture OUT_OLD [--data DIR]
    PYTHONPATH=NEW python tools/estimator_equivalence.py capture OUT_NEW [--data DIR]
    python tools/estimator_equivalence.py compare OUT_OLD OUT_NEW

Run by path, so that ``capture`` measures the checkout on ``PYTHONPATH`` (OLD: e.g.
``git archive <commit> | tar -x -C OLD``; give each its own ``HL_MM_CACHE_DIR``). It runs:
  * the real captures (Binance USD-M BTCUSDT and ETHUSDT, the Hyperliquid BTC ws one) and
    two synthetic scenarios with asset contexts (funding_spike, liquidation_cascade),
    estimator alone: every event through ``on_event``, a made-up fill of ours queued every
    997th event (sometimes two, sometimes without a mid) so the fill path runs,
    MarketParams written after every event (every record's bytes hashed in order, every
    64th kept), the whole state's bytes hashed every 64th event, the final state kept;
  * backtests (BTCUSDT replay, three scenarios): the estimator inside the full loop with
    the venue's fills; fills, markouts, samples, backtest state, position, ladder,
    MarketParams and estimator state kept.
``compare`` holds every hash equal and every kept array equal byte for byte in each named
field (alignment padding is left out: numpy leaves it uninitialized where it grows or
builds structured arrays, e.g. the backtest's fills). Exit status 1 on any difference.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from appliance.backtest import apply_preset
from appliance.backtest.load import bounded_chunks, is_finite_source, open_market
from appliance.backtest.runner import Simulation
from appliance.config import load_config
from appliance.estimator import kernel
from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from shm_layout import records

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CAPTURES = {  # name: (path under the data dir, coin)
    "btcusdt": ("binance_usdm/btcusdt_20240808.gz", "BTC"),
    "ethusdt": ("binance_usdm/ethusdt_20240808.gz", "ETH"),
    "hl_btc": ("hyperliquid/btc_ws_20250126.gz", "BTC"),
}
SCENARIOS = ("funding_spike", "liquidation_cascade")
BACKTESTS = (("bt_btcusdt", "replay:binance_usdm/btcusdt_20240808.gz", None),
             ("bt_funding_spike", "synthetic:funding_spike", 7),
             ("bt_liquidation_cascade", "synthetic:liquidation_cascade", 7),
             ("bt_toxic_burst", "synthetic:toxic_burst", 7))


def _sources(data: Path):
    for name, (rel, coin) in CAPTURES.items():
        yield name, concat_events(list(open_source(f"replay:{data / rel}", [coin]).chunks(65536)))
    c = load_config()
    for s in SCENARIOS:
        market = open_market(f"synthetic:{s}", "BTC", 7, c.feed)
        yield f"syn_{s}", concat_events(list(bounded_chunks(market, c.backtest.chunk_events,
                                                            c.backtest.synthetic_duration_s)))


def _queue_fill(state, fill, ev, i) -> bool:
    h = state["header"]
    bid, ask = float(h["bid_px"]), float(h["ask_px"])
    if bid <= 0:
        return False
    k = i // 997
    side = 1 if k % 2 == 0 else -1
    fill["ts_ns"] = int(ev["exch_ts_ns"]) - 1000
    fill["side"] = side
    fill["px"] = bid if side > 0 else ask
    fill["sz"] = 0.001 * (1 + k % 7)
    fill["mid_px"] = 0.5 * (bid + ask) if k % 5 else 0.0  # some without a mid
    fill["position_sz"] = 0.001 * (k % 11 - 5)
    kernel.on_fill(state, fill)
    if k % 3 == 0:
        kernel.on_fill(state, fill)  # two queued before one event
    return True


def _estimator_alone(out_dir: Path, data: Path, summary: dict) -> None:
    cfg = kernel.config_vector(load_config().estimator)
    for name, evs in _sources(data):
        state = kernel.new_states(1)[0]
        kernel.init_state(state, cfg)
        out = np.zeros(1, records.MARKET_PARAMS)
        fill = np.zeros(1, records.FILL_EVENT)[0]
        h_params, h_state = hashlib.sha256(), hashlib.sha256()
        kept = np.zeros((len(evs) + 63) // 64, records.MARKET_PARAMS)
        n_fills = 0
        for i in range(len(evs)):
            if i % 997 == 500:
                n_fills += _queue_fill(state, fill, evs[i], i)
            kernel.on_event(state, cfg, evs[i])
            kernel.write_params(state, cfg, 0, out[0], i)
            h_params.update(out.tobytes())
            if i % 64 == 0:
                kept[i // 64] = out[0]
                h_state.update(np.ascontiguousarray(state).tobytes())
        final = np.zeros(1, state.dtype)
        final[0] = state
        np.save(out_dir / f"{name}_params.npy", kept)
        np.save(out_dir / f"{name}_state.npy", final)
        kinds = dict(zip(*np.unique(evs["kind"], return_counts=True), strict=True))
        summary[name] = {"events": len(evs), "kinds": {int(k): int(v) for k, v in kinds.items()},
                         "fills_queued": n_fills, "params_sha256": h_params.hexdigest(),
                         "state_sha256_every64": h_state.hexdigest(),
                         "n_warm": int(state["header"]["n_warm"]), "n_cold": int(state["header"]["n_cold"]),
                         "n_fills": int(state["header"]["n_fills"])}
        print(name, summary[name], flush=True)


def _backtests(out_dir: Path, data: Path, summary: dict) -> None:
    for label, source, seed in BACKTESTS:
        if source.startswith("replay:"):
            source = f"replay:{data / source.removeprefix('replay:')}"
        c = load_config()
        c = apply_preset(c.backtest.preset, c)
        seed = c.feed.seed if seed is None else seed
        market = open_market(source, c.appliance.coins[0], seed, c.feed)
        sim = Simulation(c, seed=seed)
        sim.warm_up()
        dur = None if is_finite_source(source) else c.backtest.synthetic_duration_s
        for chunk in bounded_chunks(market, c.backtest.chunk_events, dur):
            sim.feed(chunk)
        sim.finish()
        fills, markouts, samples = sim.outputs()
        est = np.zeros(1, sim.est_state.dtype)
        est[0] = sim.est_state
        parts = (("fills", fills), ("markouts", markouts), ("samples", samples), ("bt_state", sim.st),
                 ("position", sim.pos), ("ladder", sim.ladder), ("params", sim.params), ("state", est))
        for part, a in parts:
            np.save(out_dir / f"{label}_{part}.npy", np.ascontiguousarray(a))
        summary[label] = {"fills": len(fills), "samples": len(samples),
                          "n_events_est": int(sim.est_state["header"]["n_events"])}
        print(label, summary[label], flush=True)


def capture(out_dir: Path, data: Path = DATA) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    _estimator_alone(out_dir, data, summary)
    _backtests(out_dir, data, summary)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    names = x.dtype.names
    return all(x[n].tobytes() == y[n].tobytes() for n in names) if names else x.tobytes() == y.tobytes()


def compare(a: Path, b: Path) -> bool:
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    ok = sa == sb
    for k in sorted(set(sa) | set(sb)):
        print(f"{k:26s} {'identical' if sa.get(k) == sb.get(k) else 'DIFFERENT'}: {sa.get(k)}")
    for f in sorted(a.glob("*.npy")):
        g = b / f.name
        same = g.exists() and _same(np.load(f), np.load(g))
        ok &= same
        print(f"{f.name:40s} {'identical' if same else 'DIFFERENT'}")
    ok &= {f.name for f in a.glob("*.npy")} == {f.name for f in b.glob("*.npy")}
    print("ALL IDENTICAL" if ok else "DIFFERENCES FOUND")
    return ok


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "capture":
        data = Path(argv[argv.index("--data") + 1]) if "--data" in argv else DATA
        capture(Path(argv[1]), data)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return 0 if compare(Path(argv[1]), Path(argv[2])) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
