"""``mmctl bench NAME [OPTIONS]``: measure this machine.

Each bench lives in ``tools/`` (``tools/bench.py`` holds their options); this group
runs ``python -m tools.bench NAME OPTIONS...`` as a subprocess (``tools_run.py``), so
the package never imports ``tools``. ``mmctl bench NAME --help`` prints the bench's
own options.
"""

from __future__ import annotations

import click

from .tools_run import run_tool

# name -> one line for `mmctl bench --help`; the full help is the bench's own
BENCHES = {
    "appliance": "A real instance on the synthetic market: event -> ladder latency, RSS, restarts.",
    "backtest": "Backtest throughput on a Binance capture, side by side with hftbacktest.",
    "decode": "l2Book frames decoded per second into MD_EVENT vs the SDK's json path.",
    "estimators": "Events/s through the full estimator stack, the cost of each tier, warm start.",
    "failsafe": "Each death (kill -9, full disk, kill flag) to an empty book at the local venue.",
    "memory": "The five processes' imports in memory: fresh interpreters vs forked from one parent.",
    "ipc": "One-way hop latency between two pinned processes; the cost of a seqlock read.",
    "quote": "One full ladder computation of the quote kernel, median and p99.",
    "start": "mmctl start to the first resting order on the local venue, by stage (warm cache).",
    "sign": "Signed single-order actions per second: ours vs the SDK's (bench extra).",
    "sweep": "Sweep backtests per minute on a local Ray of 1 and 2 CPUs vs a plain loop (ray).",
    "tick-to-wire": "A websocket frame at the feed to the order bytes leaving the gateway.",
}


@click.group("bench", epilog="Options of one bench: mmctl bench NAME --help.")
def bench() -> None:
    """Measure this machine (IPC hops, seqlock reads, the processes, the backtester, ...)."""


def _passthrough(name: str, summary: str) -> click.Command:
    @click.command(name, help=summary, short_help=summary, add_help_option=False,
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        raise SystemExit(run_tool("bench", [name, *args]))

    return command


for _name, _summary in BENCHES.items():
    bench.add_command(_passthrough(_name, _summary))
