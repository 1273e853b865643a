"""The benchmarks' command line: ``python -m tools.bench NAME [OPTIONS]``.

``mmctl bench NAME ...`` runs this module as a subprocess with its arguments passed
through (the package never imports ``tools``). Each command imports its bench
module when it runs: only the chosen bench pays its imports and numba compiles.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group("bench", context_settings={"help_option_names": ["-h", "--help"]})
def bench() -> None:
    """Measure this machine (IPC hops, seqlock reads, ...)."""


json_option = click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
                           default=None, help="Also write the result as JSON to this file.")


def _show(text: str, json_out: Path | None) -> None:
    click.echo(text)
    if json_out is not None:
        click.echo(f"wrote {json_out}")


@bench.command("ipc")
@click.option("--round-trips", type=click.IntRange(min=100), default=20_000, show_default=True,
              help="Timed ping-pong round trips per method (after warm-up).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the full result as JSON to this file.")
def ipc(round_trips: int, json_out: Path | None) -> None:
    """One-way hop latency (half a ping-pong round trip) between two pinned processes:
    numba and Python spinning on shared-memory rings, the hybrid wait, Pipe and Queue;
    and the cost of a seqlock read. Compare ratios within a run, not across runs."""
    from tools.bench_ipc import render, run_ipc_bench

    try:
        result = run_ipc_bench(round_trips, json_out=None if json_out is None else str(json_out))
    except (RuntimeError, OSError) as err:
        raise click.ClickException(str(err)) from err
    _show(render(result), json_out)


@bench.command("appliance")
@click.option("--seconds", type=click.FloatRange(min=1), default=20.0, show_default=True,
              help="How long to sample event -> ladder latency.")
@click.option("--events-per-s", type=click.FloatRange(min=1), default=1000.0, show_default=True,
              help="Synthetic market event rate.")
@click.option("--wait-policy", type=click.Choice(["spin", "hybrid", "block"]), default="hybrid",
              show_default=True)
@click.option("--child-start", type=click.Choice(["fork", "spawn"]), default="fork",
              show_default=True, help="supervisor.child_start of the instance.")
@click.option("--preload-kernels/--no-preload-kernels", default=True, show_default=True,
              help="supervisor.preload_kernels: the fork server loads the cached kernels.")
@json_option
def appliance(seconds: float, events_per_s: float, wait_policy: str, child_start: str,
              preload_kernels: bool, json_out: Path | None) -> None:
    """Run a real instance on the synthetic market: `mmctl start` to quoting, event ->
    ladder latency p50/p99, RSS/PSS/USS per process (and the fork server's), total
    shared memory, and kill -9 -> healthy time of each child."""
    import json

    from tools.bench_appliance import run_appliance_bench

    result = run_appliance_bench(seconds, events_per_s, wait_policy,
                                 None if json_out is None else str(json_out), child_start,
                                 preload_kernels)
    click.echo(json.dumps(result, indent=2))


@bench.command("memory")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--settle", "settle_s", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds after the last import before measuring.")
@json_option
def memory(repeats: int, settle_s: float, json_out: Path | None) -> None:
    """PSS/USS of the five process modules' imports, each a fresh interpreter (today's
    start) vs forked from one parent that imported numba (a fork server's start)."""
    import json

    from tools.bench_memory import render, run_memory_bench

    result = run_memory_bench(repeats, settle_s)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=1))
    _show(render(result), json_out)


@bench.command("sign")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Length of each timed window (per signer, per repeat).")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True)
@json_option
def sign(seconds: float, repeats: int, json_out: Path | None) -> None:
    """Signed single-order actions per second: ours vs the SDK's sign_l1_action, side by
    side in one run (needs the bench extra: hyperliquid-python-sdk)."""
    try:
        from tools.bench_sign import render, run_sign_bench
    except ImportError as err:
        raise click.ClickException(f"{err}; install the bench extra (hyperliquid-python-sdk)") from err
    result = run_sign_bench(seconds, repeats, None if json_out is None else str(json_out))
    _show(render(result), json_out)


@bench.command("backtest")
@click.option("--source", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Binance USD-M capture [../shared/data/binance_usdm/"
              "btcusdt_20240808.gz when present].")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True,
              help="Timed runs per side and round (medians over all rounds reported).")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Rounds of (baseline, ours, hftbacktest), interleaved.")
@click.option("--baseline", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Another checkout of this project (e.g. main) timed in "
              "the same rounds: before/after in one run.")
@json_option
def backtest_bench(source: Path | None, repeats: int, rounds: int, baseline: Path | None,
                   json_out: Path | None) -> None:
    """Backtest throughput on a Binance capture, side by side with hftbacktest 2.4.4
    running a GLFT grid on the same file (each in a subprocess, compile excluded), the
    sides interleaved in rounds."""
    from tools.bench_backtest import render, run_backtest_bench

    try:
        result = run_backtest_bench(None if source is None else str(source), repeats,
                                    None if json_out is None else str(json_out), rounds,
                                    None if baseline is None else str(baseline))
    except (FileNotFoundError, RuntimeError) as err:
        raise click.ClickException(str(err)) from err
    _show(render(result), json_out)


@bench.command("estimators")
@click.option("--source", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A replay capture (default: the real Binance BTCUSDT capture).")
@click.option("--passes", type=click.IntRange(min=1), default=10, show_default=True,
              help="Times the capture is replayed back to back (later in time).")
@json_option
def estimators(source: str | None, passes: int, json_out: Path | None) -> None:
    """Events/s through the full estimator stack in one process, the cost of each tier
    (hot per event, warm and cold per run, write_params) and the warm-start time."""
    import json

    from tools.bench_estimators import run_estimators_bench

    try:
        result = run_estimators_bench(source, passes, None if json_out is None else str(json_out))
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from err
    click.echo(json.dumps(result, indent=2))


@bench.command("decode")
@click.option("--frames", type=click.IntRange(min=1000), default=50_000, show_default=True,
              help="l2Book frames decoded per method and run.")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True,
              help="Runs per method; the best counts.")
@click.option("--capture", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A Hyperliquid capture (default: the recorded BTC one).")
@json_option
def decode(frames: int, repeats: int, capture: str | None, json_out: Path | None) -> None:
    """l2Book frames decoded per second into MD_EVENT vs the SDK's json path, as a ratio."""
    from tools.bench_decode import render, run_decode_bench

    try:
        result = run_decode_bench(frames, repeats, capture, None if json_out is None else str(json_out))
    except (OSError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    _show(render(result), json_out)


@bench.command("quote")
@click.option("--calls", type=click.IntRange(min=1000), default=200_000, show_default=True,
              help="Timed ladder computations.")
@json_option
def quote(calls: int, json_out: Path | None) -> None:
    """One full ladder computation of the quote kernel (5 levels a side), median and p99 in us."""
    from tools.bench_quote import render, run_quote_bench

    result = run_quote_bench(calls, None if json_out is None else str(json_out))
    _show(render(result), json_out)


@bench.command("tick-to-wire")
@click.option("--seconds", type=click.FloatRange(min=2), default=20.0, show_default=True,
              help="Sampling time per run (one run per batch window: 0 and 100 ms).")
@json_option
def tick_to_wire(seconds: float, json_out: Path | None) -> None:
    """A websocket frame's arrival at the feed to the order bytes leaving the gateway,
    against the local venue (the real appliance, p50/p99), and kill flag -> all cancelled."""
    from tools.bench_tick_to_wire import render, run_tick_to_wire_bench

    try:
        result = run_tick_to_wire_bench(seconds, json_out=None if json_out is None else str(json_out))
    except (OSError, RuntimeError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    _show(render(result), json_out)


@bench.command("start")
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Fresh instances started, each stopped after its first resting order.")
@click.option("--extra-toml", default="", help="Appended to each run's config (\\n for newlines).")
@click.option("--before", "before", type=click.Path(file_okay=False, exists=True), default=None,
              help="Another checkout (e.g. a git archive of main) run in the same rounds, "
                   "before this tree's run: medians side by side.")
@click.option("--before-cache", "before_cache", type=click.Path(file_okay=False), default=None,
              help="HL_MM_CACHE_DIR for --before (default: this process's).")
@json_option
def start(runs: int, extra_toml: str, before: str | None, before_cache: str | None,
          json_out: Path | None) -> None:
    """`mmctl start` to the first order resting on the local venue, by stage (supervisor,
    fork server and venue, children healthy, feed, params, ladder, order), medians."""
    from tools.bench_start import main

    argv = ["--runs", str(runs), "--extra-toml", extra_toml]
    argv += ["--before", before] if before else []
    argv += ["--before-cache", before_cache] if before_cache else []
    raise SystemExit(main(argv + ([] if json_out is None else ["--json", str(json_out)])))


@bench.command("failsafe")
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Rounds of every death.")
@json_option
def failsafe(rounds: int, json_out: Path | None) -> None:
    """Time from each death (supervisor or gateway kill -9, full disk, kill flag) to an
    empty book at the local venue (its openOrders), and to no process of the set left."""
    import json

    from tools.bench_failsafe import FailsafeBench, render

    try:
        result = FailsafeBench(rounds, log=lambda s: click.echo(s, err=True)).run()
    except (RuntimeError, OSError) as err:
        raise click.ClickException(str(err)) from err
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2))
    _show(render(result), json_out)


@bench.command("sweep")
@click.option("--data", "data", multiple=True, metavar="FILE",
              help="Captures to sweep over [the two Binance USD-M captures of ../shared/data].")
@click.option("--max-seconds", type=float, default=None, help="Cut each capture [whole files].")
@json_option
def sweep(data: tuple[str, ...], max_seconds: float | None, json_out: Path | None) -> None:
    """Sweep throughput (backtests per minute) on a local Ray of 1 and 2 CPUs against the
    same backtests one by one in a plain loop, in one run (needs ray)."""
    import json

    try:
        from tools.bench_sweep import DEFAULT_DATA, render, run_sweep_bench
    except ImportError as err:
        raise click.ClickException(f"{err}; install the research extra (ray)") from err
    files = list(data) or [str(p) for p in DEFAULT_DATA]
    result = run_sweep_bench(files, max_seconds)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
    _show(render(result), json_out)


if __name__ == "__main__":
    bench(prog_name="mmctl bench")
