"""mmctl start / stop."""

import os
import signal
import time

import click

from appliance.config import ConfigError, load_config, state_dir
from appliance.config.limits import is_mainnet_url
from appliance.config.loader import config_to_toml
from appliance.hyperliquid.keys import KeyLoadError, load_key
from appliance.runtime.control import pid_alive
from appliance.runtime.waiting import unlink_bells
from appliance.supervisor.cores import CoresError, describe
from appliance.supervisor.fork_run import exit_now
from appliance.supervisor.ownership import end_pids
from appliance.supervisor.run import preflight, start_background, supervise
from appliance.supervisor.start_checks import StartRefused
from shm_layout import InstanceMemory
from shm_layout.constants import N_CHILDREN, PROC_NAMES
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
              help="Stop gracefully this many seconds after all processes are healthy.")
@click.option("--foreground", is_flag=True,
              help="Supervise in this process (for systemd: Type=notify) instead of detaching.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=None,
              help="Seconds to wait for the appliance to quote; then it is stopped and the "
                   "start fails. Default: supervisor.startup_timeout_s (600; a first start "
                   "compiles the kernels).")
@click.option("--venue", type=click.Choice(["hyperliquid", "paper"]), default=None,
              help="hyperliquid: the Hyperliquid client (default; on the local venue unless "
                   "--network says otherwise); paper: simulated fills, no venue.")
@click.option("--network", type=click.Choice(["local", "testnet", "mainnet"]), default=None,
              help="local: a supervised local venue with the demo key (default); testnet or "
                   "mainnet: the real exchange (needs --key-file or $MM_HL_PRIVATE_KEY).")
@click.option("--key-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Owner-only (chmod 600) file with the signing key.")
@click.option("--i-understand-this-is-mainnet", "mainnet_ok", is_flag=True,
              help="Required to trade real money on mainnet.")
def start(cores, config_path, instance, duration, foreground, timeout_s, venue, network, key_file,
          mainnet_ok):
    """Create the segments, spawn and pin the five processes, supervise them.

    \b
    mmctl start                                   trade on the local venue (demo key)
    mmctl start --venue paper                     no venue: simulated fills
    mmctl start --venue hyperliquid --network testnet --key-file ~/.hl/testnet.key
    """
    # Every check first; nothing is written (no state dir, no config file) before all pass.
    cfg, over = _with_overrides(config_path, venue, network, key_file)
    for name in cfg.risk.disabled_checks:
        click.echo(f"WARNING: risk check '{name}' is DISABLED (risk.disabled_checks): it will "
                   "not fire, whatever happens", err=True)
    g = cfg.gateway
    live = g.venue == "hyperliquid"
    if live and (g.network == "mainnet" or (g.api_url and is_mainnet_url(g.api_url))) \
            and not mainnet_ok:
        raise click.ClickException(
            "refusing to trade on Hyperliquid MAINNET without --i-understand-this-is-mainnet "
            "(real money; try --network testnet first)")
    if live and g.network != "local" and not g.key_file and not os.environ.get(g.key_env):
        raise click.ClickException(
            f"no signing key for {g.network}: pass --key-file FILE (chmod 600) or set ${g.key_env}")
    if live and g.key_file:
        try:
            load_key(g.key_file)  # refuse a readable-by-others or malformed key now, not in a child
        except KeyLoadError as e:
            raise click.ClickException(str(e)) from None
    try:
        checked = preflight(instance, config_path, cores)
    except ConfigError as e:
        raise click.ClickException(f"bad config: {e}") from None
    except CoresError as e:
        raise click.BadParameter(str(e), param_hint="--cores") from None
    except StartRefused as e:
        raise click.ClickException(str(e)) from None
    checked = (cfg, *checked[1:])  # the file's configuration with the command line's choices
    plan, warnings = checked[1], checked[2]
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if over:
        config_path = _write_start_config(cfg, config_path, instance)
    left = existing_segments(instance)
    if left:
        click.echo(f"note: removing segments left by a crashed run: {', '.join(left)}", err=True)
    if foreground:
        raise SystemExit(supervise(instance, config_path, checked, duration))
    if timeout_s is None:
        timeout_s = checked[0].supervisor.startup_timeout_s
    pid, err = start_background(instance, config_path, checked[0], cores, duration, timeout_s,
                                say=say_stage)
    if not pid:
        raise click.ClickException(err)
    if err:
        click.echo(f"warning: {err}", err=True)
    click.echo(f"instance '{instance}' running: supervisor pid {pid}; {describe(plan)}")
    exit_now(0)  # the supervisor was forked from here: no teardown (fork_run.exit_now)


def say_stage(rec: dict) -> None:
    """A supervisor log record as the operator reads it: time (UTC), level, message."""
    t = str(rec.get("time", ""))[11:19]
    line = f"{t} {rec['level']:<7} {rec['message']}" if t and "level" in rec else str(rec["message"])
    click.echo(line, err=True)


def _with_overrides(config_path, venue, network, key_file):
    """The configuration with the command line's choices of venue, network and key
    (validated, nothing written): (config, the overrides, empty when there are none)."""
    over = {k: v for k, v in (("venue", venue), ("network", network),
                              ("key_file", key_file and os.path.abspath(key_file))) if v}
    try:
        cfg = load_config(config_path, {"gateway": over} if over else None)
    except ConfigError as e:
        raise click.ClickException(f"bad config: {e}") from None
    return cfg, over


def _write_start_config(cfg, config_path, instance) -> str:
    """Command-line overrides, once every check passed: written with the rest of the
    configuration into the state dir, which every process then reads."""
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    path = sd / "mmctl-start.toml"
    path.write_text("# written by mmctl start from " + str(config_path or "the defaults") + "\n"
                    + config_to_toml(cfg))
    return str(path)


@click.command()
@instance_option
@config_option
@click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True)
def stop(instance, config_path, timeout_s):
    """Graceful stop: cancel every order, stop the processes, unlink the segments."""
    mem = attach_or_fail(instance, writable=True, names=["control"])
    ctl = mem.control.records[0]
    pid = int(ctl["supervisor_pid"])
    named = [(PROC_NAMES[p], int(ctl["procs"][p]["pid"])) for p in range(N_CHILDREN)]
    named.append(("venue", int(ctl["venue_pid"])))
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
    # The supervisor died before its set: SIGTERM (the gateway cancels), then SIGKILL;
    # the venue last, so those cancels reach it.
    ended = end_pids([(n, p) for n, p in named if p > 0], instance)
    removed = InstanceMemory.unlink_all(instance)
    unlink_bells(instance, range(N_CHILDREN))
    msg = f"instance '{instance}' stopped"
    if removed:
        msg += f" (cleaned up after a dead supervisor: {', '.join(removed)})"
    click.echo(msg)
    for what in ended:
        click.echo(f"ended a process left by the dead supervisor: {what}")
