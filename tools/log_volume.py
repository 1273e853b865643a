"""Log volume of a run: lines and bytes per process and event, per hour of the window
the lines span (from the first ``ready: quoting`` to the last shutdown line).

    python -m tools.log_volume /tmp/mm-default          # the numbers in BENCHMARKS.md
"""

from __future__ import annotations

import collections
import datetime
import json
import sys
from pathlib import Path


def _t(rec: dict) -> float:
    return datetime.datetime.fromisoformat(rec["time"].replace("Z", "+00:00")).timestamp()


def volume(log_dir: Path) -> dict:
    rows = []  # (time, process, event, bytes)
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_bytes().splitlines(keepends=True):
            rec = json.loads(line)
            rows.append((_t(rec), rec["process"], rec.get("event", "-"), len(line), rec["message"]))
    start = min((t for t, *_, msg in rows if msg.startswith("ready: quoting")), default=None)
    if start is None:
        raise SystemExit(f"{log_dir}: no 'ready: quoting' line: the run never quoted")
    end = max(t for t, _, ev, *_ in rows if ev == "shutdown")
    window = [r for r in rows if start <= r[0] <= end]
    hours = (end - start) / 3600
    by = collections.defaultdict(lambda: [0, 0])
    for _, proc, ev, n, _ in window:
        by[(proc, ev)][0] += 1
        by[(proc, ev)][1] += n
    total_lines = sum(v[0] for v in by.values())
    total_bytes = sum(v[1] for v in by.values())
    return {"window_s": round(end - start, 1), "lines": total_lines, "bytes": total_bytes,
            "bytes_per_hour": round(total_bytes / hours), "lines_per_hour": round(total_lines / hours),
            "bytes_per_line": round(total_bytes / max(total_lines, 1), 1),
            "by_process_event": {f"{p}/{e}": {"lines": v[0], "bytes": v[1],
                                              "bytes_per_line": round(v[1] / v[0], 1),
                                              "bytes_per_hour": round(v[1] / hours)}
                                 for (p, e), v in sorted(by.items(), key=lambda kv: -kv[1][1])}}


if __name__ == "__main__":
    print(json.dumps(volume(Path(sys.argv[1])), indent=1))
