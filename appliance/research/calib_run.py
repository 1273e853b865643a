"""``mmctl calibrate --ray`` without the command line: one calibration per capture (or
per leave-one-out fold) as Ray tasks, then the overlays and the summary written.

Outputs in ``out_dir``: ``<name>.toml`` per calibration (the overlay ``mmctl
calibrate --out`` writes), ``summary.txt`` (the fitted keys side by side, then each
calibration's own summary and score table, as ``mmctl calibrate`` prints it),
``calibrations.parquet`` (one row per calibration: its data, where it ran, every
fitted key as ``fit.<table>.<key>``), ``scores.parquet`` (the score table of every
calibration, long form) and ``calibrate.json`` (the run's arguments and timing).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from appliance.calibrate import CalibrationError, CalibrationResult
from appliance.calibrate.report import summary_lines, write_report
from appliance.config import Config

from .calib_jobs import CalibJob, Pair, plan_jobs

SUMMARY_FILE = "summary.txt"
TABLE_FILE = "calibrations.parquet"
SCORES_FILE = "scores.parquet"
META_FILE = "calibrate.json"


@dataclass(frozen=True)
class CalibOptions:
    pairs: tuple[Pair, ...]  # (path, coin) of each --data file
    cfg: Config
    out_dir: Path
    mode: str = "capture"  # calib_jobs.MODES
    train_frac: float = 0.7
    backtests: bool = True
    max_seconds: float | None = None
    address: str | None = None  # an existing cluster; None = a local Ray
    workers: int = 2
    object_store_mb: int | None = None
    report_dir: Path | None = None  # report.html and plots per calibration, in report_dir/<name>/


@dataclass
class CalibRun:
    jobs: list[CalibJob]
    results: dict[int, CalibrationResult]
    meta: dict
    summary: str
    files: list[Path] = field(default_factory=list)


def prepare(opts: CalibOptions) -> list[CalibJob]:
    """The calibrations, checked; CalibrationError naming what is wrong."""
    if opts.address is None and opts.workers < 1:
        raise CalibrationError(f"--workers: at least 1, got {opts.workers}")
    if opts.max_seconds is not None and not opts.max_seconds > 0:
        raise CalibrationError(f"--max-seconds: must be > 0, got {opts.max_seconds}")
    if opts.out_dir.exists() and not opts.out_dir.is_dir():
        raise CalibrationError(f"--out {opts.out_dir}: with --ray, --out is a directory")
    return plan_jobs(list(opts.pairs), opts.mode, opts.train_frac)


def run(opts: CalibOptions, on_load: Callable[[Pair, int, float], None] | None = None,
        on_done: Callable[[CalibJob, dict], None] | None = None) -> CalibRun:
    jobs = prepare(opts)
    try:  # ray (~1 s to import, an optional dependency) only when a run starts
        from . import ray_exec
    except ImportError as e:
        raise CalibrationError(f"--ray needs ray: pip install 'hl-mm-appliance[research]' ({e})") from None
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    loads: list[dict] = []

    def loaded(pair: Pair, n: int, seconds: float) -> None:
        loads.append({"path": pair[0], "coin": pair[1], "events": n, "load_s": seconds})
        if on_load is not None:
            on_load(pair, n, seconds)

    try:
        cluster = ray_exec.connect(opts.address, opts.workers, opts.object_store_mb)
    except ray_exec.RayUnavailable as e:
        raise CalibrationError(str(e)) from None
    with ray_exec.tasks_raising(CalibrationError):  # an unreadable capture too, not a traceback
        out = ray_exec.run_calibrations(jobs, opts.cfg, backtests=opts.backtests,
                                        max_seconds=opts.max_seconds, on_load=loaded, on_done=on_done)
    wall_s = time.perf_counter() - t0
    runs = [{"job": j.index, "name": j.name, "node_id": out[j.index]["node_id"],
             "worker_pid": out[j.index]["worker_pid"], "wall_s": out[j.index]["wall_s"]} for j in jobs]
    meta = {"mode": opts.mode, "data": [list(p) for p in opts.pairs], "train_frac": opts.train_frac,
            "backtests": opts.backtests, "max_seconds": opts.max_seconds, "cluster": cluster,
            "workers": opts.workers if opts.address is None else None, "calibrations": len(jobs),
            "runs": runs, "loads": loads, "wall_s": wall_s,
            "calibrations_per_min": 60.0 * len(jobs) / wall_s,
            "nodes_used": sorted({r["node_id"] for r in runs}), "host": platform.node(),
            "cpu_count": os.cpu_count(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return write(opts, jobs, {i: o["result"] for i, o in out.items()}, meta)


def write(opts: CalibOptions, jobs: list[CalibJob], results: dict[int, CalibrationResult],
          meta: dict) -> CalibRun:
    """Every output file of a run (``results`` by job index)."""
    d = opts.out_dir
    files = []
    for j in jobs:
        path = d / f"{j.name}.toml"
        path.write_text(results[j.index].text)
        files.append(path)
        if opts.report_dir is not None:
            files.append(write_report(results[j.index], opts.report_dir / j.name, path))
    text = summary_text(jobs, results)
    (d / SUMMARY_FILE).write_text(text + "\n")
    runs = {r["job"]: r for r in meta.get("runs", [])}
    pq.write_table(_table(jobs, results, runs), d / TABLE_FILE)
    pq.write_table(_scores(jobs, results), d / SCORES_FILE)
    (d / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    files += [d / SUMMARY_FILE, d / TABLE_FILE, d / SCORES_FILE, d / META_FILE]
    return CalibRun(jobs, results, meta, text, files)


def fitted_keys(res: CalibrationResult) -> dict[str, object]:
    """``{"estimator.hawkes.mu_prior_per_s": value, ...}`` of one overlay."""
    return {f"{table}.{k}": v for table, values in res.overlay.items() for k, v in values.items()}


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def summary_text(jobs: list[CalibJob], results: dict[int, CalibrationResult]) -> str:
    """The fitted keys side by side (a row per key, a column per calibration), then
    each calibration's own summary."""
    fits = [fitted_keys(results[j.index]) for j in jobs]
    keys = list(dict.fromkeys(k for f in fits for k in f))
    head = ["key", *(f"[{j.index}]" for j in jobs)]
    cells = [head] + [[k, *(_fmt(f[k]) if k in f else "-" for f in fits)] for k in keys]
    w = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = [f"{len(jobs)} calibrations:"]
    lines += [f"  [{j.index}] {j.name}: train {', '.join(os.path.basename(p) for p, _ in j.data)}"
              + (f"; test {', '.join(os.path.basename(p) for p, _ in j.test_data)}" if j.test_data
                 else f" (split {j.train_frac:.0%} / {1 - j.train_frac:.0%})") for j in jobs]
    lines += ["", "fitted keys:"]
    lines += ["  ".join(c[i].ljust(w[i]) if i == 0 else c[i].rjust(w[i]) for i in range(len(c)))
              for c in cells]
    for j in jobs:
        lines += ["", f"=== [{j.index}] {j.name} ===", *summary_lines(results[j.index])]
    return "\n".join(lines)


def _table(jobs: list[CalibJob], results: dict[int, CalibrationResult], runs: dict[int, dict]
           ) -> pa.Table:
    rows = []
    for j in jobs:
        res = results[j.index]
        run = runs.get(j.index, {})
        row: dict = {"job": j.index, "name": j.name,
                     "data": json.dumps([p for p, _ in j.data]),
                     "test_data": json.dumps([p for p, _ in j.test_data]),
                     "coins": ",".join(dict.fromkeys(c for _, c in j.pairs)), "train_frac": j.train_frac,
                     "node_id": run.get("node_id", ""), "wall_s": float(run.get("wall_s", float("nan"))),
                     "notes": "\n".join(res.notes)}
        row.update({f"fit.{k}": float(v) for k, v in fitted_keys(res).items()})
        rows.append(row)
    keys = list(dict.fromkeys(k for r in rows for k in r))  # a fit one job refused is null there
    return pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in rows])


def _scores(jobs: list[CalibJob], results: dict[int, CalibrationResult]) -> pa.Table:
    rows = [{"job": j.index, "name": j.name, "model": r.model, "metric": r.metric,
             **{c: None if getattr(r, c) is None else float(getattr(r, c))
                for c in ("default_in", "default_out", "calibrated_in", "calibrated_out")}}
            for j in jobs for r in results[j.index].rows]
    schema = pa.schema([("job", pa.int64()), ("name", pa.string()), ("model", pa.string()),
                        ("metric", pa.string()), *((c, pa.float64()) for c in
                                                   ("default_in", "default_out", "calibrated_in",
                                                    "calibrated_out"))])
    return pa.Table.from_pylist(rows, schema=schema)
