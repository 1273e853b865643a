"""`mmctl backtest`: a market through the live kernels and the venue's matching."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import os
import sys
import time
from pathlib import Path

import click

from .common import config_option, load


def _replay_span_s(spec: str) -> float | None:
    """Seconds between a capture's first and last line (for the progress bar)."""
    path = os.path.expanduser(spec.partition(":")[2])
    try:
        with open(path, "rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if gz else raw
            first = last = None
            for line in stream:
                ts = line.split(b" ", 1)[0]
                if ts.isdigit():
                    last = int(ts)
                    first = last if first is None else first
    except (OSError, EOFError):
        return None
    return None if first is None else (last - first) / 1e9


@click.command("backtest")
@click.option("--source", required=True, metavar="SPEC",
              help="replay:FILE (a Hyperliquid or Binance capture; a Hyperliquid archive file: "
                   "l2Book .lz4, asset_ctxs CSV, node_trades, node_fills[_by_block]), "
                   "replay:DIR (the recorder's catalog) or synthetic[:SCENARIO].")
@config_option
@click.option("--seed", type=int, default=None, help="Synthetic market seed [feed.seed].")
@click.option("--coin", default=None, help="Coin to trade [first of appliance.coins].")
@click.option("--preset", default=None, metavar="NAME",
              help="Quoting preset: unified | legacy | no_as [backtest.preset].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="OUT", help="Also write the report as JSON to this file.")
@click.option("--plot", "plot_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="OUT.png", help="Plot mid and our quotes, inventory, PnL and its components to a PNG.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr [when stderr is a terminal].")
@click.option("--allow-malformed", is_flag=True, default=None,
              help="Replay even when more lines are malformed than "
                   "[feed.replay_max_malformed_frac] allows [feed.replay_allow_malformed].")
@click.option("--instrument", "instrument", multiple=True, metavar="FIELD=VALUE",
              help="Override a fact of the replayed instrument (tick_px, lot, contract_usd, "
                   "inverse, maker_fee_bps, taker_fee_bps, market); repeatable "
                   "[feed.replay_instrument].")
def backtest(source: str, config_path: str | None, seed: int | None, coin: str | None,
             preset: str | None, json_out: Path | None, plot_out: Path | None,
             progress: bool | None, allow_malformed: bool | None,
             instrument: tuple[str, ...]) -> None:
    """Replay a market through the estimator, quote and executor kernels the
    processes run, with queue-aware matching and order latency; print the report.
    A replay trades the coin of its file (--coin must match it)."""
    # Imported here for mmctl's start-up time: the backtester (the kernels of four
    # packages, ~0.2 s) is paid by `mmctl backtest` only, not by status or kill.
    from appliance.backtest import PresetError, run_backtest
    from appliance.backtest.report import render

    cfg = load(config_path)
    feed = cfg.feed
    if allow_malformed is not None:
        feed = dataclasses.replace(feed, replay_allow_malformed=allow_malformed)
    if instrument:
        feed = dataclasses.replace(feed, replay_instrument=tuple(instrument))
    cfg = dataclasses.replace(cfg, feed=feed)
    if coin is not None and not coin.strip():
        raise click.ClickException("--coin: empty coin name")
    if progress is None:
        progress = sys.stderr.isatty()
    span_s = None
    if progress:
        span_s = (_replay_span_s(source) if source.strip().startswith("replay:")
                  else cfg.backtest.synthetic_duration_s)
    try:
        if span_s:
            # The bar starts once the kernels are loaded: a cold numba cache compiles
            # them first (minutes), which a bar stuck at 0 would not explain.
            click.echo("loading the backtest kernels (after a code change they compile: "
                       "minutes on two cores) ...", err=True)
            t0 = time.monotonic()
            with contextlib.ExitStack() as stack:
                bar = None
                done = [0]

                def advance(sim_s: float) -> None:
                    nonlocal bar
                    if bar is None:
                        click.echo(f"kernels ready ({time.monotonic() - t0:.1f} s)", err=True)
                        bar = stack.enter_context(click.progressbar(
                            length=max(int(span_s), 1), label="simulated s", file=sys.stderr,
                            show_pos=True))
                    step = min(int(sim_s), bar.length) - done[0]
                    if step > 0:
                        bar.update(step)
                        done[0] += step

                result = run_backtest(source, cfg, seed=seed, coin=coin, preset=preset,
                                      progress=advance)
        else:
            result = run_backtest(source, cfg, seed=seed, coin=coin, preset=preset)
    except PresetError as err:
        raise click.BadParameter(str(err), param_hint="--preset") from None
    except ValueError as err:
        raise click.ClickException(f"cannot run the backtest: {err}") from None
    report = result.report
    click.echo(render(report))
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
        click.echo(f"wrote {json_out}")
    if plot_out is not None:
        from appliance.backtest.plot import plot_samples  # start-up time, as above

        plot_samples(result.samples, result.fills, report, plot_out, attribution=result.attribution)
        click.echo(f"wrote {plot_out}")
