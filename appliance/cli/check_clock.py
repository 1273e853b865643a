"""`mmctl check-clock`: measure the clock against NTP servers and the kernel's sync state."""

from __future__ import annotations

import json
from pathlib import Path

import click

from appliance.config import load_config
from appliance.supervisor.clock import check_clock as run_clock_check


@click.command("check-clock")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML config file (default: built-in defaults).")
@click.option("--instance", default="default", show_default=True,
              help="Appliance instance (accepted for symmetry with the other commands).")
@click.option("--server", "servers", multiple=True, metavar="HOST[:PORT]",
              help="NTP server to ask; repeatable; replaces clock.ntp_servers.")
@click.option("--max-offset-ms", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Largest tolerated offset; replaces clock.max_offset_ms.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def check_clock(config_path: Path | None, instance: str, servers: tuple[str, ...],
                max_offset_ms: float | None, as_json: bool) -> None:
    """Check the clock; exit 1 if its offset or sync state is out of bounds."""
    del instance  # the clock is the host's, not an instance's
    try:
        cfg = load_config(config_path)
    except (ValueError, OSError) as err:  # ConfigError is a ValueError
        raise click.ClickException(str(err)) from err
    c = cfg.clock
    verdict = run_clock_check(
        servers or c.ntp_servers,
        max_offset_ms=c.max_offset_ms if max_offset_ms is None else max_offset_ms,
        timeout_s=c.ntp_timeout_s,
        require_ntp=c.require_ntp,
        require_kernel_sync=c.require_kernel_sync,
    )
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), indent=2))
        for reason in verdict.reasons:  # humans see why; stdout stays parseable JSON
            click.echo(f"clock check failed: {reason}", err=True)
    else:
        click.echo(verdict.render())
    if not verdict.ok:
        click.get_current_context().exit(1)
