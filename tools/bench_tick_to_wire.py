"""Tick to wire against the local venue: a websocket frame's receive time at the feed
(its MD_EVENT ``recv_ts_ns``) to the moment the gateway writes the order bytes that
the resulting ladder caused (CLOCK_REALTIME, just before the socket write).

Runs the real appliance (``mmctl start``, local venue, demo key) once per batch window,
samples for ``seconds``, then raises the kill flag and records the time until the
gateway verified with ``openOrders`` that nothing rests (and until the venue itself
answers an empty ``openOrders`` to this process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MMCTL = [sys.executable, "-m", "appliance.cli"]
TRADING = "[estimator.cascade]\nenabled = false\n[venue]\nip_weight_per_min = 1000000\n"


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cpus_usable": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "kernel": platform.release()}


def _q(xs: list[float], f: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(f * len(s)))]


def _open_orders(url: str, user: str) -> list:
    req = urllib.request.Request(url + "/info", json.dumps({"type": "openOrders", "user": user}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def run_one(window_ms: float, seconds: float, tmp: Path, wait_policy: str | None = None) -> dict:
    inst = f"t2w{os.getpid()}w{int(window_ms)}{wait_policy or ''}"
    sd = tmp / f"state-{inst}"
    cfg = tmp / f"{inst}.toml"
    wait = f'[wait]\npolicy = "{wait_policy}"\n' if wait_policy else ""
    cfg.write_text(f'[appliance]\nstate_dir = "{tmp}/state-{{instance}}"\n[risk]\nmetrics_port = 0\n'
                   f"[gateway]\nbatch_window_ms = {window_ms}\n" + wait + TRADING)
    p = subprocess.run([*MMCTL, "start", "--instance", inst, "--config", str(cfg)],
                       capture_output=True, text=True, timeout=660)
    if p.returncode != 0:
        raise RuntimeError(f"mmctl start {inst} failed (exit {p.returncode}): {p.stderr[-2000:]}")
    try:
        time.sleep(seconds)
        stats = json.loads((sd / "gateway.json").read_text())
        url = (sd / "venue.url").read_text().strip()
        samples = stats["tick_to_wire_us"]["samples"]
        t0 = time.monotonic()
        subprocess.run([*MMCTL, "kill", "--instance", inst, "--reason", "bench"], check=True,
                       capture_output=True, timeout=30)
        t_kill = time.monotonic()
        empty_s = None
        while time.monotonic() - t0 < 10:
            if not _open_orders(url, stats["account"]):
                empty_s = time.monotonic() - t_kill
                break
            time.sleep(0.002)
        verified = None
        for _ in range(100):
            st = json.loads((sd / "gateway.json").read_text())
            if st.get("kill_to_verified_ms") is not None:
                verified = st["kill_to_verified_ms"]
                break
            time.sleep(0.1)
    finally:
        subprocess.run([*MMCTL, "stop", "--instance", inst], capture_output=True, timeout=60)
    return {
        "batch_window_ms": window_ms, "wait_policy": wait_policy or "default", "samples": len(samples),
        "tick_to_wire_p50_us": _q(samples, 0.5), "tick_to_wire_p99_us": _q(samples, 0.99),
        "tick_to_wire_min_us": min(samples) if samples else None,
        "stages": stats["tick_to_wire_us"].get("stages"),
        # batches planned when their ladder was read (no replan after a fill or deferral)
        "ladder_caused": _caused(stats["tick_to_wire_us"].get("ladder_caused")),
        "kill_to_verified_ms": verified,
        "kill_to_venue_empty_ms": None if empty_s is None else round(empty_s * 1e3, 1),
        "orders_sent": stats["orders_sent"], "modifies_sent": stats["modifies_sent"],
        "cancels_sent": stats["cancels_sent"], "fills": stats["fills_applied"],
    }


def _caused(c: dict | None) -> dict | None:
    if not c:
        return None  # a gateway that does not tell them apart
    return {"samples": c["n"], "p50_us": _q(c["samples"], 0.5), "p99_us": _q(c["samples"], 0.99),
            "stages": c.get("stages")}


def run_tick_to_wire_bench(seconds: float = 20.0, windows=(0.0, 100.0), json_out: str | None = None,
                           wait_policies=(None,)) -> dict:
    """One run per (batch window, wait policy); None = the configuration's default policy."""
    with tempfile.TemporaryDirectory(prefix="t2w") as d:
        runs = [run_one(w, seconds, Path(d), pol) for pol in wait_policies for w in windows]
    result = {"bench": "tick-to-wire", "seconds": seconds, "machine": machine(), "runs": runs,
              "note": "feed recv_ts (ws frame) -> gateway socket write of the order batch the "
                      "resulting ladder caused; local venue on loopback, synthetic market"}
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2))
    return result


def render(r: dict) -> str:
    m = r["machine"]
    lines = [f"tick to wire, local venue, {r['seconds']:g} s per run; {m['cpu']}, "
             f"{m['cpus_usable']} CPUs usable, Python {m['python']}"]
    for x in r["runs"]:
        lines.append(f"  batch window {x['batch_window_ms']:>5g} ms, wait {x['wait_policy']}: "
                     f"p50 {x['tick_to_wire_p50_us']} us, p99 {x['tick_to_wire_p99_us']} us "
                     f"({x['samples']} batches); kill -> verified {x['kill_to_verified_ms']} ms, "
                     f"venue empty after {x['kill_to_venue_empty_ms']} ms")
        for name, q in (x.get("stages") or {}).items():
            lines.append(f"      {name:<11} p50 {q['p50']} us, p99 {q['p99']} us ({q['n']})")
        c = x.get("ladder_caused")
        if c:
            lines.append(f"    planned when their ladder was read: p50 {c['p50_us']} us, "
                         f"p99 {c['p99_us']} us ({c['samples']} batches)")
            for name, q in (c.get("stages") or {}).items():
                lines.append(f"      {name:<11} p50 {q['p50']} us, p99 {q['p99']} us ({q['n']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """One run per window, optionally with TOML lines added to the config (an A/B of two
    checkouts runs this alternately from each, with its own PYTHONPATH and numba cache)."""
    ap = argparse.ArgumentParser(prog="python -m tools.bench_tick_to_wire")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--window-ms", type=float, action="append", help="batch window (repeatable)")
    ap.add_argument("--extra-toml", default="", help="config lines appended, e.g. '[wait]\\nslice_us = 300'")
    ap.add_argument("--json", dest="json_out")
    a = ap.parse_args(argv)
    global TRADING
    TRADING += a.extra_toml.replace("\\n", "\n") + ("\n" if a.extra_toml else "")
    print(render(run_tick_to_wire_bench(a.seconds, tuple(a.window_ms or (0.0, 100.0)), a.json_out)))


if __name__ == "__main__":
    main()
