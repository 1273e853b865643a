"""Where a cold start's compile time goes: a table from a compile log.

    python -m appliance.cli warm --compile-log /tmp/compile.jsonl   # on a cold cache
    python -m tools.compile_profile /tmp/compile.jsonl [--top 25] [--json OUT]

The log has one JSON line per numba compile (``appliance/runtime/compile_log.py``).
The table gives, per process, the seconds spent compiling (top-level compiles, each
second once: wall, and the CPU seconds of the compiling thread, which a busy box does
not inflate); per function, its self CPU seconds summed over every process and signature;
and the time spent twice: a function compiled with several signatures in one process,
or with the same signature in several processes (each process compiles on its own
when the cache is cold).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from appliance.runtime.compile_log import per_process, read_log


def profile(records: list[dict]) -> dict:
    by_fn: dict[str, dict] = defaultdict(lambda: {"self_s": 0.0, "compiles": 0, "sigs": set(),
                                                  "procs": set()})
    per_proc_sigs: dict[tuple[str, str], set] = defaultdict(set)
    per_sig_procs: dict[tuple[str, str], set] = defaultdict(set)
    sig_self_s: dict[tuple[str, str], list] = defaultdict(list)
    for r in records:
        f = by_fn[r["fn"]]
        f["self_s"] += r["self_cpu_s"]
        f["compiles"] += 1
        f["sigs"].add(r["args"])
        f["procs"].add(r["proc"])
        per_proc_sigs[(r["proc"], r["fn"])].add(r["args"])
        per_sig_procs[(r["fn"], r["args"])].add(r["proc"])
        sig_self_s[(r["fn"], r["args"])].append(r["self_cpu_s"])
    # a signature compiled by k processes: k - 1 of those compiles were repeats
    repeated_across_s = sum(sum(sorted(v)[:-1]) for v in sig_self_s.values() if len(v) > 1)
    several_sigs = sorted(((proc, fn, len(s)) for (proc, fn), s in per_proc_sigs.items() if len(s) > 1),
                          key=lambda x: -by_fn[x[1]]["self_s"])
    fns = sorted(({"fn": k, "self_s": round(v["self_s"], 2), "compiles": v["compiles"],
                   "signatures": len(v["sigs"]), "processes": sorted(v["procs"])}
                  for k, v in by_fn.items()), key=lambda d: -d["self_s"])
    return {"processes": {k: {"compile_s": round(v["compile_s"], 2), "cpu_s": round(v["cpu_s"], 2),
                              "compiles": v["compiles"]} for k, v in per_process(records).items()},
            "functions": fns,
            "self_s_total": round(sum(r["self_cpu_s"] for r in records), 2),
            "repeated_across_processes_self_s": round(repeated_across_s, 2),
            "several_signatures": [{"proc": p, "fn": f, "signatures": n} for p, f, n in several_sigs],
            "same_signature_in_processes": sorted(
                ({"fn": fn, "processes": sorted(ps)} for (fn, _), ps in per_sig_procs.items() if len(ps) > 1),
                key=lambda d: -by_fn[d["fn"]]["self_s"])}


def render(prof: dict, top: int) -> str:
    lines = ["| process | compile s (wall) | compile CPU s | compiles |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {k} | {v['compile_s']:.1f} | {v['cpu_s']:.1f} | {v['compiles']} |"
              for k, v in prof["processes"].items()]
    lines += ["", f"CPU seconds, all compiles: {prof['self_s_total']:.1f}; of it compiled again "
              f"by another process (same signature): {prof['repeated_across_processes_self_s']:.1f}", "",
              "| function | self CPU s | compiles | signatures | processes |",
              "| --- | ---: | ---: | ---: | --- |"]
    lines += [f"| {f['fn']} | {f['self_s']:.2f} | {f['compiles']} | {f['signatures']} | "
              f"{', '.join(f['processes'])} |" for f in prof["functions"][:top]]
    if prof["several_signatures"]:
        lines += ["", "several signatures in one process:"]
        lines += [f"- {d['proc']}: {d['fn']} x{d['signatures']}" for d in prof["several_signatures"][:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.compile_profile", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="a compile log (mmctl warm --compile-log FILE)")
    ap.add_argument("--top", type=int, default=25, help="functions shown (default 25)")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the profile as JSON")
    a = ap.parse_args(argv)
    records = read_log(a.log)
    if not records:
        print(f"{a.log}: no compiles recorded (was the cache already warm?)")
        return 1
    prof = profile(records)
    print(render(prof, a.top))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(prof, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
