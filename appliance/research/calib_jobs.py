"""The calibrations of ``mmctl calibrate --ray``: which captures each one trains and
tests on, and one calibration run from events loaded once (or, for comparison, one by
one as ``mmctl calibrate`` runs it, each file read in place).

Two ways to split a set of captures into calibrations:

* ``capture``: one calibration per capture, each split in time by ``train_frac`` (what
  ``mmctl calibrate --data FILE`` gives for each file alone);
* ``fold``: leave one capture out: fold ``i`` trains on every other capture (whole,
  ``train_frac`` 1) and is scored out of sample on capture ``i`` (``--test-data``).
  Every fold reads most captures, which is where shipping them by reference pays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from appliance.calibrate import CalibrationResult, calibrate
from appliance.calibrate.data import CalibrationError, load_events
from appliance.config import Config
from appliance.feed.sources.merged import split_paths

MODES = ("capture", "fold")

Pair = tuple[str, str]  # (path, coin)


@dataclass(frozen=True)
class CalibJob:
    index: int
    name: str  # the overlay's file stem: unique within a run
    data: tuple[Pair, ...]
    test_data: tuple[Pair, ...]
    train_frac: float

    @property
    def pairs(self) -> tuple[Pair, ...]:
        """Every capture the job reads, train first."""
        return self.data + self.test_data


def _stem(path: str) -> str:
    """A file's name without its extensions; several files (FILE1,FILE2) joined by "+"."""
    names = []
    for part in split_paths(path):
        name = os.path.basename(os.path.normpath(part))
        for ext in (".gz", ".lz4", ".parquet", ".jsonl", ".json", ".csv"):
            name = name.removesuffix(ext)
        names.append(name)
    return "+".join(names) or "data"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def plan_jobs(pairs: list[Pair], mode: str, train_frac: float = 0.7) -> list[CalibJob]:
    """The calibrations of ``pairs`` in ``mode``; CalibrationError naming what is wrong."""
    if mode not in MODES:
        raise CalibrationError(f"--per: one of {', '.join(MODES)}, got {mode!r}")
    if not pairs:
        raise CalibrationError("no data: give --data FILE")
    if len(set(pairs)) != len(pairs):
        raise CalibrationError("a --data file is given twice")
    names = _unique([f"{_stem(p)}_{c}" for p, c in pairs])
    if mode == "capture":
        if not 0.0 < train_frac < 1.0:
            raise CalibrationError(f"--train-frac must be in (0, 1) with --per capture, got {train_frac}")
        return [CalibJob(i, names[i], (pair,), (), train_frac) for i, pair in enumerate(pairs)]
    if len(pairs) < 2:
        raise CalibrationError("--per fold leaves one capture out: give at least two --data files")
    return [CalibJob(i, f"fold_{i}_test_{names[i]}", tuple(p for j, p in enumerate(pairs) if j != i),
                     (pair,), 1.0) for i, pair in enumerate(pairs)]


def run_job(job: CalibJob, cfg: Config, events: dict[Pair, tuple[np.ndarray, dict]], *,
            backtests: bool = True, max_seconds: float | None = None) -> CalibrationResult:
    """``job`` over events already loaded (``events[(path, coin)]``, cut to
    ``max_seconds`` when loaded); the same result as ``run_job_direct``."""
    missing = [p for p in job.pairs if p not in events]
    if missing:
        raise CalibrationError(f"calibration {job.name}: no events given for {missing}")

    def load(path: str, coin: str, _max_seconds: float | None) -> tuple[np.ndarray, dict]:
        ev, stats = events[(path, coin)]
        # a writable copy: arrays from Ray's object store are read-only, and numba would
        # compile the kernels again for a read-only array type
        return np.array(ev, copy=True), dict(stats)

    return calibrate(list(job.data), test_data=list(job.test_data), train_frac=job.train_frac, cfg=cfg,
                     backtests=backtests, max_seconds=max_seconds, load=load)


def run_job_direct(job: CalibJob, cfg: Config, *, backtests: bool = True,
                   max_seconds: float | None = None) -> CalibrationResult:
    """``job`` as ``mmctl calibrate`` runs it: each file read here."""
    return calibrate(list(job.data), test_data=list(job.test_data), train_frac=job.train_frac, cfg=cfg,
                     backtests=backtests, max_seconds=max_seconds)


def load_pair(pair: Pair, max_seconds: float | None) -> tuple[np.ndarray, dict]:
    """The events of one capture as ``calibrate`` reads them."""
    return load_events(pair[0], pair[1], max_seconds)
