"""`mmctl bench ...`: measure this machine. `ipc` is the first member of the family."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("bench")
def bench() -> None:
    """Measure this machine (IPC hops, seqlock reads, ...)."""


@bench.command("ipc")
@click.option("--round-trips", type=click.IntRange(min=100), default=20_000, show_default=True,
              help="Timed ping-pong round trips per method (after warm-up).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the full result as JSON to this file.")
def ipc(round_trips: int, json_out: Path | None) -> None:
    """One-way hop latency (half a ping-pong round trip) between two pinned processes:
    numba and Python spinning on shared-memory rings, the hybrid wait, Pipe and Queue;
    and the cost of a seqlock read. Compare ratios within a run, not across runs."""
    from tools.bench_ipc import render, run_ipc_bench  # numba: only when asked

    try:
        result = run_ipc_bench(round_trips, json_out=None if json_out is None else str(json_out))
    except (RuntimeError, OSError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(render(result))
    if json_out is not None:
        click.echo(f"wrote {json_out}")


@bench.command("appliance")
@click.option("--seconds", type=click.FloatRange(min=1), default=20.0, show_default=True,
              help="How long to sample event -> ladder latency.")
@click.option("--events-per-s", type=click.FloatRange(min=1), default=1000.0, show_default=True,
              help="Synthetic market event rate.")
@click.option("--wait-policy", type=click.Choice(["spin", "hybrid", "block"]), default="hybrid",
              show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the result as JSON to this file.")
def appliance(seconds: float, events_per_s: float, wait_policy: str, json_out: Path | None) -> None:
    """Run a real instance on the synthetic market: event -> ladder latency p50/p99,
    RSS per process, total shared memory, and kill -9 -> healthy time of each child."""
    import json

    from tools.bench_appliance import run_appliance_bench

    result = run_appliance_bench(seconds, events_per_s, wait_policy,
                                 None if json_out is None else str(json_out))
    click.echo(json.dumps(result, indent=2))
