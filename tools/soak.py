"""``mmctl soak`` (``python -m tools.soak``): trade against the local venue for N minutes with a random fault
every interval, then print the invariants (``soak_watch.invariants``).

The venue runs as its own process for the whole soak (so the account, its fills and
its open orders outlive every fault), the appliance reaches it as a remote venue
(``network = "testnet"`` with ``api_url`` on loopback and the demo key). Faults:

* ``child_kill9``: one of the five children, SIGKILL (the supervisor restarts it);
* ``supervisor_kill9``: SIGKILL to the supervisor; the soak then runs ``mmctl start``
  again, as systemd's ``Restart=`` would;
* ``ws_drop``, ``http_429`` (a burst of 5), ``delay`` (500 ms per response, 20 s):
  the venue's fault injection;
* ``disk_full``: the state directory is a small tmpfs; a ballast file fills it for
  15 s (root only: without mount rights the fault is left out, and said so).

After each fault the soak waits for the five to be healthy again and, as an
operator would, clears a kill flag the fault raised (with a reason). At the end:
kill flag, settle, compare, ``mmctl stop``, and count what is left at the venue.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from appliance.config.state_files import GATEWAY_JOURNAL_NAME
from appliance.hyperliquid.demo_key import DEMO_ADDRESS, write_demo_key_file
from appliance.supervisor.local_venue import reported_url
from appliance.supervisor.ownership import cmdline, instance_of

from .soak_watch import Watch, all_zero, invariants, post, venue_info

FAULTS = ("child_kill9", "supervisor_kill9", "ws_drop", "http_429", "delay", "disk_full")
CHILDREN = ("feed", "estimator", "quote", "gateway", "risk")
MMCTL = [sys.executable, "-m", "appliance.cli"]
TMPFS_MB = 64
VENUE_START_S = 300.0  # a cold numba cache compiles the venue's kernels first (minutes)
DELAY_S = 20.0
DISK_FULL_S = 15.0

# Lively enough to trade a few times a minute (as the end-to-end tests), polled hard.
APP_CONFIG = """[appliance]
state_dir = "{state}"
[risk]
metrics_port = 0
[estimator.cascade]
enabled = false
[feed]
synthetic_sigma_bps_per_sqrt_s = 6.0
[quote]
min_spread_bps = 2.0
use_epnl_filter = false
[gateway]
network = "testnet"
api_url = "{url}"
key_file = "{key}"
requote_budget_per_min = 600.0
"""
VENUE_CONFIG = """[venue]
ip_weight_per_min = 1000000
seed = {seed}
[feed]
synthetic_sigma_bps_per_sqrt_s = 6.0
"""


def mmctl(*args: str, timeout: float = 240.0) -> subprocess.CompletedProcess:
    return subprocess.run([*MMCTL, *args], capture_output=True, text=True, timeout=timeout)


def status(instance: str) -> dict | None:
    p = mmctl("status", "--instance", instance, "--json", timeout=30)
    return json.loads(p.stdout) if p.returncode == 0 else None


def fill_disk(directory: Path) -> Path:
    """Write a ballast file until the filesystem says ENOSPC; returns it (unlink to free)."""
    ballast = directory / "ballast"
    with open(ballast, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    return ballast


def set_pids(instance: str) -> list[int]:
    """The instance's supervisor, children and fork server, found by command line (a
    forked child's is its ``python -m appliance.NAME --instance ...``); its local venue,
    which carries ``--instance`` for its log lines, is judged apart, by its own pid."""
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit() and int(e) != os.getpid():
            c = cmdline(int(e))
            if "-m appliance." in c and "-m appliance.venue" not in c and instance_of(c) == instance:
                out.append(int(e))
    return out


class Soak:
    def __init__(self, minutes: float, fault_every_s: float, seed: int, workdir: Path | None,
                 faults: tuple[str, ...] = FAULTS, log=print) -> None:
        self.minutes = minutes
        self.fault_every_s = fault_every_s
        self.rng = random.Random(seed)
        self.seed = seed
        self.log = log
        self.own_workdir = workdir is None
        self.work = Path(workdir or tempfile.mkdtemp(prefix="mm-soak-"))
        self.instance = f"soak{os.getpid()}"
        self.state = self.work / "state"
        self.faults = list(faults)
        self.mounted = False
        self.venue: subprocess.Popen | None = None
        self.events: list[dict] = []

    # --- set-up and tear-down ----------------------------------------------------------
    def _mount_state(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        if "disk_full" not in self.faults:
            return
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0700", "tmpfs",
                            str(self.state)], capture_output=True, text=True)
        if r.returncode == 0:
            self.mounted = True
        else:
            self.faults.remove("disk_full")
            self.log(f"note: disk_full left out (cannot mount a tmpfs: {r.stderr.strip()})")

    def _start_venue(self) -> str:
        cfg = self.work / "venue.toml"
        cfg.write_text(VENUE_CONFIG.format(seed=self.seed))
        ready = self.work / "venue.ready"  # the venue binds a free port and says which
        ready.unlink(missing_ok=True)
        log = open(self.work / "venue.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.venue = subprocess.Popen([sys.executable, "-m", "appliance.venue", "--port", "0",
                                       "--ready-file", str(ready), "--config", str(cfg)],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + VENUE_START_S
        while (url := reported_url(ready, self.venue.pid)) is None:
            if self.venue.poll() is not None or time.monotonic() > deadline:
                # nothing is left running behind a failed start (a venue left over kept
                # running, unwatched, after the bench had given up on it)
                if self.venue.poll() is None:
                    self.venue.kill()
                    self.venue.wait(10)
                raise RuntimeError(f"the soak's venue did not start in {VENUE_START_S:g} s; "
                                   f"see {self.work / 'venue.log'}")
            time.sleep(0.1)
        return url

    def _start_app(self) -> None:
        p = mmctl("start", "--instance", self.instance, "--config", str(self.config))
        if p.returncode != 0:
            raise RuntimeError(f"mmctl start failed: {p.stderr.strip()}")

    def teardown(self) -> None:
        mmctl("stop", "--instance", self.instance, timeout=60)
        if self.venue is not None and self.venue.poll() is None:
            self.venue.send_signal(signal.SIGTERM)
            try:
                self.venue.wait(10)
            except subprocess.TimeoutExpired:
                self.venue.kill()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.state)], capture_output=True)
        if self.own_workdir:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- faults ---------------------------------------------------------------------------
    def _healthy(self) -> bool:
        st = status(self.instance)
        return bool(st) and st["supervisor"]["alive"] and all(
            p["alive"] and p["state"] == "running" for p in st["processes"])

    def _wait_healthy(self, timeout_s: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._healthy():
                return True
            time.sleep(0.5)
        return False

    def _reset_kill(self, why: str) -> None:
        st = status(self.instance)
        if st and st["kill"]["active"]:
            self.log(f"  kill flag was raised ({st['kill']['source']}: {st['kill']['reason']}); reset")
            mmctl("kill", "--reset", "--reason", f"soak: {why}", "--instance", self.instance)

    def inject(self, fault: str) -> dict:
        ev = {"t_s": round(time.monotonic() - self.t0, 1), "fault": fault}
        if fault == "child_kill9":
            name = self.rng.choice(CHILDREN)
            st = status(self.instance)
            pid = next(p["pid"] for p in st["processes"] if p["name"] == name)
            os.kill(pid, signal.SIGKILL)
            ev["target"] = f"{name} pid {pid}"
        elif fault == "supervisor_kill9":
            pid = status(self.instance)["supervisor"]["pid"]
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while set_pids(self.instance) and time.monotonic() < deadline:
                time.sleep(0.1)
            ev["set_gone_s"] = round(time.monotonic() - self.t0 - ev["t_s"], 2)
            self._start_app()  # what systemd's Restart= does
        elif fault == "ws_drop":
            post(self.url, "/_faults", {"ws_drop": True})
        elif fault == "http_429":
            post(self.url, "/_faults", {"http_429_burst": 5})
        elif fault == "delay":
            post(self.url, "/_faults", {"response_delay_ms": 500})
            time.sleep(DELAY_S)
            post(self.url, "/_faults", {"response_delay_ms": 0})
        elif fault == "disk_full":
            ballast = fill_disk(self.state)
            time.sleep(DISK_FULL_S)
            ballast.unlink()
        ev["healthy_after"] = self._wait_healthy()
        self._reset_kill(f"{fault} over")
        return ev

    # --- the run ----------------------------------------------------------------------------
    def setup(self) -> None:
        """The state dir (a tmpfs when disk_full is on), the demo key, the venue, the config."""
        self._mount_state()
        key = self.work / "demo.key"
        write_demo_key_file(key)
        self.url = self._start_venue()
        self.config = self.work / "mm.toml"
        self.config.write_text(APP_CONFIG.format(state=self.state, url=self.url, key=key))

    def run(self) -> dict:
        self.setup()
        watch = Watch(self.url, DEMO_ADDRESS, self.instance)
        try:
            self._start_app()
            self.t0 = time.monotonic()
            watch.start()
            end = self.t0 + self.minutes * 60
            next_fault = self.t0 + self.fault_every_s
            while time.monotonic() < end:
                if time.monotonic() >= next_fault:
                    fault = self.rng.choice(self.faults)
                    ev = self.inject(fault)
                    self.events.append(ev)
                    self.log(f"t={ev['t_s']:>6.1f} s  {fault} {ev.get('target', '')}")
                    next_fault = max(next_fault + self.fault_every_s, time.monotonic() + 5)
                time.sleep(0.2)
            return self._finish(watch)
        finally:
            watch.stop()
            self.teardown()

    def _finish(self, watch: Watch) -> dict:
        self._wait_healthy()
        mmctl("kill", "--reason", "soak: end", "--instance", self.instance)
        deadline = time.monotonic() + 30
        while venue_info(self.url, "openOrders", DEMO_ADDRESS) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3.0)  # the last fills and position checks land
        pos = json.loads(mmctl("inspect", "position", "--instance", self.instance, "--json").stdout)
        ours = float(pos["fields"]["position_sz"])
        ch = venue_info(self.url, "clearinghouseState", DEMO_ADDRESS) or {}
        theirs = sum(float(a["position"]["szi"]) for a in ch.get("assetPositions", [])
                     if a["position"]["coin"] == "BTC")
        watch.stop()
        mmctl("stop", "--instance", self.instance, timeout=60)
        time.sleep(1.0)
        orphans = len(venue_info(self.url, "openOrders", DEMO_ADDRESS) or [])
        inv = invariants(watch, self.state / GATEWAY_JOURNAL_NAME, ours, theirs, orphans,
                         set_pids(self.instance))
        return {"minutes": self.minutes, "fault_every_s": self.fault_every_s, "seed": self.seed,
                "faults": self.events, "invariants": inv, "all_zero": all_zero(inv)}


def render(result: dict) -> str:
    inv = result["invariants"]
    lines = [f"soak: {result['minutes']:g} min, a fault every {result['fault_every_s']:g} s "
             f"(seed {result['seed']}), {len(result['faults'])} faults"]
    counts: dict[str, int] = {}
    for ev in result["faults"]:
        counts[ev["fault"]] = counts.get(ev["fault"], 0) + 1
    lines.append("faults: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    lines += [f"  {k:<32} {v}" for k, v in inv.items()]
    lines.append("invariants: " + ("ALL ZERO" if result["all_zero"] else "VIOLATED"))
    return "\n".join(lines)


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
def main(minutes, fault_every_s, seed, faults, workdir, json_out):
    """Soak the appliance against the local venue and check that nothing is lost:
    fills lost or doubled, orphan orders, position difference, surviving processes,
    time with orders resting and nothing of ours alive to cancel them. Exit code 1
    when an invariant is violated."""
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


if __name__ == "__main__":
    main(prog_name="mmctl soak")
