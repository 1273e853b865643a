"""`mmctl doctor`: what is wrong with this box for the appliance (supervisor/doctor.py)."""

from __future__ import annotations

import json

import click

from appliance.supervisor.doctor import FAIL, as_dicts, render, run_checks

from .common import config_option, instance_option, json_option, load


@click.command()
@config_option
@instance_option
@json_option
def doctor(config_path, instance, as_json):
    """Check this box: cores, clock, memlock, /dev/shm, numba cache, state dir, ports, key."""
    findings = run_checks(load(config_path), instance)
    click.echo(json.dumps(as_dicts(findings), indent=2) if as_json else render(findings))
    if any(f.status == FAIL for f in findings):
        click.get_current_context().exit(1)
