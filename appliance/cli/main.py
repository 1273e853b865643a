"""mmctl: start, watch, inspect and stop the market-making appliance."""

import click

from appliance.venue.command import venue

from .backtest import backtest
from .bench import bench
from .calibrate import calibrate
from .check_clock import check_clock
from .config_cmd import config
from .data import data
from .kill import kill
from .lifecycle import start, stop
from .observe import inspect, status
from .report import report
from .sign import sign
from .soak import soak


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for command in (start, stop, status, inspect, report, kill, config, check_clock, bench, data):
    cli.add_command(command)
cli.add_command(sign)
cli.add_command(backtest)
cli.add_command(calibrate)
cli.add_command(venue)
cli.add_command(soak)
