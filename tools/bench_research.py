"""Throughput of ``mmctl calibrate --ray`` against the same calibrations one by one, and
of ``mmctl sweep --search optuna`` in trials per minute.

    python -m tools.bench_research [--captures N] [--max-seconds S] [--per capture|fold]
        [--repeats R] [--trials T] [--json OUT]

Calibrations (``--per capture`` or ``fold``, with the own-fill backtests; a fold reads
every capture, so one by one each capture is read once per fold): ``loop`` runs each with
``run_job_direct`` in this process (what ``mmctl calibrate --data FILE`` does, file by
file, without the interpreter start); ``ray_1`` and ``ray_2`` run ``calib_run.run`` on
a local Ray of 1 and 2 CPUs, Ray's start and shutdown included. Every Ray result is
checked equal to the loop's (the overlay and the score table). The search: ``T`` trials
two at a time over gamma x min_spread_bps on the first capture (``--trials 0``: no
search). Medians over ``R`` repeats; kernels compiled before anything is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from appliance.config import load_config
from appliance.research.calib_jobs import plan_jobs, run_job_direct
from appliance.research.calib_run import CalibOptions, run
from appliance.research.search import SearchOptions, run_search

_ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (a worktree one level deeper finds it too)
DATA = next((p for p in (_ROOT.parent / "shared" / "data", _ROOT.parent.parent / "shared" / "data")
             if p.is_dir()), _ROOT.parent / "shared" / "data")
CAPTURES = ((DATA / "binance_usdm" / "btcusdt_20240808.gz", "BTC"),
            (DATA / "binance_usdm" / "ethusdt_20240808.gz", "ETH"),
            (DATA / "binance_cm" / "btcusd_perp_20240808.gz", "BTC"),
            (DATA / "binance_cm" / "ethusd_perp_20240808.gz", "ETH"))
SPACE = ('"quote.gamma" = {low = 0.05, high = 1.0, log = true}\n'
         '"quote.min_spread_bps" = {low = 2.0, high = 20.0}\n')


def _key(res) -> tuple:
    rows = [(r.model, r.metric, *(json.dumps(getattr(r, c)) for c in
                                  ("default_in", "default_out", "calibrated_in", "calibrated_out")))
            for r in res.rows]
    return json.dumps(res.overlay, sort_keys=True), tuple(rows)


def bench_calibrate(pairs, max_seconds: float, repeats: int, per: str = "capture") -> dict:
    cfg = load_config()
    jobs = plan_jobs(pairs, per)
    walls: dict[str, list[float]] = {"loop": [], "ray_1": [], "ray_2": []}
    ref = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = [run_job_direct(j, cfg, max_seconds=max_seconds) for j in jobs]
        walls["loop"].append(time.perf_counter() - t0)
        ref = ref or [_key(r) for r in got]
        for w in (1, 2):
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter()
                res = run(CalibOptions(tuple(pairs), cfg, Path(d), mode=per, max_seconds=max_seconds,
                                       workers=w, object_store_mb=300))
                walls[f"ray_{w}"].append(time.perf_counter() - t0)
            if [_key(res.results[j.index]) for j in jobs] != ref:
                raise SystemExit(f"ray_{w}: results differ from the loop's")
    n = len(jobs)
    return {m: {"walls_s": v, "median_s": statistics.median(v), "per_min": 60.0 * n / statistics.median(v)}
            for m, v in walls.items()} | {"calibrations": n, "per": per, "max_seconds": max_seconds}


def bench_search(capture: str, max_seconds: float, trials: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        space = Path(d) / "space.toml"
        space.write_text(SPACE)
        rates, walls = [], []
        for i in range(repeats):
            res = run_search(SearchOptions(space, (capture,), trials, search_seed=i, parallel=2,
                                           out_dir=Path(d) / f"s{i}", max_seconds=max_seconds))
            rates.append(res.meta["trials_per_min"])
            walls.append(res.meta["wall_s"])
    return {"trials": trials, "max_seconds": max_seconds, "walls_s": walls,
            "median_wall_s": statistics.median(walls), "median_trials_per_min": statistics.median(rates)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--per", choices=("capture", "fold"), default="capture")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--search-max-seconds", type=float, default=None, help="[the whole capture]")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    pairs = [(str(p), c) for p, c in CAPTURES[:a.captures]]
    for p, _ in pairs:
        if not Path(p).is_file():
            raise SystemExit(f"capture missing: {p}")
    # compile (and cache) the kernels before timing
    run_job_direct(plan_jobs(pairs[:1], "capture")[0], load_config(), max_seconds=10.0)
    out = {"calibrate": bench_calibrate(pairs, a.max_seconds, a.repeats, a.per),
           "search": (bench_search(pairs[0][0], a.search_max_seconds, a.trials, a.repeats)
                      if a.trials else None),
           "host": platform.node(), "cpu_count": os.cpu_count(), "load_avg": os.getloadavg(),
           "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    print(json.dumps(out, indent=2))
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
