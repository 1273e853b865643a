"""Whole-run fingerprints of the backtest, for speed work that must not move a number.

    python -m tools.backtest_fingerprint [--data DIR] [--events N] [--runs NAME,...] [--json OUT]

Each run's fingerprint is a sha256 over every named field (alignment padding left out:
numpy leaves it uninitialized where it grows structured arrays) of what the run leaves
behind: fills, markouts, samples, the prediction records (orders, per-fill extras,
requotes), the estimator state, the position, the ladder, the MarketParams and the
backtest state (its stage-profile fields left out: they hold cycle counts when
profiling is on). Runs, on the default config with its preset:

* ``btcusdt``: the Binance USD-M BTCUSDT capture, whole file, in the config's chunks;
* ``btcusdt_chunk1000``: the same file in chunks of 1,000 events;
* ``btcusdt_mdlat``: the same file with md latency 5 ms + 2 ms lognormal jitter and
  order latency jitter 5 ms (the lagged loop, seeded);
* ``toxic_burst_s2``: the synthetic ``toxic_burst`` scenario, seed 2.

``--events N`` cuts every run to its first N events (the test's short slice). Run it on
the old and the new checkout (each with its own ``HL_MM_CACHE_DIR``) and compare the
printed digests; equal digests mean the same fills, markouts, samples, records and state.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from appliance.backtest import apply_preset
from appliance.backtest.load import bounded_chunks, is_finite_source, open_market
from appliance.backtest.runner import Simulation
from appliance.config import load_config, sizing

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BTCUSDT = "binance_usdm/btcusdt_20240808.gz"
MD_LATENCY = {"md_latency_ms": 5.0, "md_latency_jitter_ms": 2.0, "order_latency_jitter_ms": 5.0}
# name: (source, seed, chunk events or None for the config's, [backtest] overrides)
RUNS = {
    "btcusdt": (f"replay:{BTCUSDT}", None, None, {}),
    "btcusdt_chunk1000": (f"replay:{BTCUSDT}", None, 1000, {}),
    "btcusdt_mdlat": (f"replay:{BTCUSDT}", None, None, MD_LATENCY),
    "toxic_burst_s2": ("synthetic:toxic_burst", 2, None, {}),
}
_SKIP_FIELDS = {"prof_cycles", "prof_events", "profile"}  # BT_STATE's stage profile


def _hash_array(h, name: str, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(f"{name}:{a.dtype.names or a.dtype.str}:{a.shape}".encode())
    if a.dtype.names is None:
        h.update(a.tobytes())
        return
    for f in a.dtype.names:
        if f in _SKIP_FIELDS:
            continue
        sub = a[f]
        if sub.dtype.names is not None:
            _hash_array(h, f"{name}.{f}", sub)
        else:
            h.update(f.encode())
            h.update(np.ascontiguousarray(sub).tobytes())


def _chunks(source: str, seed: int, chunk: int, cfg, events: int | None):
    market = open_market(source, cfg.appliance.coins[0] if not is_finite_source(source) else "BTC",
                         seed, cfg.feed)
    dur = None if is_finite_source(source) else cfg.backtest.synthetic_duration_s
    left = events
    for c in bounded_chunks(market, chunk, dur):
        if left is not None:
            if left <= 0:
                return
            c = c[:left]
            left -= c.shape[0]
        yield c


def fingerprint(source: str, seed: int | None = None, chunk: int | None = None,
                overrides: dict | None = None, events: int | None = None) -> dict:
    """Run one backtest and return its digest, with the counts that make it readable."""
    cfg = load_config()
    cfg = apply_preset(cfg.backtest.preset, cfg)
    if overrides:
        cfg = dataclasses.replace(cfg, backtest=dataclasses.replace(cfg.backtest, **overrides))
    q, r = sizing.for_coin(cfg.quote, cfg.risk, "BTC")
    cfg = dataclasses.replace(cfg, quote=q, risk=r)
    seed = cfg.feed.seed if seed is None else seed
    chunk = chunk or cfg.backtest.chunk_events
    s = Simulation(cfg, seed=seed)
    s.warm_up()
    for c in _chunks(source, seed, chunk, cfg, events):
        s.feed(c)
    s.finish()
    fills, markouts, samples = s.outputs()
    orders, finfo, rqs = s.prediction_records()
    est = np.zeros(1, s.est_state.dtype)
    est[0] = s.est_state
    h = hashlib.sha256()
    for name, a in (("fills", fills), ("markouts", markouts), ("samples", samples),
                    ("orders", orders), ("fill_info", finfo), ("requotes", rqs),
                    ("estimator", est), ("position", s.pos), ("ladder", s.ladder),
                    ("params", s.params), ("bt_state", s.st)):
        _hash_array(h, name, a)
    st = s.st[0]
    return {"sha256": h.hexdigest(), "events": int(st["n_events"]), "fills": int(fills.shape[0]),
            "samples": int(samples.shape[0]), "orders": int(orders.shape[0]),
            "requotes": int(rqs.shape[0])}


def run_all(data: Path = DATA, names: list[str] | None = None, events: int | None = None) -> dict:
    out = {}
    for name in names or list(RUNS):
        source, seed, chunk, over = RUNS[name]
        if source.startswith("replay:"):
            path = data / source.removeprefix("replay:")
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: pass --data DIR")
            source = f"replay:{path}"
        out[name] = fingerprint(source, seed, chunk, over, events)
        print(f"{name:20s} {out[name]['sha256']}  events {out[name]['events']:,}  "
              f"fills {out[name]['fills']}  orders {out[name]['orders']}", flush=True)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--runs", default=",".join(RUNS))
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    res = run_all(a.data, [n for n in a.runs.split(",") if n], a.events)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
