"""mmctl: start, watch, inspect and stop the market-making appliance.

Commands are imported when they run, not when ``mmctl`` starts: an operator's
``mmctl status`` or ``mmctl kill`` during an incident must not wait for numba, the
backtester or the venue to import (seconds on a loaded box). The table below gives
each command's module and the one-line help ``mmctl --help`` lists;
tests/cli/test_main.py checks the lines against the commands' own docstrings.
"""

from importlib import import_module

import click

# name: (module, attribute, the line `mmctl --help` shows)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "start": ("appliance.cli.lifecycle", "start",
              "Create the segments, spawn and pin the five processes, supervise them."),
    "stop": ("appliance.cli.lifecycle", "stop",
             "Graceful stop: cancel every order, stop the processes, unlink the..."),
    "status": ("appliance.cli.status", "status",
               "Processes (pid, cpus, heartbeat, restarts), kill state,..."),
    "inspect": ("appliance.cli.inspect", "inspect",
                "A live, consistent dump of one block, every field by name, with its..."),
    "report": ("appliance.cli.report", "report",
               "The session so far: P&L by component (spread capture, adverse..."),
    "kill": ("appliance.cli.kill", "kill",
             "Pull the plug: the gateway cancels every order and places none..."),
    "journal": ("appliance.cli.journal_cmd", "journal",
                "Print a journal's records (CRC checked) as JSON lines; skipped..."),
    "config": ("appliance.cli.config_cmd", "config", "The configuration."),
    "doctor": ("appliance.cli.doctor", "doctor",
               "Check this box: cores, clock, memlock, /dev/shm, numba cache, state..."),
    "warm": ("appliance.cli.warm", "warm",
             "Compile every kernel into the numba cache (a short run on the local..."),
    "check-clock": ("appliance.cli.check_clock", "check_clock",
                    "Check the clock; exit 1 if its offset or sync state is out of bounds."),
    "bench": ("appliance.cli.bench", "bench",
              "Measure this machine (IPC hops, seqlock reads, the processes, the..."),
    "data": ("appliance.cli.data", "data",
             "Store normalized market events as Parquet, from captures or..."),
    "history": ("appliance.cli.history", "history",
                "Our fills, orders, fundings and P&L across restarts, from the..."),
    "sign": ("appliance.cli.sign", "sign",
             "Sign one action per stdin line and print the exact /exchange body..."),
    "backtest": ("appliance.cli.backtest", "backtest",
                 "Replay a market through the estimator, quote and executor kernels..."),
    "calibrate": ("appliance.cli.calibrate", "calibrate",
                  "Fit the estimators' parameters (Hawkes, adverse selection, kappa,..."),
    "sweep": ("appliance.cli.sweep", "sweep",
              "Run backtests over a grid of config values x data files x seeds as..."),
    "venue": ("appliance.venue.command", "venue",
              "Run a local Hyperliquid venue: POST /info, POST /exchange,..."),
    "soak": ("appliance.cli.soak", "soak",
             "Soak the appliance against the local venue under random faults; check nothing "
             "is lost (mmctl soak --help for the options)."),
}
# Commands that start a supervisor by forking ``mmctl`` (``supervisor/fork_run.py``: only
# from a single-threaded process): their imports must not start numpy's BLAS threads.
FORKS_A_SUPERVISOR = ("start", "warm")
SHORT_HELP_WIDTH = 70  # click's default for the listing; the table's lines are cut at it


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        if name not in FORKS_A_SUPERVISOR:
            return getattr(import_module(module), attr)
        from appliance.supervisor.fork_run import no_blas_threads  # start and warm only: mmctl start-up

        with no_blas_threads():
            return getattr(import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hl-mm-appliance")
def cli():
    """Supervise a market-making appliance for Hyperliquid perpetuals.

    \b
    mmctl start --cores 2-6      start the five processes, pinned
    mmctl status                 processes, heartbeats, kill state, latency
    mmctl inspect params         live MarketParams (also ladder, position, control, scores)
    mmctl report                 the session's P&L by component, fills, volume, fees
    mmctl kill                   cancel everything, quote nothing until --reset --reason
    mmctl stop                   graceful stop
    """
