"""What the five processes' imports cost in memory, started three ways (issue 18).

The supervisor starts each child as a fresh interpreter, so every child builds its own
copy of what ``import numpy, numba`` and the appliance's modules build (private pages,
counted in full in each PSS). Forking the children from one parent that has done
those imports shares the pages copy-on-write. This bench measures the difference
before the supervisor is changed, with the imports alone (no kernel is called, so no
cached machine code is loaded; ``mmctl bench appliance`` measures the running
instance):

* ``spawn``: each process module imported by a fresh ``python -c`` (today's start);
* ``fork_numba``: a parent imports numpy, numba and the rings and seqlocks, calls
  ``gc.freeze()`` (no collector writes into the shared objects), forks five children
  and each imports its process module;
* ``fork_all``: the parent imports all five process modules before it forks.

The parent stays alive in the fork variants (a fork server would), so its PSS is added.
"""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
import time

from appliance.runtime.proc_memory import process_memory

MODULES = ("appliance.feed.process", "appliance.estimator.process", "appliance.quote.process",
           "appliance.gateway.process", "appliance.risk.process")
VARIANTS = ("spawn", "fork_numba", "fork_all")


def _ready_pipe() -> tuple[int, int]:
    return os.pipe()


def _fork_child(module: str | None, w: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: import, say so, wait to be measured and killed
        try:
            if module:
                importlib.import_module(module)
            os.write(w, b"x")
            time.sleep(3600)
        finally:
            os._exit(0)
    return pid


def measure_variant(variant: str, settle_s: float) -> dict:
    """Run one variant in a fresh interpreter (the parent's imports must not leak into
    the next variant): {"processes": {module: memory}, "parent": memory, totals}."""
    code = f"import json, tools.bench_memory as b; print(json.dumps(b._run({variant!r}, {settle_s!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(variant: str, settle_s: float) -> dict:
    """In the measuring interpreter: start the five, wait until each has imported, measure."""
    pids: list[int] = []
    procs: list[subprocess.Popen] = []
    r, w = _ready_pipe()
    if variant == "spawn":
        for m in MODULES:
            procs.append(subprocess.Popen(
                [sys.executable, "-c", f"import os, time, {m}; os.write({w}, b'x'); time.sleep(3600)"],
                pass_fds=(w,)))
            pids.append(procs[-1].pid)
    else:
        import numba  # noqa: F401
        import numpy  # noqa: F401

        from appliance.ipc import ring, seqlock  # noqa: F401

        if variant == "fork_all":
            for m in MODULES:
                importlib.import_module(m)
        gc.freeze()
        for m in MODULES:
            pids.append(_fork_child(None if variant == "fork_all" else m, w))
    try:
        for _ in MODULES:
            os.read(r, 1)
        time.sleep(settle_s)
        mem = {m: process_memory(p) for m, p in zip(MODULES, pids, strict=True)}
        parent = process_memory(os.getpid()) if variant != "spawn" else None
    finally:
        for p in pids:
            try:
                os.kill(p, 9)
            except ProcessLookupError:
                pass
        for p in procs:
            p.wait()
        if variant != "spawn":
            for p in pids:
                os.waitpid(p, 0)
    tot = {k: round(sum(v[k] for v in mem.values() if v) + (parent[k] if parent else 0.0), 1)
           for k in ("rss_mib", "pss_mib", "uss_mib")}
    return {"variant": variant, "processes": mem, "parent": parent, "total_with_parent": tot}


def run_memory_bench(repeats: int, settle_s: float) -> dict:
    """Each variant ``repeats`` times, alternated; the median total PSS per variant."""
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(repeats):
        for v in VARIANTS:
            runs[v].append(measure_variant(v, settle_s))
    med = {}
    for v, rs in runs.items():
        pss = sorted(x["total_with_parent"]["pss_mib"] for x in rs)
        uss = sorted(x["total_with_parent"]["uss_mib"] for x in rs)
        med[v] = {"pss_mib": pss[len(pss) // 2], "uss_mib": uss[len(uss) // 2]}
    return {"repeats": repeats, "settle_s": settle_s, "median": med, "runs": runs}


def render(result: dict) -> str:
    lines = [f"imports of the five process modules (median of {result['repeats']}; PSS/USS incl. "
             "the parent of the fork variants, MiB):",
             f"{'variant':<12} {'PSS':>8} {'USS':>8}  vs spawn"]
    base = result["median"]["spawn"]["pss_mib"]
    for v in VARIANTS:
        m = result["median"][v]
        lines.append(f"{v:<12} {m['pss_mib']:>8.1f} {m['uss_mib']:>8.1f}  {m['pss_mib'] / base:.2f}x")
    last = result["runs"]["spawn"][-1]["processes"]
    lines.append("per process (spawn, last run): " + ", ".join(
        f"{k.split('.')[1]} {v['pss_mib']:.0f}" for k, v in last.items() if v))
    return "\n".join(lines)
