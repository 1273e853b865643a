"""``mmctl sweep`` without the command line: check the grid and data, run every task
on Ray, write the results table, the ranked summary and the plots.

Everything that can be wrong with the arguments (an unknown key, a bad value, a
missing file) is found by ``prepare`` before Ray starts.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.config import load_config

from . import plots, summary
from .data import LoadedData
from .grid import Grid, load_grid
from .plan import Task, data_spec, plan_tasks
from .table import write_results

RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.txt"
META_FILE = "sweep.json"
RANKING_PNG = "ranking.png"
PARAMS_PNG = "params.png"


class SweepError(ValueError):
    """A sweep that cannot run or did not finish; the message says why."""


@dataclass(frozen=True)
class SweepOptions:
    grid_path: Path
    data: tuple[str, ...]
    seeds: int = 1
    config_path: str | None = None
    address: str | None = None  # an existing cluster; None = a local Ray
    workers: int = 2  # CPUs of the local Ray
    out_dir: Path = Path("sweep-out")
    max_seconds: float | None = None  # cut every data source
    rank_by: str = "pnl_usd"
    object_store_mb: int | None = None  # the local Ray's object store


@dataclass
class SweepResult:
    grid: Grid
    tasks: list[Task]
    rows: list[dict]  # by task
    meta: dict
    summary: str
    files: list[Path] = field(default_factory=list)


def prepare(opts: SweepOptions) -> tuple[Grid, list[Task]]:
    """The grid and the tasks, checked; SweepError naming what is wrong."""
    # the config, grid and plan errors are ValueErrors with the reason
    try:
        base = load_config(opts.config_path)
        grid = load_grid(opts.grid_path, base)
        specs = [data_spec(d) for d in opts.data]
        if not specs:
            raise SweepError("no data: give --data FILE or synthetic:SCENARIO")
        tasks = plan_tasks(grid, specs, opts.seeds, opts.max_seconds)
    except ValueError as e:
        raise SweepError(str(e)) from None
    if opts.rank_by not in summary.RANK_METRICS:
        raise SweepError(f"rank by: one of {', '.join(summary.RANK_METRICS)}, got {opts.rank_by!r}")
    if opts.address is None and opts.workers < 1:
        raise SweepError(f"--workers: at least 1, got {opts.workers}")
    return grid, tasks


def run_sweep(opts: SweepOptions, on_load: Callable[[LoadedData, float], None] | None = None,
              on_row: Callable[[dict], None] | None = None) -> SweepResult:
    grid, tasks = prepare(opts)
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    # Imported here: ray (~1 s to import, an optional dependency) only when a sweep runs.
    try:
        from . import ray_exec
    except ImportError as e:
        raise SweepError(f"mmctl sweep needs ray: pip install 'hl-mm-appliance[research]' ({e})") from None
    t0 = time.perf_counter()
    try:
        cluster = ray_exec.connect(opts.address, opts.workers, opts.object_store_mb)
    except ray_exec.RayUnavailable as e:
        raise SweepError(str(e)) from None
    loads: list[dict] = []

    def loaded(data: LoadedData, seconds: float) -> None:
        loads.append({"spec": data.key.spec, "seed": data.key.seed, "events": data.n_events,
                      "mb": data.nbytes / 2**20, "load_s": seconds})
        if on_load is not None:
            on_load(data, seconds)

    with ray_exec.tasks_raising(SweepError):
        rows = ray_exec.run_tasks(tasks, on_load=loaded, on_row=on_row)
    wall_s = time.perf_counter() - t0
    rows.sort(key=lambda r: r["task"])
    meta = _meta(opts, grid, tasks, rows, cluster, loads, wall_s)
    return _write(opts, grid, tasks, rows, meta)


def _meta(opts: SweepOptions, grid: Grid, tasks: list[Task], rows: list[dict], cluster: dict,
          loads: list[dict], wall_s: float) -> dict:
    return {
        "grid": {k: list(v) for k, v in zip(grid.keys, grid.values, strict=True)},
        "points": len(grid.points), "data": list(opts.data), "seeds": opts.seeds,
        "max_seconds": opts.max_seconds, "config": opts.config_path, "tasks": len(tasks),
        "cluster": cluster, "workers": opts.workers if opts.address is None else None,
        "nodes_used": sorted({r["node_id"] for r in rows}),
        "loads": loads, "wall_s": wall_s, "backtests_per_min": 60.0 * len(rows) / wall_s,
        "host": platform.node(), "cpu_count": os.cpu_count(),
        "rank_by": opts.rank_by, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _write(opts: SweepOptions, grid: Grid, tasks: list[Task], rows: list[dict], meta: dict
           ) -> SweepResult:
    out = opts.out_dir
    stats = summary.point_stats(rows)
    text = summary.render(stats, opts.rank_by, top=30)
    files = [write_results(rows, out / RESULTS_FILE, meta)]
    (out / SUMMARY_FILE).write_text(text + "\n")
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    files += [out / SUMMARY_FILE, out / META_FILE,
              plots.plot_ranking(stats, out / RANKING_PNG), plots.plot_params(rows, grid, out / PARAMS_PNG)]
    return SweepResult(grid, tasks, rows, meta, text, files)
