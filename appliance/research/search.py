"""``mmctl sweep --search optuna``: a seeded Optuna search over a space of config values,
each trial's backtests (data x seeds, as a grid point's) run as the sweep's Ray tasks,
maximising the mean of a report metric (``pnl_usd``, P&L net of fees, by default).

Optuna drives Ray directly through its ask-and-tell interface, not through Ray Tune:

* **Reproducible with parallel trials.** The search asks a batch of ``parallel``
  trials, runs all their backtests at once, and tells Optuna their values in trial
  order; what the sampler sees does not depend on which task finished first, so the
  same seed and batch size give the same trials and the same table on any cluster.
  Tune's ``OptunaSearch`` tells each result as its trial ends, so it is reproducible
  only one trial at a time (``max_concurrent_trials=1``), losing the parallelism.
* **The sweep's own tasks.** A trial's backtests are the grid sweep's tasks (data
  shipped by reference, loaded once per data key for the whole search), so the
  results table is the grid sweep's, row for row, and each row equals the backtest run
  one by one. Under Tune a trial is an actor running a function trainable, with its
  own experiment directory and result logging, and the rows would have to travel back
  through Tune's metric dict; that machinery buys nothing for a trial that is a few
  backtests of a second or less (its cost was not measured here).

A configuration a trial draws that the config loader refuses (values valid alone but
not together) is told to Optuna as a failed trial and listed in ``sweep.json``.
Importing this module does not import ray or optuna.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appliance.config import Config, ConfigError, load_config

from . import plots, summary
from .data import LoadedData
from .grid import Grid, GridPoint, config_at, param_value
from .plan import Task, data_spec, plan_tasks
from .space import Dim, Space, load_space
from .sweep import META_FILE, RANKING_PNG, RESULTS_FILE, SUMMARY_FILE, SweepError
from .table import write_results

SAMPLERS = ("tpe", "random")
SEARCH_PNG = "search.png"


@dataclass(frozen=True)
class SearchOptions:
    space_path: Path
    data: tuple[str, ...]
    trials: int
    seeds: int = 1
    search_seed: int = 0  # the sampler's seed
    parallel: int = 2  # trials asked (and run) at once; the result depends on it
    sampler: str = "tpe"
    config_path: str | None = None
    address: str | None = None
    workers: int = 2
    out_dir: Path = Path("sweep-out")
    max_seconds: float | None = None
    rank_by: str = "pnl_usd"  # the objective (maximised) and the ranking
    object_store_mb: int | None = None


@dataclass
class SearchResult:
    space: Space
    rows: list[dict]  # by task
    trials: list[dict]  # by trial: number, params, value, state
    best: dict | None
    meta: dict
    summary: str
    files: list[Path] = field(default_factory=list)


def prepare(opts: SearchOptions) -> tuple[Config, Space, list[str]]:
    """The base config, the space and the data specs, checked; SweepError naming what is
    wrong (before Ray or Optuna start)."""
    try:
        base = load_config(opts.config_path)
        space = load_space(opts.space_path, base)
        specs = [data_spec(d) for d in opts.data]
    except ValueError as e:
        raise SweepError(str(e)) from None
    if not specs:
        raise SweepError("no data: give --data FILE or synthetic:SCENARIO")
    for name, v in (("--trials", opts.trials), ("--seeds", opts.seeds), ("--parallel", opts.parallel)):
        if v < 1:
            raise SweepError(f"{name}: at least 1, got {v}")
    if opts.sampler not in SAMPLERS:
        raise SweepError(f"--sampler: one of {', '.join(SAMPLERS)}, got {opts.sampler!r}")
    if opts.rank_by not in summary.RANK_METRICS:
        raise SweepError(f"rank by: one of {', '.join(summary.RANK_METRICS)}, got {opts.rank_by!r}")
    if opts.address is None and opts.workers < 1:
        raise SweepError(f"--workers: at least 1, got {opts.workers}")
    try:  # the data's coins and cuts, checked once with the base config
        plan_tasks(Grid((), (), (GridPoint(0, (), base),)), specs, opts.seeds, opts.max_seconds)
    except ValueError as e:
        raise SweepError(str(e)) from None
    return base, space, specs


def _suggest(trial, d: Dim) -> object:
    if d.kind == "choice":
        return trial.suggest_categorical(d.key, list(d.choices))
    if d.kind == "int":
        return trial.suggest_int(d.key, d.low, d.high, step=d.step or 1, log=d.log)
    return trial.suggest_float(d.key, d.low, d.high, step=d.step, log=d.log)


def trial_point(number: int, params: dict[str, object], space: Space, base: Config) -> GridPoint:
    """The grid point of a trial's values (ConfigError when the config refuses them)."""
    cfg = config_at(base, tuple((k, params[k]) for k in space.keys))
    return GridPoint(number, tuple((k, param_value(cfg, k)) for k in space.keys), cfg)


def trial_tasks(point: GridPoint, specs: list[str], opts: SearchOptions, first_index: int) -> list[Task]:
    """A trial's backtests, numbered from ``first_index``."""
    tasks = plan_tasks(Grid(tuple(k for k, _ in point.params), (), (point,)), specs, opts.seeds,
                       opts.max_seconds)
    return [dataclasses.replace(t, index=first_index + i) for i, t in enumerate(tasks)]


def objective(rows: list[dict], metric: str) -> float:
    """A trial's value: the mean of ``metric`` over its rows (NaN ignored; NaN if none)."""
    a = np.array([r[metric] for r in rows], dtype=float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def _sampler(opts: SearchOptions):
    import optuna

    if opts.sampler == "random":
        return optuna.samplers.RandomSampler(seed=opts.search_seed)
    return optuna.samplers.TPESampler(seed=opts.search_seed)


def run_search(opts: SearchOptions, on_load: Callable[[LoadedData, float], None] | None = None,
               on_row: Callable[[dict], None] | None = None,
               on_trial: Callable[[dict], None] | None = None) -> SearchResult:
    base, space, specs = prepare(opts)
    try:  # optional dependencies, imported only when a search runs
        import optuna

        from . import ray_exec
    except ImportError as e:
        raise SweepError(f"--search optuna needs ray and optuna: pip install "
                         f"'hl-mm-appliance[research]' ({e})") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(direction="maximize", sampler=_sampler(opts))
    t0 = time.perf_counter()
    loads: list[dict] = []

    def loaded(data: LoadedData, seconds: float) -> None:
        loads.append({"spec": data.key.spec, "seed": data.key.seed, "events": data.n_events,
                      "load_s": seconds})
        if on_load is not None:
            on_load(data, seconds)

    try:
        cluster = ray_exec.connect(opts.address, opts.workers, opts.object_store_mb)
    except ray_exec.RayUnavailable as e:
        raise SweepError(str(e)) from None
    rows: list[dict] = []
    trials: list[dict] = []
    with ray_exec.tasks_raising(SweepError):
        refs = ray_exec.DataRefs(loaded)
        while len(trials) < opts.trials:
            batch = [study.ask() for _ in range(min(opts.parallel, opts.trials - len(trials)))]
            pending: dict = {}
            runs: list[tuple] = []
            for tr in batch:
                params = {d.key: _suggest(tr, d) for d in space.dims}
                try:
                    point = trial_point(tr.number, params, space, base)
                except ConfigError as e:
                    runs.append((tr, params, None, str(e)))
                    continue
                tasks = trial_tasks(point, specs, opts, len(rows) + sum(len(v) for v in pending.values()))
                pending[tr.number] = tasks
                runs.append((tr, params, point, None))
            submitted = {ref: t for tasks in pending.values()
                         for ref, t in ray_exec.submit_tasks(tasks, refs).items()}
            got = ray_exec.gather_rows(submitted, on_row)
            for tr, params, point, error in runs:  # told in trial order: reproducible
                mine = sorted((r for r in got if r["point"] == tr.number), key=lambda r: r["task"])
                value = objective(mine, opts.rank_by) if point is not None else math.nan
                if math.isfinite(value):
                    study.tell(tr, value)
                else:
                    study.tell(tr, state=optuna.trial.TrialState.FAIL)
                rows += mine
                info = {"trial": tr.number, "params": {k: _plain(v) for k, v in params.items()},
                        "value": value, "state": "complete" if math.isfinite(value) else "failed",
                        "error": error or ("" if math.isfinite(value) else f"no finite {opts.rank_by}"),
                        "tasks": len(mine)}
                trials.append(info)
                if on_trial is not None:
                    on_trial(info)
    wall_s = time.perf_counter() - t0
    done = [t for t in trials if t["state"] == "complete"]
    best = max(done, key=lambda t: (t["value"], -t["trial"])) if done else None
    meta = {"search": "optuna", "sampler": opts.sampler, "search_seed": opts.search_seed,
            "parallel": opts.parallel, "space": [d.describe() for d in space.dims],
            "trials": len(trials), "trials_failed": [t for t in trials if t["state"] != "complete"],
            "best": best, "objective": opts.rank_by, "data": list(opts.data), "seeds": opts.seeds,
            "max_seconds": opts.max_seconds, "config": opts.config_path, "tasks": len(rows),
            "cluster": cluster, "workers": opts.workers if opts.address is None else None,
            "nodes_used": sorted({r["node_id"] for r in rows}), "loads": loads, "wall_s": wall_s,
            "trials_per_min": 60.0 * len(trials) / wall_s, "backtests_per_min": 60.0 * len(rows) / wall_s,
            "optuna": optuna.__version__, "host": platform.node(), "cpu_count": os.cpu_count(),
            "rank_by": opts.rank_by, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return _write(opts, space, rows, trials, best, meta)


def _plain(v: object) -> object:
    return list(v) if isinstance(v, tuple) else v


def _write(opts: SearchOptions, space: Space, rows: list[dict], trials: list[dict], best: dict | None,
           meta: dict) -> SearchResult:
    if not rows:
        raise SweepError("no trial ran: every configuration drawn was refused: "
                         + "; ".join(t["error"] for t in trials))
    out = opts.out_dir
    for r in rows:
        r["trial"] = r["point"]
    stats = summary.point_stats(rows)
    text = summary.render(stats, opts.rank_by, top=30).replace(
        "grid points ranked", f"search trials (optuna {opts.sampler}, seed {opts.search_seed}) ranked", 1)
    files = [write_results(rows, out / RESULTS_FILE, meta)]
    (out / SUMMARY_FILE).write_text(text + "\n")
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    files += [out / SUMMARY_FILE, out / META_FILE, plots.plot_ranking(stats, out / RANKING_PNG),
              plots.plot_search(rows, opts.rank_by, out / SEARCH_PNG)]
    return SearchResult(space, rows, trials, best, meta, text, files)
