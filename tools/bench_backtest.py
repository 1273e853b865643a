"""`mmctl bench backtest`: our backtest loop vs hftbacktest 2.4.4, side by side.

Both run the same Binance USD-M capture, each in its own subprocess, each on data
already in memory (our parser -> MD_EVENT array; hftbacktest's own converter ->
its event rows), so the timed figure is the simulation alone:

* ours: the njit loop of ``appliance.backtest`` (estimator, first GLFT quote kernel,
  executor matching and reconcile) over the whole file, requote every 100 ms;
* theirs (``tools/hftbacktest_glft.py``): a GLFT grid strategy in the manner of
  hftbacktest's tutorial "GLFT market making model and grid trading" (arrival depths
  -> A, k by regression; volatility from mid changes; c1, c2 of the GLFT closed form;
  a grid of GTX orders around the skewed reservation price), stepping
  ``elapse(100 ms)``, with a constant 20 ms order latency, the power-2 probabilistic
  queue model and our fees. The tutorial calibrates on a 10-minute window; the capture
  lasts 345 s, so the window here is 60 s (it quotes after the first minute). The grid
  has as many levels a side as our ladder (5).

Compile time is measured apart (a first call on a small slice). Events differ in
kind: ours are normalized events (a book of 20 levels, a BBO, a trade); theirs are
rows (one per price level in a depth diff, one per trade). The fair comparison is
the wall time for the whole file; events/s are reported for both with their own
counts.

The sides run interleaved: ``rounds`` rounds of (the baseline, ours, hftbacktest), each
child ``repeats`` timed runs, medians over all of a side's runs, so that a shared box's
load falls on every side alike. ``baseline`` (``--baseline DIR``): another checkout of
this project, e.g. ``git worktree add /tmp/main main``, whose loop runs in its own child
from its own sources (before/after in one run; the numba cache is keyed by the sources,
so the two never share kernels).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.hftbacktest_glft import hbt_version, run_hftbacktest

DEFAULT_SOURCE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "binance_usdm"
                  / "btcusdt_20240808.gz")


def default_source() -> Path:
    """The BTCUSDT capture next to the project, or a clear error."""
    if DEFAULT_SOURCE.is_file():
        return DEFAULT_SOURCE
    raise FileNotFoundError(
        f"no --source given and the default capture {DEFAULT_SOURCE} is not there; "
        "pass --source PATH to a Binance USD-M capture (lines '<ns> <json>')"
    )


# --- our side (runs in a subprocess) ----------------------------------------------------


def run_ours(path: str, repeats: int) -> dict:
    # Imported in the child: each side's subprocess pays only its own imports.
    from appliance.backtest.load import load_events
    from appliance.backtest.runner import Simulation
    from appliance.config import load_config

    cfg = load_config()
    t0 = time.perf_counter()
    events, source = load_events(f"replay:{path}", None)  # the capture's own coin
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = Simulation(cfg)
    compile_s = warm.warm_up()
    chunk = cfg.backtest.chunk_events
    walls, fills, digest = [], 0, ""
    for _ in range(repeats):
        s = Simulation(cfg)
        t0 = time.perf_counter()
        for i in range(0, events.shape[0], chunk):
            s.feed(events[i : i + chunk])
        s.finish()
        walls.append(time.perf_counter() - t0)
        f, _, _ = s.outputs()
        fills = int(f.shape[0])
        from appliance.backtest.report import fills_digest

        digest = fills_digest(f)
    st = s.st[0]
    return {
        "profile": _stage_profile(cfg, events, chunk),
        "events": int(st["n_events"]),
        "event_kind": "normalized MD_EVENT (book snapshot / BBO / trade)",
        "parse_s": parse_s,
        "compile_s": compile_s,
        "wall_s_runs": walls,
        "wall_s": statistics.median(walls),
        "seconds_simulated": (int(st["now_ns"]) - int(st["first_ns"])) / 1e9,
        "fills": fills,
        "orders_placed": int(st["n_orders_placed"]),
        "orders_modified": int(st["n_orders_modified"]),
        "orders_cancelled": int(st["n_orders_cancelled"]),
        "actions_deferred": int(st["n_actions_deferred"]),
        "digest": digest,
        "source_stats": source.stats.to_dict(),
    }


def _stage_profile(cfg, events, chunk: int) -> dict:
    """One more run with the loop's stage profile on (``BT_STATE.profile``): CPU cycles
    per stage and event kind, turned into ns with the counter's rate over this run's
    wall time. The profiled run is slower than the timed ones (two counter reads per
    stage); the stage shares are what to read."""
    from numba import njit

    from appliance.backtest.runner import Simulation
    from appliance.ipc.atomics import cycle_counter
    from shm_layout.backtest_records import N_PROF_KINDS, PROF_KIND_NAMES, PROF_STAGE_NAMES

    @njit
    def cycles():
        return cycle_counter()

    s = Simulation(cfg)
    s.st[0]["profile"] = 1
    cycles()
    c0, t0 = cycles(), time.perf_counter()
    for i in range(0, events.shape[0], chunk):
        s.feed(events[i : i + chunk])
    s.finish()
    c1, t1 = cycles(), time.perf_counter()
    per_ns = (c1 - c0) / (t1 - t0) / 1e9  # counter ticks per ns
    st = s.st[0]
    cyc = st["prof_cycles"].reshape(len(PROF_STAGE_NAMES), N_PROF_KINDS) / per_ns
    n = st["prof_events"]
    ns_per_event = {stage: {kind: (float(cyc[i, k] / n[k]) if n[k] else None)
                            for k, kind in enumerate(PROF_KIND_NAMES)}
                    for i, stage in enumerate(PROF_STAGE_NAMES)}
    staged_s = float(cyc.sum()) / 1e9
    return {
        "wall_s": t1 - t0,
        "counter_ticks_per_ns": per_ns,
        "events": {kind: int(n[k]) for k, kind in enumerate(PROF_KIND_NAMES)},
        "ns_per_event": ns_per_event,
        "stage_s": {stage: float(cyc[i].sum()) / 1e9 for i, stage in enumerate(PROF_STAGE_NAMES)},
        "outside_stages_s": (t1 - t0) - staged_s,  # the loop, chunking, buffer growth
    }


# --- the parent: both subprocesses, side by side ----------------------------------------


def _child(side: str, path: str, repeats: int, out: str) -> None:
    if side == "ours":
        res = run_ours(path, repeats)
    else:
        # Imported in the child: each side's subprocess pays only its own imports.
        from appliance.config import load_config

        g = load_config().gateway
        res = run_hftbacktest(path, repeats, g.maker_fee_bps, g.taker_fee_bps)
    Path(out).write_text(json.dumps(res))


def _spawn(side: str, path: str, repeats: int, root: str | None = None) -> dict:
    """One side's child process; ``root``: the checkout it runs from (this one by default,
    another for a baseline: it loads its own code and its own numba cache key)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, f"{side}.json")
        root = root or str(Path(__file__).resolve().parents[1])
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run([sys.executable, "-m", "tools.bench_backtest", "--child", side,
                               path, str(repeats), out], cwd=root, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{side} side failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(Path(out).read_text())


def _merged(runs: list[dict]) -> dict:
    """One side over the rounds: every timed run, their median; the first round's other
    figures (profile, counts, digest)."""
    side = dict(runs[0])
    side["wall_s_runs"] = [w for r in runs for w in r["wall_s_runs"]]
    side["wall_s"] = statistics.median(side["wall_s_runs"])
    side["compile_s"] = statistics.median(r["compile_s"] for r in runs)
    side["events_per_s"] = side["events"] / side["wall_s"]
    return side


def run_backtest_bench(source: str | None = None, repeats: int = 5,
                       json_out: str | None = None, rounds: int = 3,
                       baseline: str | None = None) -> dict:
    """``rounds`` rounds, each: the baseline checkout's loop (when given), ours, then
    hftbacktest, ``repeats`` timed runs each, so every side meets the same load; medians
    over all of a side's runs."""
    path = Path(source) if source else default_source()
    if not path.is_file():
        raise FileNotFoundError(f"capture not found: {path}")
    if baseline is not None and not (Path(baseline) / "appliance").is_dir():
        raise FileNotFoundError(f"baseline is not a checkout of this project: {baseline}")
    runs: dict[str, list[dict]] = {"baseline": [], "ours": [], "hftbacktest": []}
    loads = []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        if baseline is not None:
            runs["baseline"].append(_spawn("ours", str(path), repeats, str(Path(baseline).resolve())))
        runs["ours"].append(_spawn("ours", str(path), repeats))
        runs["hftbacktest"].append(_spawn("hftbacktest", str(path), repeats))
    ours, theirs = _merged(runs["ours"]), _merged(runs["hftbacktest"])
    # Imported after the children ran, so the parent's imports don't load the machine.
    import numba
    import numpy

    result = {
        "source": str(path),
        "repeats": repeats,
        "rounds": rounds,
        "load_avg_1m": loads,
        "ours": ours,
        "hftbacktest": theirs,
        "whole_file_speedup": theirs["wall_s"] / ours["wall_s"],
        "events_per_s_ratio": ours["events_per_s"] / theirs["events_per_s"],
        "goal_events_per_s": 2_000_000,
        "fair_comparison": "whole_file_speedup: wall time of each loop over the whole file "
                           "(same market, same 345 s simulated); event counts differ in kind",
        "machine": {
            "cpu": _cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "numba": numba.__version__, "numpy": numpy.__version__,
            "hftbacktest": hbt_version(),
        },
    }
    if baseline is not None:
        base = _merged(runs["baseline"])
        result["baseline"] = dict(base, checkout=str(Path(baseline).resolve()))
        result["speedup_vs_baseline"] = base["wall_s"] / ours["wall_s"]
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2) + "\n")
    return result


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _per_fill(side: dict) -> str:
    return f"{side['orders_placed'] / side['fills']:.1f}" if side["fills"] else "n/a"


def _render_profile(pr: dict | None) -> list[str]:
    if not pr:
        return []
    kinds = list(pr["events"])
    out = [f"our loop by stage (one profiled run, {pr['wall_s']:.4f} s): ns per event of each kind, "
           "and the stage's seconds over the file",
           f"{'stage':<12}" + "".join(f"{k:>10}" for k in kinds) + f"{'total s':>10}",
           f"{'(events)':<12}" + "".join(f"{pr['events'][k]:>10,}" for k in kinds)]
    for stage, row in pr["ns_per_event"].items():
        cells = "".join(f"{row[k]:>10.0f}" if row[k] is not None else f"{'-':>10}" for k in kinds)
        out.append(f"{stage:<12}{cells}{pr['stage_s'][stage]:>10.4f}")
    out.append(f"{'outside':<12}{'':>{10 * len(kinds)}}{pr['outside_stages_s']:>10.4f}")
    return out


def render(r: dict) -> str:
    o, h = r["ours"], r["hftbacktest"]
    rows = [
        ("events", f"{o['events']:,}", f"{h['events']:,}"),
        ("simulated s", f"{o['seconds_simulated']:.1f}", f"{h['seconds_simulated']:.1f}"),
        ("wall s, whole file (median)", f"{o['wall_s']:.4f}", f"{h['wall_s']:.4f}"),
        ("events/s", f"{o['events_per_s']:,.0f}", f"{h['events_per_s']:,.0f}"),
        ("compile s (first call)", f"{o['compile_s']:.2f}", f"{h['compile_s']:.2f}"),
        ("parse / convert s", f"{o['parse_s']:.2f}", f"{h['convert_s']:.2f}"),
        ("orders placed", f"{o['orders_placed']:,}", f"{h['orders_placed']:,}"),
        ("orders modified", f"{o.get('orders_modified', 0):,}", "n/a"),
        ("orders placed per fill", _per_fill(o), _per_fill(h)),
        ("fills", f"{o['fills']:,}", f"{h['fills']:,}"),
    ]
    b = r.get("baseline")
    if b:
        rows.insert(2, ("baseline wall s (median)", f"{b['wall_s']:.4f}", ""))
    w = max(len(a) for a, _, _ in rows)
    out = [f"{'':{w}}  {'ours':>14}  {'hftbacktest':>14}"]
    out += [f"{a:{w}}  {b:>14}  {c:>14}" for a, b, c in rows]
    out += _render_profile(o.get("profile"))
    if b:
        out.append(f"ours against the baseline ({b['checkout']}): {r['speedup_vs_baseline']:.2f}x "
                   f"faster, fills {b['fills']} / {o['fills']}, digest "
                   f"{'same' if b['digest'] == o['digest'] else 'DIFFERENT'}")
    out.append(f"{r.get('rounds', 1)} rounds, each side {r['repeats']} runs a round, interleaved; "
               f"load average {', '.join(f'{x:.1f}' for x in r.get('load_avg_1m', []))}")
    out.append(f"whole file: ours {r['whole_file_speedup']:.2f}x faster (the fair figure); "
               f"events/s ratio {r['events_per_s_ratio']:.2f} (counts differ in kind); "
               f"goal >= 2 M events/s: {'met' if o['events_per_s'] >= 2e6 else 'NOT met'}")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        import argparse

        ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        ap.add_argument("source", nargs="?")
        ap.add_argument("--repeats", type=int, default=5)
        ap.add_argument("--rounds", type=int, default=3)
        ap.add_argument("--baseline", default=None)
        ap.add_argument("--json", default=None)
        a = ap.parse_args()
        print(render(run_backtest_bench(a.source, a.repeats, a.json, a.rounds, a.baseline)))
