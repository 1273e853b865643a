"""Start-up by stage: ``mmctl start`` (local venue, demo key, default config) timed from
the moment the command is run to the first order resting on the venue, each stage from
the processes' own logs and the shared-memory blocks.

Stages (seconds since ``mmctl start`` was run):

* supervisor: its first log line (the CLI's and the supervisor's imports, the checks)
* fork server ready (imports + cached kernel loads, said in its ready line) and the
  local venue up (its port answers), which run side by side
* each child forked, each child running (its first heartbeat, as the supervisor saw it)
* feed connected (its websocket subscribed), all five healthy
* first params (a MarketParams published), params valid (volatility warm), first
  ladder with orders, first order resting (the PositionState counts one), the
  supervisor's ``ready: quoting`` line, and ``mmctl start`` returning

The blocks are sampled every 2 ms by this process (read-only attach). Real processes
and the real local venue; nothing is mocked. Each run is a fresh instance (its name has
this process's pid; its state dir is a new temporary directory, the venue and metrics
ports are free ones), stopped after its first resting order.

``--before DIR`` (another checkout, e.g. ``git archive`` of main, with ``--before-cache``
its own numba cache directory) runs that tree's ``mmctl start`` too: each round runs
before, then this tree, and the medians are given per tree, side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tools.bench_tick_to_wire import machine

MMCTL = [sys.executable, "-m", "appliance.cli"]
CHILDREN = ("feed", "estimator", "quote", "gateway", "risk")
STAGES = (
    "supervisor_first_line", "fork_server_ready", "venue_up",
    *(f"{c}_forked" for c in CHILDREN), *(f"{c}_running" for c in CHILDREN),
    "feed_connected", "all_healthy", "first_params", "params_valid", "first_ladder",
    "first_resting", "ready_line", "mmctl_returned",
)


def _log_times(path: Path) -> list[tuple[float, str]]:
    """(epoch seconds, message) of each JSON line of a process log."""
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        t = dt.datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        out.append((t.timestamp(), str(rec.get("message", ""))))
    return out


def _first(recs: list[tuple[float, str]], *needles: str) -> float | None:
    for t, m in recs:
        if all(n in m for n in needles):
            return t
    return None


class _Watcher(threading.Thread):
    """Samples the instance's params, ladder and position blocks every 2 ms."""

    def __init__(self, instance: str, timeout_s: float) -> None:
        super().__init__(daemon=True)
        self.instance, self.timeout_s = instance, timeout_s
        self.seen: dict[str, float] = {}
        self.stop = False
        self.error = ""

    def run(self) -> None:
        # Imported here so that the numba import is paid before the timed command runs
        # (``main`` imports this module first): the watcher must not slow the start.
        from appliance.ipc import seqlock
        from shm_layout import InstanceMemory, LayoutMismatch, SegmentMissing, SegmentNotReady

        end = time.monotonic() + self.timeout_s
        mem = None
        while mem is None and not self.stop and time.monotonic() < end:
            try:
                mem = InstanceMemory.attach(self.instance, writable=False,
                                            names=["control", "params", "ladder", "position"])
            except (SegmentMissing, SegmentNotReady):
                time.sleep(0.002)
            except (OSError, ValueError, LayoutMismatch) as e:  # caught mid-creation (a
                # segment not yet sized reads as too small): try again, say the last
                self.error = repr(e)
                time.sleep(0.002)
        if mem is None:
            return
        try:
            while not self.stop and time.monotonic() < end and "first_resting" not in self.seen:
                now = time.time()
                p, _ = seqlock.snapshot(mem.params, 0, max_tries=100_000)
                lad, _ = seqlock.snapshot(mem.ladder, 0, max_tries=100_000)
                pos, _ = seqlock.snapshot(mem.position, 0, max_tries=100_000)
                marks = {
                    "first_params": int(p["update_mono_ns"]) > 0,
                    "params_valid": int(p["valid"]) == 1,
                    "first_ladder": int(lad["n_bids"]) + int(lad["n_asks"]) > 0,
                    "first_resting": int(pos["n_open_bids"]) + int(pos["n_open_asks"]) > 0,
                }
                for k, hit in marks.items():
                    if hit and k not in self.seen:
                        self.seen[k] = now
                time.sleep(0.002)
        finally:
            mem.close()


def run_once(extra_toml: str = "", timeout_s: float = 300.0, env: dict | None = None,
             cwd: str | None = None) -> dict:
    """One ``mmctl start`` to its first resting order, then stopped; ``env`` and ``cwd``
    choose the tree run (None: this process's)."""
    instance = f"bst{os.getpid()}x{int(time.time() * 1000) % 100000}"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "start.toml"
        cfg.write_text(f'[appliance]\nstate_dir = "{tmp}/{{instance}}"\n[risk]\nmetrics_port = 0\n'
                       + extra_toml.replace("\\n", "\n") + "\n")
        watcher = _Watcher(instance, timeout_s)
        watcher.start()
        t0 = time.time()
        try:
            r = subprocess.run([*MMCTL, "start", "--instance", instance, "--config", str(cfg),
                                "--timeout", str(timeout_s)], capture_output=True, text=True,
                               env=env, cwd=cwd)
            t_ret = time.time()
            watcher.join(timeout=10.0)
        finally:  # whatever interrupts the round (a test's timeout), the instance is stopped
            watcher.stop = True
            subprocess.run([*MMCTL, "stop", "--instance", instance, "--config", str(cfg)],
                           capture_output=True, timeout=120, env=env, cwd=cwd)
        sd = Path(tmp) / instance
        sup = _log_times(sd / "supervisor.log")
        feed = _log_times(sd / "feed.log")
        ready_msg = next((m for _, m in sup if "fork server" in m and " ready " in m), "")
        times: dict[str, float | None] = {
            "supervisor_first_line": sup[0][0] if sup else None,
            "fork_server_ready": _first(sup, "fork server", " ready "),
            "venue_up": _first(sup, "stage: local venue on"),
            **{f"{c}_forked": _first(sup, f"{c} started: pid") for c in CHILDREN},
            **{f"{c}_running": _first(sup, f"stage: {c} running") for c in CHILDREN},
            "feed_connected": _first(feed, "hyperliquid ws live connection"),
            "all_healthy": _first(sup, "stage: all five processes healthy"),
            **{k: watcher.seen.get(k) for k in ("first_params", "params_valid", "first_ladder",
                                                "first_resting")},
            "ready_line": _first(sup, "ready: quoting"),
            "mmctl_returned": t_ret,
        }
    return {"rc": r.returncode, "stderr_tail": r.stderr[-400:] if r.returncode else "",
            "fork_server": ready_msg, "watcher_error": watcher.error,
            "s": {k: (None if v is None else round(v - t0, 3)) for k, v in times.items()}}


def summarize(runs: list[dict]) -> dict:
    out = {}
    for k in STAGES:
        vals = [r["s"][k] for r in runs if r["s"].get(k) is not None]
        out[k] = round(statistics.median(vals), 3) if vals else None
    return out


def tree_env(tree: str, cache: str | None) -> dict:
    """The environment that runs ``mmctl`` from ``tree`` (and its numba cache)."""
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
    if cache:
        env["HL_MM_CACHE_DIR"] = str(Path(cache).resolve())
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools.bench_start", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--extra-toml", default="", help="appended to the run's config (\\n for newlines)")
    ap.add_argument("--before", default=None, metavar="DIR",
                    help="another checkout to run in the same rounds, before this tree's run")
    ap.add_argument("--before-cache", default=None, metavar="DIR",
                    help="HL_MM_CACHE_DIR for --before (default: this process's)")
    ap.add_argument("--json", dest="json_out", default=None)
    a = ap.parse_args(argv)
    from appliance.ipc import seqlock  # noqa: F401  the watcher's numba import, paid up front
    arms: dict[str, tuple[dict | None, str | None]] = {}
    if a.before:
        arms["before"] = (tree_env(a.before, a.before_cache), str(Path(a.before).resolve()))
    arms["after" if a.before else "this"] = (None, None)
    runs: dict[str, list[dict]] = {k: [] for k in arms}
    for i in range(a.runs):
        for arm, (env, cwd) in arms.items():
            r = run_once(a.extra_toml, env=env, cwd=cwd)
            r["load1"] = os.getloadavg()[0]
            runs[arm].append(r)
            print(f"run {i + 1} {arm}: rc {r['rc']} load {r['load1']:.2f} "
                  + " ".join(f"{k}={v}" for k, v in r["s"].items()), flush=True)
    med = {arm: summarize(rs) for arm, rs in runs.items()}
    print("\nmedian seconds since `mmctl start` was run:")
    print(f"  {'':<24} " + " ".join(f"{arm:>8}" for arm in med))
    for k in STAGES:
        print(f"  {k:<24} " + " ".join(f"{str(m[k]):>8}" for m in med.values()))
    if a.json_out:
        out = {"machine": machine(), "extra_toml": a.extra_toml, "before": a.before}
        if a.before:
            out.update(runs=runs, median_s=med)
        else:  # the one-tree form, as before --before existed
            out.update(runs=runs["this"], median_s=med["this"])
        Path(a.json_out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
