"""Generation throughput of the synthetic scenarios, and Parquet store write/read.

    python tools/bench_sources.py [--coins BTC,ETH] [--repeat 3] [--json OUT]

Each scenario is played once to warm the numba cache, then timed ``--repeat``
times over its whole default duration (best run reported); chunks of 4096 events.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.feed.sources import open_source  # noqa: E402
from appliance.feed.sources.parquet_store import write_events  # noqa: E402
from appliance.feed.sources.synthetic import SCENARIOS  # noqa: E402


def _count(src) -> int:
    return sum(len(c) for c in src.chunks(4096))


def bench(coins: list[str], repeat: int) -> dict[str, object]:
    rows = []
    for name in SCENARIOS:
        spec = f"synthetic:{name}"
        _count(open_source(spec, coins, seed=1))
        best = float("inf")
        n = 0
        for _ in range(repeat):
            src = open_source(spec, coins, seed=1)
            t0 = time.perf_counter()
            n = _count(src)
            best = min(best, time.perf_counter() - t0)
        rows.append({"scenario": name, "events": n, "wall_s": round(best, 4),
                     "events_per_s": round(n / best)})
    # Parquet store: write the cascade (the largest stream) and read it back.
    src = open_source("synthetic:liquidation_cascade", coins, seed=1)
    chunks = list(src.chunks(4096))
    n = sum(len(c) for c in chunks)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cascade.parquet")
        t0 = time.perf_counter()
        write_events(path, chunks, coins, "synthetic:liquidation_cascade")
        write_s = time.perf_counter() - t0
        size = os.path.getsize(path)
        read_s = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            _count(open_source(f"replay:{path}", coins))
            read_s = min(read_s, time.perf_counter() - t0)
    return {
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "coins": coins,
        "scenarios": rows,
        "parquet": {"events": n, "bytes": size, "write_events_per_s": round(n / write_s),
                    "read_events_per_s": round(n / read_s)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coins", default="BTC", help="comma-separated coins (default BTC)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", dest="json_out", default=None, help="also write the result here")
    args = ap.parse_args()
    res = bench([c for c in args.coins.split(",") if c], max(1, args.repeat))
    print(f"machine: {res['machine']}; coins {','.join(res['coins'])}")
    print(f"{'scenario':<22}{'events':>10}{'wall s':>9}{'events/s':>12}")
    for r in res["scenarios"]:
        print(f"{r['scenario']:<22}{r['events']:>10}{r['wall_s']:>9.3f}{r['events_per_s']:>12,}")
    p = res["parquet"]
    print(f"parquet (liquidation_cascade, {p['events']} events, {p['bytes'] / 1e6:.1f} MB): "
          f"write {p['write_events_per_s']:,}/s, read {p['read_events_per_s']:,}/s")
    if args.json_out:
        Path(args.json_out).write_bytes(orjson.dumps(res, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
