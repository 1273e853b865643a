"""mmctl kill: raise or reset the kill flag."""

import click

from appliance.runtime.control import kill_state, reset_kill, set_kill

from .common import attach_or_fail, instance_option


@click.command()
@click.option("--reason", default="operator", show_default=True, help="Why (shown by status).")
@click.option("--reset", is_flag=True, help="Clear the kill flag: quoting resumes.")
@instance_option
def kill(reason, reset, instance):
    """Pull the plug: the gateway cancels every order and places none until reset.
    (Also raised by the kill switch file; remove it before --reset.)"""
    mem = attach_or_fail(instance, writable=True, names=["control"])
    try:
        ctl = mem.control.records[0]
        if reset:
            reset_kill(ctl)
            click.echo(f"kill flag cleared on '{instance}'")
            return
        if set_kill(ctl, reason, "mmctl"):
            click.echo(f"kill flag raised on '{instance}': {reason}")
        else:
            k = kill_state(ctl)
            click.echo(f"kill flag already up on '{instance}' ({k['source']}: {k['reason']})")
    finally:
        mem.close()
