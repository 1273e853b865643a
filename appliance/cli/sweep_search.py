"""`mmctl sweep --search optuna`: a seeded Optuna search on Ray, with a line of progress
per data loaded, per backtest and per trial told."""

from __future__ import annotations

import time
from pathlib import Path

import click


def search_on_ray(space_path: Path, data: tuple[str, ...], *, trials: int, search_seed: int, parallel: int,
                  sampler: str, seeds: int, address: str | None, workers: int, out_dir: Path,
                  max_seconds: float | None, rank_by: str, object_store_mb: int | None,
                  config_path: str | None, progress: bool) -> None:
    # Imported here for mmctl's start-up time: the backtester, and ray and optuna once it runs.
    from appliance.research.search import SearchOptions, prepare, run_search
    from appliance.research.sweep import SweepError

    opts = SearchOptions(space_path, data, trials, seeds, search_seed, parallel, sampler, config_path,
                         address, workers, out_dir, max_seconds, rank_by, object_store_mb)
    try:
        _, space, _ = prepare(opts)
    except SweepError as err:
        raise click.ClickException(str(err)) from None
    t0 = time.perf_counter()
    best = [float("-inf")]

    def on_load(d, seconds: float) -> None:
        if progress:
            click.echo(f"loaded {d.key.spec} (seed {d.key.seed}): {d.n_events} events in {seconds:.1f} s",
                       err=True)

    def on_trial(t: dict) -> None:
        if not progress:
            return
        v = t["value"]
        best[0] = max(best[0], v) if v == v else best[0]
        params = ", ".join(f"{k}={v}" for k, v in t["params"].items())
        click.echo(f"[trial {t['trial'] + 1}/{trials}] {time.perf_counter() - t0:6.1f} s  {params}: "
                   f"{rank_by} {v:+.4f} ({t['state']}{', ' + t['error'] if t['error'] else ''}); "
                   f"best {best[0]:+.4f}", err=True)

    if progress:
        where = f"Ray at {address}" if address else f"a local Ray ({workers} CPUs)"
        click.echo(f"optuna {sampler} search (seed {search_seed}), {trials} trials, {parallel} at a time, "
                   f"over {', '.join(d.describe() for d in space.dims)} on {where}", err=True)
    try:
        res = run_search(opts, on_load=on_load, on_trial=on_trial)
    except SweepError as err:
        raise click.ClickException(str(err)) from None
    m = res.meta
    click.echo(res.summary)
    if res.best is not None:
        b = res.best
        click.echo(f"best: trial {b['trial']}, {rank_by} {b['value']:+.4f}: {b['params']}")
    click.echo(f"{m['trials']} trials ({m['tasks']} backtests) in {m['wall_s']:.1f} s "
               f"({m['trials_per_min']:.1f} trials per minute) on {len(m['nodes_used'])} node(s)")
    for f in res.files:
        click.echo(f"wrote {f}")
