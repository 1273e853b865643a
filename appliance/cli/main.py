"""mmctl: start, watch, inspect and stop the market-making appliance."""

import click

from .bench import bench
from .check_clock import check_clock
from .config_cmd import config
from .kill import kill
from .lifecycle import start, stop
from .observe import inspect, status


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hl-mm-appliance")
def cli():
    """Supervise a market-making appliance for Hyperliquid perpetuals.

    \b
    mmctl start --cores 2-6      start the five processes, pinned
    mmctl status                 processes, heartbeats, kill state, latency
    mmctl inspect params         live MarketParams (also ladder, position, control)
    mmctl kill                   cancel everything, quote nothing until --reset
    mmctl stop                   graceful stop
    """


for command in (start, stop, status, inspect, kill, config, check_clock, bench):
    cli.add_command(command)
