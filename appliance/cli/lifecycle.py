"""mmctl start / stop."""

import os
import signal
import time

import click

from appliance.config import ConfigError
from appliance.runtime.control import pid_alive
from appliance.runtime.waiting import unlink_bells
from appliance.supervisor.cores import CoresError, describe
from appliance.supervisor.run import preflight, start_background, supervise
from appliance.supervisor.supervisor import StartRefused
from shm_layout import InstanceMemory
from shm_layout.constants import N_CHILDREN
from shm_layout.shm import existing_segments

from .common import attach_or_fail, config_option, instance_option


@click.command()
@click.option("--cores", default=None, metavar="LIST",
              help="CPUs to pin feed, estimator, quote, gateway, risk to, in that order "
                   "(e.g. 2-6 or 0,1). Fewer than five: processes share, with a warning. "
                   "Default: appliance.cores of the config, else no pinning.")
@config_option
@instance_option
@click.option("--duration", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop gracefully after this many seconds.")
@click.option("--foreground", is_flag=True,
              help="Supervise in this process (for systemd: Type=notify) instead of detaching.")
@click.option("--timeout", "timeout_s", type=float, default=180.0, show_default=True,
              help="Seconds to wait for all processes to be healthy (first start compiles).")
def start(cores, config_path, instance, duration, foreground, timeout_s):
    """Create the segments, spawn and pin the five processes, supervise them."""
    try:
        checked = preflight(instance, config_path, cores)
    except ConfigError as e:
        raise click.ClickException(f"bad config: {e}") from None
    except CoresError as e:
        raise click.BadParameter(str(e), param_hint="--cores") from None
    except StartRefused as e:
        raise click.ClickException(str(e)) from None
    plan, warnings = checked[1], checked[2]
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    left = existing_segments(instance)
    if left:
        click.echo(f"note: removing segments left by a crashed run: {', '.join(left)}", err=True)
    if foreground:
        raise SystemExit(supervise(instance, config_path, checked, duration))
    pid, err = start_background(instance, config_path, checked[0], cores, duration, timeout_s)
    if not pid:
        raise click.ClickException(err)
    if err:
        click.echo(f"warning: {err}", err=True)
    click.echo(f"instance '{instance}' running: supervisor pid {pid}; {describe(plan)}")


@click.command()
@instance_option
@config_option
@click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True)
def stop(instance, config_path, timeout_s):
    """Graceful stop: cancel every order, stop the processes, unlink the segments."""
    mem = attach_or_fail(instance, writable=True, names=["control"])
    ctl = mem.control.records[0]
    pid = int(ctl["supervisor_pid"])
    children = [int(ctl["procs"][p]["pid"]) for p in range(N_CHILDREN)]
    if pid_alive(pid):
        ctl["stop_requested"] = 1
        deadline = time.monotonic() + timeout_s
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            time.sleep(1.0)
    mem.close()
    if pid_alive(pid):
        raise click.ClickException(f"supervisor pid {pid} did not stop in {timeout_s:g} s")
    orphans = [c for c in children if pid_alive(c)]
    for c in orphans:  # the supervisor died before them
        os.kill(c, signal.SIGTERM)
    time.sleep(0.5 if orphans else 0)
    for c in orphans:
        if pid_alive(c):
            os.kill(c, signal.SIGKILL)
    removed = InstanceMemory.unlink_all(instance)
    unlink_bells(instance, range(N_CHILDREN))
    msg = f"instance '{instance}' stopped"
    if removed:
        msg += f" (cleaned up after a dead supervisor: {', '.join(removed)})"
    click.echo(msg)
