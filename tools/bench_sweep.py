"""`mmctl bench sweep`: sweep throughput on Ray against the same backtests one by one.

One run, one machine, the same tasks (a 3 x 3 grid x the given captures) four ways:

* ``loop``: a plain Python loop of ``run_backtest`` (what a user writes by hand: each
  backtest reads and parses its capture);
* ``loop_preloaded``: a plain loop over data loaded once per capture (the sweep's own
  task function, no Ray): what loading once buys, without parallelism;
* ``ray_1``, ``ray_2``: ``mmctl sweep``'s ``run_sweep`` on a local Ray of 1 and 2 CPUs,
  Ray start-up and shutdown included.

The kernels are compiled (and cached) before anything is timed. Every mode's rows are
checked equal to the plain loop's. Backtests per minute = tasks / wall time x 60.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from appliance.research.data import load_data
from appliance.research.rows import outcome, task_row
from appliance.research.sweep import SweepOptions, prepare, run_sweep
from appliance.research.task import direct_row, run_loaded

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance_usdm"
DEFAULT_DATA = (DATA / "btcusdt_20240808.gz", DATA / "ethusdt_20240808.gz")
GRID = '"quote.gamma" = [0.05, 0.3, 1.0]\n"quote.min_spread_bps" = [2.0, 8.0, 20.0]\n'


def _same(rows: list[dict], ref: list[dict]) -> bool:
    def norm(r: dict) -> str:
        return json.dumps(outcome(r), sort_keys=True, default=str)  # NaN -> "NaN" both sides
    return [norm(r) for r in sorted(rows, key=lambda r: r["task"])] == [norm(r) for r in ref]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_sweep_bench(data: list[str], max_seconds: float | None, workers: tuple[int, ...] = (1, 2)
                    ) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    grid = tmp / "sweep.toml"
    grid.write_text(GRID)
    opts = SweepOptions(grid, tuple(data), max_seconds=max_seconds, out_dir=tmp / "out")
    _, tasks = prepare(opts)
    direct_row(tasks[0])  # compile (or load) the kernels before any timing
    modes: dict[str, dict] = {}

    t0, load0 = time.perf_counter(), _loadavg()
    ref = [direct_row(t) for t in tasks]
    modes["loop"] = {"wall_s": time.perf_counter() - t0, "load_before": load0}

    t0, load0 = time.perf_counter(), _loadavg()
    loaded: dict = {}
    rows = []
    for t in tasks:
        if t.data not in loaded:
            loaded[t.data] = load_data(t.data)
        rows.append(task_row(t, run_loaded(t, loaded[t.data]).report))
    loaded.clear()
    modes["loop_preloaded"] = {"wall_s": time.perf_counter() - t0, "load_before": load0,
                               "equal": _same(rows, ref)}

    for k in workers:
        o = SweepOptions(grid, tuple(data), max_seconds=max_seconds, workers=k, out_dir=tmp / f"ray{k}")
        t0, load0 = time.perf_counter(), _loadavg()
        res = run_sweep(o)
        modes[f"ray_{k}"] = {"wall_s": time.perf_counter() - t0, "load_before": load0,
                             "equal": _same(res.rows, ref), "workers": k,
                             "task_wall_s_sum": sum(r["task_wall_s"] for r in res.rows),
                             "data_load_s": sum(x["load_s"] for x in res.meta["loads"]),
                             "worker_pids": len({r["worker_pid"] for r in res.rows})}
    for m in modes.values():
        m["backtests_per_min"] = 60.0 * len(tasks) / m["wall_s"]
    return {"tasks": len(tasks), "data": [str(d) for d in data], "max_seconds": max_seconds,
            "grid": GRID, "events": sum(r["events"] for r in ref[: len(data)]),
            "machine": {"host": platform.node(), "cpus": os.cpu_count(),
                        "python": platform.python_version(), "load_after": _loadavg()},
            "modes": modes}


def render(result: dict) -> str:
    lines = [f"{result['tasks']} backtests ({len(result['data'])} captures x 9 grid points, "
             f"max_seconds={result['max_seconds']}) on {result['machine']['cpus']} CPUs",
             f"{'mode':<16} {'wall_s':>8} {'per_min':>8} {'equal':>6} {'load_before':>18}"]
    for name, m in result["modes"].items():
        lines.append(f"{name:<16} {m['wall_s']:>8.1f} {m['backtests_per_min']:>8.1f} "
                     f"{str(m.get('equal', 'ref')):>6} {str(m['load_before']):>18}")
    return "\n".join(lines)
