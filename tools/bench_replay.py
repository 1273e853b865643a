"""Replay sources (issue 15): every capture of ../shared/data through a default backtest.

For each file: its non-blank lines counted here, apart from the source (gzip, split on
newlines), then ``run_backtest`` with the default config, the coin taken from the file;
the table gives what the source read (source_stats), the backtest's fills, orders and
P&L, and the replay's rate (events per second of a pass of the source alone, best of 2). ``--no-snapshot``
adds each Binance capture with its REST snapshot line removed (books from diffs).

    python -m tools.bench_replay [--data ../shared/data] [--no-snapshot] [--json OUT]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

from appliance.backtest import run_backtest
from appliance.feed.sources import open_source

ROOT = Path(__file__).resolve().parents[1]


def count_lines(path: Path) -> int:
    """Non-blank lines, read without the replay source."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return sum(1 for ln in f if ln.strip())


def without_snapshot(path: Path, out_dir: Path) -> Path:
    out = out_dir / f"{path.parent.name}_{path.stem}_nosnap.txt"
    with gzip.open(path, "rb") as f, open(out, "wb") as g:
        g.writelines(ln for ln in f if b"lastUpdateId" not in ln[:40])
    return out


def replay_rate(spec: str, coin: str, repeats: int = 2) -> float:
    """Events per second of the source alone (best of ``repeats`` whole passes)."""
    best = float("inf")
    for _ in range(repeats):
        src = open_source(spec, (coin,))
        t0 = time.perf_counter()
        n = sum(len(c) for c in src.chunks(65_536))
        best = min(best, time.perf_counter() - t0)
    return n / best


def row(path: Path, label: str) -> dict:
    r = run_backtest(f"replay:{path}").report
    s = r["source_stats"]
    return {
        "file": label, "coin": r["coin"], "lines_counted": count_lines(path),
        "lines": s["lines"], "events": s["events"], "malformed": s["malformed"],
        "skipped": s["skipped"], "merged": s["merged"], "warmup_skipped": s["warmup_skipped"],
        "gaps": s["gaps"], "book_from_diffs": s["book_from_diffs"],
        "inverse": bool((r["instrument"]["facts"] or {}).get("inverse")),
        "fills": r["fills"], "orders_placed": r["orders_placed"], "pnl_usd": r["pnl"],
        "pnl_coin": r["instrument"].get("pnl_coin"), "digest": r["digest"][:8],
        "replay_events_per_s": replay_rate(f"replay:{path}", r["coin"]),
        "loop_events_per_s": r["events_per_s"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / ".." / "shared" / "data"))
    ap.add_argument("--no-snapshot", action="store_true")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    data = Path(a.data)
    files = sorted(data.glob("binance_*/*.gz")) + sorted(data.glob("hyperliquid/*.gz"))
    if not files:
        print(f"no captures under {data}", file=sys.stderr)
        return 1
    rows = [row(p, f"{p.parent.name}/{p.name}") for p in files]
    if a.no_snapshot:
        with tempfile.TemporaryDirectory() as tmp:
            for p in files:
                if p.parent.name.startswith("binance"):
                    rows.append(row(without_snapshot(p, Path(tmp)),
                                    f"{p.parent.name}/{p.name} without its snapshot"))
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = [f"{v:,.0f}" if isinstance(v, float) and abs(v) >= 100 else
                 f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()]
        print("| " + " | ".join(cells) + " |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
