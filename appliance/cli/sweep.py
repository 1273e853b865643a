"""`mmctl sweep`: backtests over a grid of config values x data x seeds, on Ray."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .common import config_option


@click.command("sweep")
@click.option("--grid", "grid_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              metavar="SWEEP.toml",
              help='Config keys and the values to try, e.g. "quote.gamma" = [0.1, 0.3].')
@click.option("--search", "search", type=click.Choice(["optuna"]), default=None,
              help="Search the --space instead of a grid: --trials trials chosen by Optuna, "
                   "maximising the --rank-by mean.")
@click.option("--space", "space_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              metavar="SPACE.toml",
              help='With --search: ranges, e.g. "quote.gamma" = {low = 0.05, high = 1.0}.')
@click.option("--trials", type=int, default=20, show_default=True, help="With --search: trials to run.")
@click.option("--search-seed", type=int, default=0, show_default=True,
              help="With --search: the sampler's seed.")
@click.option("--parallel", type=int, default=2, show_default=True,
              help="With --search: trials asked and run at once (the same seed and --parallel "
                   "give the same trials).")
@click.option("--sampler", type=click.Choice(["tpe", "random"]), default="tpe", show_default=True,
              help="With --search: Optuna's sampler.")
@click.option("--data", "data", multiple=True, required=True, metavar="FILE",
              help="A capture (Hyperliquid, Binance) or synthetic:SCENARIO; repeat for several.")
@click.option("--seeds", type=int, default=1, show_default=True,
              help="Seeds per synthetic market (feed.seed, +1, ...); a capture runs once unless "
                   "the point has latency jitter.")
@click.option("--address", default=None, metavar="HOST:PORT",
              help="Run on this Ray cluster [a local Ray].")
@click.option("--workers", type=int, default=2, show_default=True,
              help="CPUs of the local Ray (with --address the cluster's CPUs decide).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("sweep-out"), show_default=True, metavar="DIR",
              help="Where results.parquet, summary.txt, sweep.json and the PNGs go.")
@click.option("--max-seconds", type=float, default=None,
              help="Cut each data source this many seconds after its first event.")
@click.option("--rank-by", default="pnl_usd", show_default=True,
              type=click.Choice(["pnl_usd", "spread_capture_net_bps", "fills", "volume_usd"]),
              help="The mean that ranks the grid points (and that --search maximises; pnl_usd is "
                   "net of fees).")
@click.option("--object-store-mb", type=int, default=None,
              help="Object store of the local Ray, MB [Ray's default].")
@config_option
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A line on stderr per data loaded and per task done.")
def sweep(grid_path: Path | None, search: str | None, space_path: Path | None, trials: int,
          search_seed: int, parallel: int, sampler: str, data: tuple[str, ...], seeds: int,
          address: str | None, workers: int, out_dir: Path, max_seconds: float | None, rank_by: str,
          object_store_mb: int | None, config_path: str | None, progress: bool) -> None:
    """Run backtests over a grid of config values x data files x seeds as Ray tasks (a
    local Ray, or a cluster with --address); write a Parquet table, a ranked summary and
    plots. With --search optuna --space: a seeded search instead of the grid."""
    if search is not None or space_path is not None:
        if grid_path is not None:
            raise click.ClickException("give either --grid or --search optuna --space, not both")
        if search is None or space_path is None:
            raise click.ClickException("a search needs both --search optuna and --space SPACE.toml")
        from .sweep_search import search_on_ray

        search_on_ray(space_path, data, trials=trials, search_seed=search_seed, parallel=parallel,
                      sampler=sampler, seeds=seeds, address=address, workers=workers, out_dir=out_dir,
                      max_seconds=max_seconds, rank_by=rank_by, object_store_mb=object_store_mb,
                      config_path=config_path, progress=progress)
        return
    if grid_path is None:
        raise click.ClickException("give --grid SWEEP.toml (or --search optuna --space SPACE.toml)")
    # Imported here for mmctl's start-up time: the backtester, and ray only once it runs.
    from appliance.research.sweep import SweepError, SweepOptions, prepare, run_sweep

    opts = SweepOptions(grid_path, data, seeds, config_path, address, workers, out_dir,
                        max_seconds, rank_by, object_store_mb)
    try:
        _, tasks = prepare(opts)
    except SweepError as err:
        raise click.ClickException(str(err)) from None
    total = len(tasks)
    t0 = time.perf_counter()
    done = [0]

    def on_load(d, seconds: float) -> None:
        if progress:
            click.echo(f"loaded {d.key.spec} (seed {d.key.seed}): {d.n_events} events, "
                       f"{d.nbytes / 2**20:.1f} MB in {seconds:.1f} s", err=True)

    def on_row(row: dict) -> None:
        done[0] += 1
        if progress:
            click.echo(f"[{done[0]:>{len(str(total))}}/{total}] {time.perf_counter() - t0:6.1f} s  "
                       f"{row['data']} seed {row['seed']}  {row['point_label']}: pnl "
                       f"{row['pnl_usd']:+.4f} USD, {row['fills']} fills  (node {row['node_id'][:8]})",
                       err=True)

    if progress:
        where = f"Ray at {address}" if address else f"a local Ray ({workers} CPUs)"
        click.echo(f"{total} backtests on {where}", err=True)
    try:
        res = run_sweep(opts, on_load=on_load, on_row=on_row)
    except SweepError as err:
        raise click.ClickException(str(err)) from None
    m = res.meta
    click.echo(res.summary)
    click.echo(f"{m['tasks']} backtests in {m['wall_s']:.1f} s ({m['backtests_per_min']:.1f} per minute) "
               f"on {len(m['nodes_used'])} node(s)")
    for f in res.files:
        click.echo(f"wrote {f}")
    sys.stdout.flush()
