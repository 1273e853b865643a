"""The tasks of a sweep: grid points x data sources x seeds, and the data each reads.

A synthetic market (``synthetic:NAME``) is drawn from its seed, so it runs once per
seed. A capture is the same events whatever the seed; the seed only draws order and
market-data latencies, so a capture runs once (the config's ``feed.seed``) unless the
grid point has latency jitter, and then once per seed.

Tasks that read the same events share one ``DataKey``: the sweep loads each key once
and hands the tasks a reference to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from appliance.backtest import KNOWN_PRESETS
from appliance.backtest.load import is_finite_source, market_coin
from appliance.config import Config
from appliance.config.schema import FeedConfig
from appliance.feed.sources.merged import split_paths

from .grid import Grid, GridPoint


class PlanError(ValueError):
    """Data that cannot be swept (a missing file, a replay whose coin is unclear)."""


@dataclass(frozen=True)
class DataKey:
    """Everything the events of a task depend on; equal keys, equal events."""

    spec: str  # replay:PATH | synthetic[:SCENARIO]
    coin: str
    seed: int  # 0 for a replay (its events do not depend on it)
    duration_s: float | None  # cut after the first event; None = the whole replay
    chunk_events: int
    feed: FeedConfig  # replay options, synthetic walk settings


@dataclass(frozen=True)
class Task:
    index: int
    point: GridPoint
    spec: str
    seed: int
    data: DataKey

    @property
    def cfg(self) -> Config:
        return self.point.cfg


def data_spec(arg: str) -> str:
    """A ``--data`` argument as a source spec: a path (a file, or a recorder catalog
    directory) is a replay; a missing one is an error here rather than in every task."""
    arg = arg.strip()
    if arg.startswith("synthetic"):
        return arg
    arg = arg.partition(":")[2] if arg.startswith("replay:") else arg
    try:
        paths = split_paths(arg)  # FILE1,FILE2: several files of one market, merged
    except ValueError as e:
        raise PlanError(str(e)) from None
    for path in paths:
        if not os.path.exists(os.path.expanduser(path)):
            raise PlanError(f"data file not found: {path}")
    return "replay:" + ",".join(os.path.abspath(os.path.expanduser(p)) for p in paths)


def data_label(spec: str) -> str:
    """A short name for tables and plots: a replay's file name (names, joined by "+"),
    a scenario's spec."""
    if not is_finite_source(spec):
        return spec
    return "+".join(os.path.basename(p) for p in split_paths(spec.partition(":")[2]))


def seeds_for(spec: str, cfg: Config, n_seeds: int) -> list[int]:
    base = cfg.feed.seed
    b = cfg.backtest
    jitter = b.order_latency_jitter_ms > 0 or b.md_latency_jitter_ms > 0
    if is_finite_source(spec) and not jitter:
        return [base]
    return [base + k for k in range(n_seeds)]


def _coin(spec: str, cfg: Config, cache: dict) -> str:
    key = (spec, cfg.appliance.coins)
    if key not in cache:
        try:
            cache[key] = market_coin(spec, None, cfg.appliance.coins)
        except (ValueError, OSError) as e:
            raise PlanError(f"{spec}: {e}") from None
    return cache[key]


def plan_tasks(grid: Grid, specs: list[str], n_seeds: int,
               max_seconds: float | None = None) -> list[Task]:
    """Every (point, data, seed), point-major; ``max_seconds`` cuts every source."""
    if n_seeds < 1:
        raise PlanError(f"--seeds: at least 1, got {n_seeds}")
    if max_seconds is not None and not max_seconds > 0:
        raise PlanError(f"--max-seconds: must be > 0, got {max_seconds}")
    tasks: list[Task] = []
    coins: dict = {}
    for point in grid.points:
        cfg = point.cfg
        if cfg.backtest.preset not in KNOWN_PRESETS:  # the config loader does not know them
            raise PlanError(f"grid point {point.label}: unknown backtest.preset "
                            f"{cfg.backtest.preset!r}; known: {', '.join(KNOWN_PRESETS)}")
        for spec in specs:
            finite = is_finite_source(spec)
            coin = _coin(spec, cfg, coins)
            duration = max_seconds if max_seconds is not None else (
                None if finite else cfg.backtest.synthetic_duration_s)
            for seed in seeds_for(spec, cfg, n_seeds):
                key = DataKey(spec, coin, 0 if finite else seed, duration,
                              cfg.backtest.chunk_events, cfg.feed)
                tasks.append(Task(len(tasks), point, spec, seed, key))
    return tasks
