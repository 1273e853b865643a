"""One backtest of a sweep, from loaded data or, for comparison, straight from its
source with ``run_backtest`` (the path ``mmctl backtest`` takes)."""

from __future__ import annotations

import os
import time

import numpy as np

from appliance.backtest import BacktestResult, apply_preset, run_backtest, run_events
from appliance.backtest.instrument_report import instrument_block

from .data import LoadedData
from .plan import Task
from .rows import task_row


def run_loaded(task: Task, data: LoadedData) -> BacktestResult:
    """The backtest of ``task`` over events already loaded (``data.key == task.data``)."""
    if data.key != task.data:
        raise ValueError(f"task {task.index} reads {task.data.spec}, given {data.key.spec}")
    preset = task.cfg.backtest.preset
    cfg = apply_preset(preset, task.cfg)
    # writable copies: arrays from Ray's object store are read-only, and numba would
    # compile the whole loop again for a read-only array type
    chunks = (np.array(c, copy=True) for c in data.chunks)
    result = run_events(chunks, cfg, source=task.spec, seed=task.seed, coin=task.data.coin,
                        preset=preset, source_stats=lambda: dict(data.source_stats),
                        truth=lambda: data.truth)
    result.report["instrument"] = instrument_block(data.instrument, result.report, result.fills, cfg)
    return result


def run_direct(task: Task) -> BacktestResult:
    """The same backtest as ``mmctl backtest`` runs it: its source opened and read here."""
    return run_backtest(task.spec, task.cfg, seed=task.seed, coin=task.data.coin,
                        duration_s=task.data.duration_s)


def direct_row(task: Task) -> dict:
    """The row of ``task`` run one by one (``run_direct``), as a sweep would give it."""
    t0 = time.perf_counter()
    row = task_row(task, run_direct(task).report)
    row["worker_pid"] = os.getpid()
    row["task_wall_s"] = time.perf_counter() - t0
    return row
