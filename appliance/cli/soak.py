"""mmctl soak: trade against the local venue under a random fault every interval,
then print the fail-safe invariants (tools/soak.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.option("--minutes", type=click.FloatRange(min=0.5), default=15.0, show_default=True,
              help="How long to trade.")
@click.option("--fault-every", "fault_every_s", type=click.FloatRange(min=5), default=60.0,
              show_default=True, metavar="SECONDS", help="A random fault this often.")
@click.option("--seed", type=int, default=1, show_default=True, help="Which faults, in which order.")
@click.option("--faults", default=None, metavar="LIST",
              help="Comma-separated subset of: child_kill9, supervisor_kill9, ws_drop, http_429, "
                   "delay, disk_full (default: all; disk_full needs root to mount a tmpfs).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the run's state, logs and journal here (default: a temporary dir, removed).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the result as JSON to this file.")
def soak(minutes, fault_every_s, seed, faults, workdir, json_out):
    """Soak the appliance against the local venue and check that nothing is lost:
    fills lost or doubled, orphan orders, position difference, surviving processes,
    time with orders resting and nothing of ours alive to cancel them. Exit code 1
    when an invariant is violated."""
    from tools.soak import FAULTS, Soak, render

    chosen = tuple(FAULTS) if not faults else tuple(f.strip() for f in faults.split(","))
    bad = [f for f in chosen if f not in FAULTS]
    if bad:
        raise click.BadParameter(f"unknown fault(s) {', '.join(bad)}; one of {', '.join(FAULTS)}",
                                 param_hint="--faults")
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    result = Soak(minutes, fault_every_s, seed, workdir, chosen,
                  log=lambda s: click.echo(s, err=True)).run()
    click.echo(render(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2))
    raise SystemExit(0 if result["all_zero"] else 1)
