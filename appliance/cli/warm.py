"""`mmctl warm`: fill the numba cache before the first real start.

What a start compiles depends on the types each process's kernels see, so the surest
way to compile exactly that is a real start: a throw-away instance on the local venue
(metrics off, its own state directory), stopped as soon as it quotes. Its stages are
shown as they happen. The cache is keyed by the sources (appliance/numba_cache.py), so
warming once after an install or upgrade serves every later start, systemd's included
when it runs with the same cache directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import click

from appliance.config import ConfigError, load_config
from appliance.config.loader import config_to_toml
from appliance.supervisor.run import preflight, start_background
from appliance.supervisor.start_checks import StartRefused
from shm_layout import InstanceMemory
from shm_layout.shm import existing_segments

from .common import config_option
from .lifecycle import say_stage

STOP_WAIT_S = 60.0


@click.command()
@config_option
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=None,
              help="Seconds to wait for the throw-away instance to quote. Default: "
                   "supervisor.startup_timeout_s.")
@click.option("--compile-log", "compile_log", type=click.Path(dir_okay=False), default=None,
              help="Append one JSON line per numba compile (process, function, argument "
                   "types, total and self seconds) to FILE; `python -m tools.compile_profile "
                   "FILE` makes a table of it. Empty when the cache was already warm.")
def warm(config_path, timeout_s, compile_log):
    """Compile every kernel into the numba cache (a short run on the local venue)."""
    if compile_log:
        from appliance.runtime.compile_log import ENV

        os.environ[ENV] = str(Path(compile_log).resolve())  # the instance's processes inherit it
    tmp = Path(tempfile.mkdtemp(prefix="mm-warm-"))
    instance = f"warm{os.getpid()}"
    try:
        cfg = load_config(config_path, {
            "gateway": {"venue": "hyperliquid", "network": "local", "key_file": ""},
            "risk": {"metrics_port": 0},
            "appliance": {"state_dir": str(tmp / "{instance}"), "cores": ""},
        })
        path = tmp / "warm.toml"
        path.write_text(config_to_toml(cfg))
        preflight(instance, str(path), None)
    except (ConfigError, StartRefused, ValueError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise click.ClickException(str(e)) from None
    t0 = time.monotonic()
    cache = os.environ.get("NUMBA_CACHE_DIR", "?")
    click.echo(f"warming the numba cache {cache} with a throw-away instance '{instance}' ...",
               err=True)
    pid, err = start_background(instance, str(path), cfg, None, None,
                                timeout_s or cfg.supervisor.startup_timeout_s, say=say_stage)
    if pid:
        _stop(instance)
    if not pid or err:
        # the logs the error names stay for the operator (only a good run's are removed)
        raise click.ClickException(f"warm-up failed: {err}")
    shutil.rmtree(tmp, ignore_errors=True)
    n = sum(1 for _ in Path(cache).rglob("*.nbi")) if cache != "?" else 0
    click.echo(f"warm: {n} kernel index files in {cache} ({time.monotonic() - t0:.0f} s)")
    if compile_log:
        _say_compiles(compile_log)


def _say_compiles(path: str) -> None:
    """One line per process: what it compiled, from the compile log."""
    from appliance.runtime.compile_log import per_process, read_log

    procs = per_process(read_log(path))
    for name, p in procs.items():
        click.echo(f"compiled in {name}: {p['compiles']} functions, {p['compile_s']:.1f} s "
                   f"({p['cpu_s']:.1f} s of CPU)")
    if not procs:
        click.echo(f"compile log {path}: nothing compiled (the cache was warm)")


def _stop(instance: str) -> None:
    """Ask the supervisor to stop (it cancels, stops its children and venue, unlinks)."""
    mem = InstanceMemory.attach(instance, writable=True, names=["control"])
    try:
        mem.control.records[0]["stop_requested"] = 1
    finally:
        mem.close()
    deadline = time.monotonic() + STOP_WAIT_S
    while existing_segments(instance) and time.monotonic() < deadline:
        time.sleep(0.1)
    if existing_segments(instance):
        raise click.ClickException(f"throw-away instance '{instance}' did not stop in "
                                   f"{STOP_WAIT_S:g} s: mmctl stop --instance {instance}")
