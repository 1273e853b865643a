"""`mmctl calibrate --ray`: one calibration per capture (or per fold) as Ray tasks,
with a line of progress per capture loaded and per calibration done."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .common import load


def calibrate_on_ray(pairs: list[tuple[str, str]], out: Path, *, per: str, train_frac: float,
                     backtests: bool, max_seconds: float | None, address: str | None, workers: int,
                     object_store_mb: int | None, report_dir: Path | None, config_path: str | None,
                     progress: bool) -> None:
    # Imported here for mmctl's start-up time: the fits, the backtester, and ray.
    from appliance.calibrate import CalibrationError
    from appliance.research.calib_run import CalibOptions, prepare, run

    opts = CalibOptions(tuple(pairs), load(config_path), out, per, train_frac, backtests, max_seconds,
                        address, workers, object_store_mb, report_dir)
    try:
        jobs = prepare(opts)
    except CalibrationError as err:
        raise click.ClickException(str(err)) from None
    t0 = time.perf_counter()
    done = [0]

    def on_load(pair: tuple[str, str], n: int, seconds: float) -> None:
        if progress:
            click.echo(f"loaded {pair[0]} ({pair[1]}): {n} events in {seconds:.1f} s", err=True)

    def on_done(job, info: dict) -> None:
        done[0] += 1
        if progress:
            res = info["result"]
            click.echo(f"[{done[0]}/{len(jobs)}] {time.perf_counter() - t0:6.1f} s  {job.name}: "
                       f"{sum(len(v) for v in res.overlay.values())} keys fitted, {len(res.notes)} notes "
                       f"({info['wall_s']:.1f} s on node {info['node_id'][:8]})", err=True)

    if progress:
        where = f"Ray at {address}" if address else f"a local Ray ({workers} CPUs)"
        click.echo(f"{len(jobs)} calibrations (per {per}) on {where}", err=True)
    try:
        res = run(opts, on_load=on_load, on_done=on_done)
    except CalibrationError as err:
        raise click.ClickException(str(err)) from None
    m = res.meta
    click.echo(res.summary)
    click.echo(f"{m['calibrations']} calibrations in {m['wall_s']:.1f} s "
               f"({m['calibrations_per_min']:.2f} per minute) on {len(m['nodes_used'])} node(s)")
    for f in res.files:
        click.echo(f"wrote {f}")
