"""`mmctl calibrate`: fit estimator parameters from recorded data into a config overlay."""

from __future__ import annotations

import os
from pathlib import Path

import click

from appliance.catalog import is_catalog

from .common import config_option, load


def _coin_of(path: str, coin: str | None) -> str:
    """The coin to read from ``path``: ``--coin``, else the first the file names."""
    if coin:
        return coin
    # Imported here for mmctl's start-up time (the sources pull in the feed package).
    from appliance.feed.sources import replay_coins
    from appliance.feed.sources.merged import split_paths
    from appliance.feed.sources.parquet_store import is_parquet, read_metadata

    from .data import infer_capture_coins

    try:
        if len(split_paths(path)) > 1:  # several files of one market
            coins = replay_coins(f"replay:{path}")
        elif is_parquet(path):
            coins = list(read_metadata(path).get("coins") or [])
        else:
            coins = infer_capture_coins(path)
    except Exception as err:  # noqa: BLE001 - a corrupt file is a message, never a traceback
        raise click.ClickException(f"cannot read {path}: {type(err).__name__}: {err}") from None
    if not coins:
        raise click.ClickException(f"{path}: no coin found in its first frames (not a capture?); "
                                   "give --coin")
    return coins[0]


def _check_file(path: str) -> str:
    """``path`` expanded, or FILE1,FILE2 (several files of one market) each expanded."""
    from appliance.feed.sources.merged import split_paths

    try:
        parts = [os.path.expanduser(p) for p in split_paths(path)]
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    for p in parts:
        if not os.path.exists(p):
            raise click.ClickException(f"data file not found: {p}")
        if not os.path.isfile(p) and not is_catalog(p):
            raise click.ClickException(f"not a file nor a recorder catalog: {p}")
    return ",".join(parts)


@click.command("calibrate")
@click.option("--data", "data", multiple=True, required=True, metavar="FILE",
              help="Capture (Hyperliquid, Binance) or Parquet file; repeat for several.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              metavar="PARAMS.toml", help="Where to write the config overlay (with --ray: a directory "
                                          "for one overlay per calibration and the summary).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Also write PNG plots and report.html here.")
@click.option("--train-frac", type=float, default=0.7, show_default=True,
              help="Share of each data file (in time) that trains; the rest is out of sample.")
@click.option("--test-data", "test_data", multiple=True, metavar="FILE",
              help="Out-of-sample data instead of each file's tail (then --train-frac 1 trains "
                   "on the whole data files).")
@click.option("--coin", default=None, help="Coin to read [the first each file names].")
@click.option("--max-seconds", type=float, default=None,
              help="Read only this many seconds from the start of each file.")
@click.option("--backtests/--no-backtests", default=True, show_default=True,
              help="Score AS on our own fills: backtests with the default and the calibrated config.")
@click.option("--ray", "on_ray", is_flag=True,
              help="One calibration per capture (or per fold, --per) as Ray tasks; --out is a directory.")
@click.option("--per", "per", type=click.Choice(["capture", "fold"]), default="capture", show_default=True,
              help="With --ray: a calibration per capture (split by --train-frac), or per fold "
                   "(leave one capture out: train on the others, test on it).")
@click.option("--address", default=None, metavar="HOST:PORT",
              help="With --ray: this Ray cluster [a local Ray].")
@click.option("--workers", type=int, default=2, show_default=True, help="With --ray: CPUs of the local Ray.")
@click.option("--object-store-mb", type=int, default=None,
              help="With --ray: the local Ray's object store, MB.")
@config_option
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress on stderr.")
def calibrate(data: tuple[str, ...], out: Path, report_dir: Path | None, train_frac: float,
              test_data: tuple[str, ...], coin: str | None, max_seconds: float | None,
              backtests: bool, on_ray: bool, per: str, address: str | None, workers: int,
              object_store_mb: int | None, config_path: str | None, progress: bool) -> None:
    """Fit the estimators' parameters (Hawkes, adverse selection, kappa, drift filter) on
    the train part of recorded data, score them against the defaults in and out of
    sample, and write a config overlay for start, backtest and venue --config."""
    if on_ray:
        from .calibrate_ray import calibrate_on_ray

        if test_data:
            raise click.ClickException("--test-data is not taken with --ray: --per fold tests each "
                                       "capture on the calibration of the others")
        pairs = [(p, _coin_of(p, coin)) for p in map(_check_file, data)]
        calibrate_on_ray(pairs, out, per=per, train_frac=train_frac, backtests=backtests,
                         max_seconds=max_seconds, address=address, workers=workers,
                         object_store_mb=object_store_mb, report_dir=report_dir,
                         config_path=config_path, progress=progress)
        return
    if (per, address, workers, object_store_mb) != ("capture", None, 2, None):
        raise click.ClickException("--per, --address, --workers and --object-store-mb go with --ray")
    # Imported here for mmctl's start-up time: the fits and the backtester (numba
    # kernels, scipy) are paid by `mmctl calibrate` only.
    from appliance.calibrate import CalibrationError
    from appliance.calibrate import calibrate as run_calibration
    from appliance.calibrate.report import summary_lines, write_report

    cfg = load(config_path)
    if out.exists() and out.is_dir():
        raise click.ClickException(f"--out {out} is a directory; give a FILE.toml")
    if not out.parent.resolve().is_dir():
        raise click.ClickException(f"--out: directory {out.parent} does not exist")
    pairs = [(p, _coin_of(p, coin)) for p in map(_check_file, data)]
    tests = [(p, _coin_of(p, coin)) for p in map(_check_file, test_data)]
    try:
        res = run_calibration(pairs, test_data=tests, train_frac=train_frac, cfg=cfg, backtests=backtests,
                              max_seconds=max_seconds, progress=progress)
    except CalibrationError as err:
        raise click.ClickException(str(err)) from None
    out.write_text(res.text)
    click.echo("\n".join(summary_lines(res)))
    click.echo(f"wrote {out}")
    if report_dir is not None:
        page = write_report(res, report_dir, out)
        click.echo(f"wrote {page} (and the PNG plots beside it)")
