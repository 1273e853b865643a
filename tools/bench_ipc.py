"""One-way hop latency between two processes, and the cost of a seqlock read.

Two spawned processes, ``ping`` and ``pong``, each pinned to its own CPU when the
machine has two or more, play ping-pong; the one-way hop is half the round trip
that ``ping`` times. Methods, all measured in one run (compare ratios within a
run, not nanoseconds across runs: the cross-core floor moves with the host):

* ``numba_spin``: numba on both ends over two real shared-memory rings of one
  instance, polled with ``cpu_relax``; ping carries an MD_EVENT BBO (one level a
  side) on the ``md`` ring as the feed publishes it and the estimator reads it
  (``publish_md`` / ``ring.read_prefix``: its 120 used bytes, issue 18), pong a
  FILL_EVENT (128 B) on the ``fills`` ring, copied whole (``ring.publish`` /
  ``ring.read``): the market-event hop.
* ``numba_spin_trade``, ``numba_spin_book`` (extra): the same with a trade (no
  level, 80 B used) and a full 20-level book (880 B used).
* ``numba_spin_whole`` (extra): the same MD_EVENT copied whole (896 B), as every
  hop was before issue 18.
* ``numba_spin_128b`` (extra): the same with a FILL_EVENT (128 B) each way, ping
  over the ``fills`` ring of a second instance. The cross-core cost grows with the
  cache lines a hop moves: this is the like-for-like comparison with python_spin.
* ``python_spin``: pure Python on both ends over the same rings: the slot seq,
  two payload words and the head are written and polled through a memoryview with
  ``struct``; no numba call per hop and no whole-record copy.
* ``hybrid``: the numba ends, waiting the default way (spin 50 us, then sleep
  10 us doubling to 1 ms, as ``runtime.waiting`` does). In hot ping-pong every
  wait is shorter than the spin, so this matches ``numba_spin``.
* ``hybrid_idle`` (extra): the same with 200 us between round trips, so the pong
  end has gone to sleep when a ping comes: what the policy costs on a quiet market.
* ``pipe``: ``multiprocessing.Pipe`` send/recv of an int (blocking).
* ``queue``: ``multiprocessing.Queue`` put/get, one queue each way.

The seqlock read cost is ns per consistent copy of MarketParams block 0 while the
other process rewrites it every 10 us, and again every 1 us: in numba
(``seqlock.read`` in a loop) and from Python (``seqlock.snapshot``, one call per
read).

Every process compiles its numba code before any clock runs (numba caches it on
disk), and the first ``warmup`` round trips of each method are dropped.

The ends live in ``ipc_child`` (the process, its segments, the step protocol) and
``ipc_ends`` (each method's numba and Python loops); this module spawns them, times the
steps and renders the table.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import sys
import time

import numpy as np

from shm_layout import SEGMENT_BY_NAME, InstanceMemory, create, records

from .ipc_child import (
    METHODS,
    PING_LEVELS,
    SEGS,
    SEQLOCK_WRITE_PERIODS_NS,
    STEP_TIMEOUT_S,
    child_main,
)
from .ipc_ends import (
    HYBRID_SPIN_NS,
    IDLE_GAP_NS,
    SEQLOCK_STOP_BLOCK,
)

STARTUP_TIMEOUT_S = 300.0  # spawn + import + first compile on a busy machine


# --- the parent ---------------------------------------------------------------------


def _recv(conn, what: str, timeout_s: float):
    if not conn.poll(timeout_s):
        raise RuntimeError(f"bench: no answer from a child within {timeout_s:.0f} s ({what})")
    msg = conn.recv()
    if msg[0] == "error":
        raise RuntimeError(f"bench child failed ({what}):\n{msg[1]}")
    return msg


def _step(ping, pong, method: str, n, on_ping_done=None):
    """One measured step: both ends ready, pong started first, results back."""
    for conn in (pong, ping):
        conn.send(("run", method, n))
    for conn in (pong, ping):
        _recv(conn, f"{method} ready", STEP_TIMEOUT_S)
    for conn in (pong, ping):
        conn.send(("go",))
    ping_result = _recv(ping, method, STEP_TIMEOUT_S)[1]
    if on_ping_done is not None:
        on_ping_done()
    pong_result = _recv(pong, method, STEP_TIMEOUT_S)[1]
    return ping_result, pong_result


def _hop_stats(rtt: np.ndarray, warmup: int) -> dict:
    hop = rtt[warmup:].astype(np.float64) / 2.0
    return {
        "p50": float(np.percentile(hop, 50)),
        "p99": float(np.percentile(hop, 99)),
        "mean": float(hop.mean()),
        "n": int(hop.size),
    }


def machine_facts() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    # Imported for the machine description only (its version).
    import numba

    return {
        "cpu_model": model,
        "nproc": os.cpu_count(),
        "cpus_allowed": sorted(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


def run_ipc_bench(round_trips: int = 20000, json_out: str | None = None) -> dict:
    """Measure every method in one run; returns the result dict (see ``render``) and
    writes it as JSON to ``json_out`` if given."""
    if round_trips < 1:
        raise ValueError("round_trips must be positive")
    started = time.monotonic()
    warmup = max(200, min(2_000, round_trips // 10))
    idle_rounds = max(100, round_trips // 10)  # hybrid_idle pays IDLE_GAP_NS each
    idle_warmup = max(20, idle_rounds // 10)
    seqlock_reads = (max(100_000, 50 * round_trips), max(2_000, round_trips))

    cpus = sorted(os.sched_getaffinity(0))
    pinned = len(cpus) >= 2
    cpu_ping, cpu_pong = (cpus[0], cpus[1]) if pinned else (None, None)
    instance = f"bench{os.getpid()}"
    ctx = mp.get_context("spawn")
    segs, procs, ctrls = [], [], []
    try:
        made = {}
        for key, (suffix, name) in SEGS.items():
            made[key] = create(instance + suffix, SEGMENT_BY_NAME[name], lock=False)
            segs.append(made[key])
        params = made["params"]
        data_ping, data_pong = ctx.Pipe()
        q_ping, q_pong = ctx.Queue(), ctx.Queue()
        for role, cpu, data in (("ping", cpu_ping, data_ping), ("pong", cpu_pong, data_pong)):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=child_main, name=f"bench-{role}", daemon=True,
                            args=(role, instance, cpu, theirs, data, q_ping, q_pong,
                                  not pinned))
            p.start()
            theirs.close()
            procs.append(p)
            ctrls.append(mine)
        ping, pong = ctrls
        child_cpus = [_recv(c, "startup", STARTUP_TIMEOUT_S)[1] for c in ctrls]

        hop = {}
        for method in METHODS:
            if method == "hybrid_idle":
                rtt, _ = _step(ping, pong, method, idle_warmup + idle_rounds)
                hop[method] = _hop_stats(rtt, idle_warmup)
            else:
                rtt, _ = _step(ping, pong, method, warmup + round_trips)
                hop[method] = _hop_stats(rtt, warmup)

        def stop_writer():
            params.seqs[SEQLOCK_STOP_BLOCK] = 1

        seqlock_by_period = {}
        for period_ns in SEQLOCK_WRITE_PERIODS_NS:
            params.seqs[SEQLOCK_STOP_BLOCK] = 0
            cost, writes = _step(ping, pong, "seqlock", (*seqlock_reads, period_ns),
                                 stop_writer)
            seqlock_by_period[str(period_ns)] = {
                "numba": cost["numba_ns"],
                "python_snapshot": cost["python_snapshot_ns"],
                "writes_during_reads": writes,
            }
        read_cost = seqlock_by_period[str(SEQLOCK_WRITE_PERIODS_NS[0])]
        for c in ctrls:
            c.send(("exit",))
        for p in procs:
            p.join(timeout=30)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        for seg in segs:
            seg.close()
        for suffix in {suffix for suffix, _ in SEGS.values()}:
            InstanceMemory.unlink_all(instance + suffix)

    numba_p50 = hop["numba_spin"]["p50"]
    result = {
        "benchmark": "ipc",
        "round_trips": round_trips,
        "warmup_round_trips": warmup,
        "hop_ns": hop,
        "seqlock_read_ns": {
            "numba": read_cost["numba"],
            "python_snapshot": read_cost["python_snapshot"],
            "writer_period_ns": SEQLOCK_WRITE_PERIODS_NS[0],
            "by_writer_period_ns": seqlock_by_period,
            "record_bytes": records.MARKET_PARAMS.itemsize,
            "reads": {"numba": seqlock_reads[0], "python_snapshot": seqlock_reads[1]},
        },
        "ratios": {
            "pipe_p50_over_numba_p50": hop["pipe"]["p50"] / numba_p50,
            "pipe_p50_over_python_spin_p50": hop["pipe"]["p50"] / hop["python_spin"]["p50"],
            "queue_p50_over_numba_p50": hop["queue"]["p50"] / numba_p50,
            # like for like: both move ~one record of 128 B or less a hop
            "python_spin_p50_over_numba_128b_p50":
                hop["python_spin"]["p50"] / hop["numba_spin_128b"]["p50"],
            # issue 18: each market-event hop against the 128-byte hop of this run
            **{f"{m}_p50_over_numba_128b_p50": hop[m]["p50"] / hop["numba_spin_128b"]["p50"]
               for m in ("numba_spin", "numba_spin_trade", "numba_spin_book",
                         "numba_spin_whole")},
        },
        "setup": {
            "pinned": pinned,
            "cpus": {"ping": child_cpus[0], "pong": child_cpus[1]},
            "ping_record_bytes": records.MD_EVENT.itemsize,
            "ping_used_bytes": {m: (records.md_used_bytes(n, n) if n is not None else
                                    records.MD_EVENT.itemsize)
                                for m, n in PING_LEVELS.items() if m != "numba_spin_128b"},
            "pong_record_bytes": records.FILL_EVENT.itemsize,
            "ping_record_bytes_128b": records.FILL_EVENT.itemsize,
            "hybrid_spin_ns": HYBRID_SPIN_NS,
            "hybrid_idle_gap_ns": IDLE_GAP_NS,
            "hybrid_idle_round_trips": idle_rounds,
        },
        "machine": machine_facts(),
        "wall_s": time.monotonic() - started,
    }
    if json_out is not None:
        with open(json_out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return result


def render(result: dict) -> str:
    """A table for humans."""
    m, s = result["machine"], result["setup"]
    where = (f"CPUs {s['cpus']['ping']} and {s['cpus']['pong']}" if s["pinned"]
             else "one CPU, not pinned (spinning ends yield)")
    lines = [
        f"IPC one-way hop = half a ping-pong round trip; {result['round_trips']} round trips "
        f"after {result['warmup_round_trips']} warm-up, {where}",
        f"{'method':<18}{'p50 ns':>12}{'p99 ns':>12}{'mean ns':>12}",
    ]
    for name, h in result["hop_ns"].items():
        lines.append(f"{name:<18}{h['p50']:>12,.0f}{h['p99']:>12,.0f}{h['mean']:>12,.0f}")
    sl = result["seqlock_read_ns"]
    for period, cost in sl["by_writer_period_ns"].items():
        lines.append(
            f"seqlock read of MarketParams ({sl['record_bytes']} B), writer every "
            f"{int(period) / 1000:g} us: numba {cost['numba']:,.1f} ns, "
            f"Python snapshot {cost['python_snapshot']:,.0f} ns"
        )
    r = result["ratios"]
    lines.append(
        f"ratios (p50): Pipe/numba {r['pipe_p50_over_numba_p50']:,.1f}x, "
        f"Pipe/Python spin {r['pipe_p50_over_python_spin_p50']:,.1f}x, "
        f"Queue/numba {r['queue_p50_over_numba_p50']:,.1f}x, "
        f"Python spin/numba 128 B {r['python_spin_p50_over_numba_128b_p50']:,.2f}x"
    )
    lines.append(
        "market-event hop / 128 B hop (p50): "
        + ", ".join(f"{m.removeprefix('numba_spin_') if m != 'numba_spin' else 'bbo'} "
                    f"{r[f'{m}_p50_over_numba_128b_p50']:.2f}x"
                    for m in ("numba_spin", "numba_spin_trade", "numba_spin_book",
                              "numba_spin_whole"))
    )
    lines.append(
        f"machine: {m['cpu_model']}, {m['nproc']} CPUs, Linux {m['kernel']}, "
        f"Python {m['python']}, numba {m['numba']}, numpy {m['numpy']}; "
        f"{result['wall_s']:.1f} s"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(run_ipc_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
