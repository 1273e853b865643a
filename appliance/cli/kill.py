"""mmctl kill: raise or reset the kill flag, journaled with who and why.

Both go to the risk journal (``<state_dir>/risk-journal.jsonl``): a raise right
after the flag is up (no disk may delay it), a reset before the flag comes down.
A reset needs ``--reason`` and is refused while the kill switch file exists (the
watchdog would raise the flag again at once).
"""

import click

from appliance.config import kill_switch_path
from appliance.risk.journal import RiskJournal, journal_path, operator
from appliance.runtime.control import kill_state, reset_kill, set_kill

from .common import attach_or_fail, config_option, instance_option, load


def _journal(cfg, instance: str, kind: str, **fields) -> None:
    j = RiskJournal(journal_path(cfg, instance))
    try:
        if not j.write(kind, source="mmctl", **fields):
            click.echo(f"warning: could not write the risk journal {j.path} (see the log above)",
                       err=True)
    finally:
        j.close()


@click.command()
@click.option("--reason", default=None,
              help="Why (shown by status, journaled). Required with --reset; "
                   "default 'operator' when raising.")
@click.option("--reset", is_flag=True, help="Clear the kill flag: quoting resumes.")
@instance_option
@config_option
def kill(reason, reset, instance, config_path):
    """Pull the plug: the gateway cancels every order and places none until reset.
    (Also raised by the kill switch file; remove it before --reset.) Give the
    instance's --config so the state directory (journal, kill switch file) is found."""
    cfg = load(config_path)
    who = operator()
    if reset and not (reason and reason.strip()):
        raise click.UsageError("--reset needs --reason TEXT: why it is safe to trade again "
                               "(journaled with who reset it)")
    mem = attach_or_fail(instance, writable=True, names=["control"])
    try:
        ctl = mem.control.records[0]
        if reset:
            kf = kill_switch_path(cfg, instance)
            if kf.exists():
                raise click.ClickException(f"kill switch file {kf} still exists: remove it first, "
                                           "then reset")
            prev = kill_state(ctl)
            _journal(cfg, instance, "kill_reset", who=who, why=reason, was_active=prev["active"],
                     was_source=prev["source"], was_reason=prev["reason"])
            reset_kill(ctl)
            click.echo(f"kill flag cleared on '{instance}' by {who}: {reason}")
            return
        reason = reason or "operator"
        if set_kill(ctl, reason, "mmctl"):  # the flag first: no disk may delay it
            _journal(cfg, instance, "kill_raise", who=who, why=reason)
            click.echo(f"kill flag raised on '{instance}' by {who}: {reason}")
        else:
            k = kill_state(ctl)
            click.echo(f"kill flag already up on '{instance}' ({k['source']}: {k['reason']})")
    finally:
        mem.close()
