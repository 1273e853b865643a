"""``mmctl soak [OPTIONS]``: trade against the local venue under a random fault every
interval, then print the fail-safe invariants.

The soak lives in ``tools/soak.py`` (options included); this command runs
``python -m tools.soak OPTIONS...`` as a subprocess (``tools_run.py``) and exits with
its code: 0 when every invariant holds, 1 when one is violated.
"""

from __future__ import annotations

import click

from .tools_run import run_tool

SUMMARY = ("Soak the appliance against the local venue under random faults; check nothing is "
           "lost (mmctl soak --help for the options).")


@click.command("soak", help=SUMMARY, short_help=SUMMARY, add_help_option=False,
               context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def soak(args: tuple[str, ...]) -> None:
    raise SystemExit(run_tool("soak", args))
