"""Read speed of the Hyperliquid archive sources, and the recorder's cost (issue 15).

No archive file ships with the project, so the files are written here in the archive's
formats (``appliance/feed/sources/hl_archive_io.py``) from real data, repeated to a
size worth timing: the real l2Book snapshots and trades of
``hyperliquid/btc_ws_20250126.gz`` (times shifted per repeat, trade ids made unique)
and the real funding rates of ``hyperliquid/info/funding_history_None.json`` (for
``--ctx-coins`` coins a minute, a day). Each source: events per second of a whole pass
(best of 2), lines, file size.

Recorder: the catalog writer on real events (the Hyperliquid capture's, and the Binance
USD-M BTC capture's first ``--binance-events``): events per second converted and
written, bytes per event on disk; and the ring drain (``risk/recorder.py``) per event
on a real md ring.

    python -m tools.bench_hl_archive [--data ../shared/data] [--repeat 400] [--json OUT]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from appliance.catalog import MARKET, CatalogWriter, files
from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from appliance.feed.sources.hl_archive_io import ASSET_CTXS_COLUMNS, write_lz4_lines

ROOT = Path(__file__).resolve().parents[1]


def _iso(ns: int) -> str:
    s, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}"


def _ws(path: Path) -> list[tuple[int, dict]]:
    with gzip.open(path, "rb") as f:
        return [(int(ln.split(b" ", 1)[0]), orjson.loads(ln.split(b" ", 1)[1])) for ln in f if ln.strip()]


def archive_lines(data: Path, repeat: int, ctx_coins: int) -> dict[str, list[bytes]]:
    frames = _ws(data / "hyperliquid" / "btc_ws_20250126.gz")
    books = [(r, f) for r, f in frames if f["channel"] == "l2Book"]
    trades = list({t["tid"]: t for _, f in frames if f["channel"] == "trades" for t in f["data"]}.values())
    span_ms = 120_000  # each repeat moves every time on by 2 minutes (the capture spans < 1)
    out: dict[str, list[bytes]] = {k: [] for k in ("l2book", "node_trades", "node_fills", "blocks")}
    for k in range(repeat):
        for recv, f in books:
            raw = {"channel": "l2Book", "data": {**f["data"], "time": f["data"]["time"] + k * span_ms}}
            out["l2book"].append(orjson.dumps({"time": _iso(recv + k * span_ms * 1_000_000), "ver_num": 1,
                                               "raw": raw}))
        block: dict[int, list] = {}
        for j, t in enumerate(sorted(trades, key=lambda t: t["time"])):
            ms, tid = t["time"] + k * span_ms, t["tid"] + k * 1_000_003 + j
            buyer, seller = t["users"]
            info = [{"user": u, "start_pos": "0.0", "oid": 1, "twap_id": None, "cloid": None}
                    for u in t["users"]]
            out["node_trades"].append(orjson.dumps({
                "coin": t["coin"], "side": t["side"], "time": _iso(ms * 1_000_000), "px": t["px"],
                "sz": t["sz"], "hash": t["hash"], "trade_dir_override": "Na", "side_info": info}))
            for user, side in ((buyer, "B"), (seller, "A")):
                leg = [user, {"coin": t["coin"], "px": t["px"], "sz": t["sz"], "side": side, "time": ms,
                              "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0",
                              "hash": t["hash"], "oid": 1, "crossed": side == t["side"], "fee": "0.0",
                              "tid": tid, "feeToken": "USDC", "twapId": None}]
                out["node_fills"].append(orjson.dumps(leg))
                block.setdefault(ms, []).append(leg)
        for n, (ms, evs) in enumerate(sorted(block.items())):
            out["blocks"].append(orjson.dumps({"local_time": _iso(ms * 1_000_000 + 200_000_000),
                                               "block_time": _iso(ms * 1_000_000),
                                               "block_number": 1_000_000 * k + n, "events": evs}))
    funding = orjson.loads((data / "hyperliquid" / "info" / "funding_history_None.json").read_bytes())
    ctx = [",".join(ASSET_CTXS_COLUMNS).encode()]
    day0 = 1_735_689_600  # 2025-01-01
    for minute in range(1440):
        t = datetime.fromtimestamp(day0 + 60 * minute, UTC).strftime("%Y-%m-%dT%H:%M:00Z")
        r = funding[minute % len(funding)]
        for c in range(ctx_coins):
            coin = "BTC" if c == 0 else f"C{c}"
            ctx.append(f"{t},{coin},{r['fundingRate']},1234.5,94000.0,1.5e9,{r['premium']},"
                       f"94010.0,94012.0,94011.5,94005.0,94018.0".encode())
    out["asset_ctxs"] = ctx
    return out


def rate(spec: str, coins: tuple[str, ...], repeats: int = 2) -> tuple[float, dict]:
    best, stats = float("inf"), {}
    for _ in range(repeats):
        src = open_source(spec, coins)
        t0 = time.perf_counter()
        n = sum(len(c) for c in src.chunks(65_536))
        best = min(best, time.perf_counter() - t0)
        stats = src.stats.to_dict()
    return n / best, stats


def bench_recorder(events: np.ndarray, tmp: Path, coins: tuple[str, ...]) -> dict[str, float]:
    best = float("inf")
    for i in range(2):
        d = tmp / f"cat{i}"
        w = CatalogWriter(d, coins)
        t0 = time.perf_counter()
        for part in np.array_split(events, max(1, len(events) // 5000)):  # one flush per ~5,000 events
            w.add(MARKET, part)
            w.flush()
        best = min(best, time.perf_counter() - t0)
    size = sum(f.bytes for f in files(d))
    return {"events": len(events), "events_per_s": len(events) / best, "bytes_per_event": size / len(events),
            "files": len(files(d))}


def bench_drain(events: np.ndarray) -> float:
    """ns per event of the recorder's ring drain (risk/recorder.py) on a real md ring."""
    from appliance.ipc import byte_rows, ring  # noqa: PLC0415 - a tool: imported where used
    from appliance.risk.recorder import _Tap
    from shm_layout import InstanceMemory, records

    inst = f"benchrec{os.getpid()}"
    InstanceMemory.unlink_all(inst)
    mem = InstanceMemory.create(inst, lock=False)
    try:
        seg = mem.md
        tap = _Tap(seg, records.MD_EVENT, from_start=True)
        ev = np.ascontiguousarray(events[: len(seg.rows) // 2])
        ring.publish_many(seg.ring_words, seg.seqs, seg.rows, byte_rows(ev), 0, len(ev), 1)
        tap.drain()  # compile
        best = float("inf")
        for _ in range(5):
            ring.publish_many(seg.ring_words, seg.seqs, seg.rows, byte_rows(ev), 0, len(ev), 1)
            t0 = time.perf_counter_ns()
            got, _ = tap.drain()
            best = min(best, (time.perf_counter_ns() - t0) / max(len(got), 1))
        return best
    finally:
        mem.close()
        InstanceMemory.unlink_all(inst)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    ap.add_argument("--repeat", type=int, default=400, help="repeats of the capture's books and trades")
    ap.add_argument("--ctx-coins", type=int, default=100, help="coins a minute in the asset_ctxs day")
    ap.add_argument("--binance-events", type=int, default=50_000)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        names = {"l2book": "market_data_20250126_19_l2Book_BTC.lz4",
                 "asset_ctxs": "asset_ctxs_20250101.csv.lz4", "node_trades": "node_trades_19.lz4",
                 "node_fills": "node_fills_19.lz4",
                 "blocks": "node_fills_by_block_19.lz4"}
        for kind, lines in archive_lines(a.data, a.repeat, a.ctx_coins).items():
            p = tmp / names[kind]
            write_lz4_lines(p, lines)
            r, st = rate(f"replay:{p}", ("BTC",))
            out[kind] = {"file": names[kind], "lines": st["lines"], "events": st["events"],
                         "malformed": st["malformed"], "skipped": st["skipped"], "merged": st["merged"],
                         "lz4_bytes": p.stat().st_size, "events_per_s": round(r)}
            print(f"{kind:<12} {st['lines']:>9,} lines {st['events']:>9,} events "
                  f"{p.stat().st_size / 1e6:7.2f} MB lz4  {r / 1e3:8.1f} k events/s", flush=True)
        hl = concat_events(list(open_source(f"replay:{a.data / 'hyperliquid' / 'btc_ws_20250126.gz'}",
                                            ("BTC",)).chunks(65_536)))
        bn = concat_events(list(open_source(f"replay:{a.data / 'binance_usdm' / 'btcusdt_20240808.gz'}",
                                            ("BTC",)).chunks(65_536)))[: a.binance_events]
        for name, ev in (("recorder_hl_btc", hl), ("recorder_binance_btc", bn)):
            r = bench_recorder(ev, tmp, ("BTC",))
            out[name] = r
            print(f"{name:<22} {r['events']:>9,} events  {r['events_per_s'] / 1e3:8.1f} k events/s written  "
                  f"{r['bytes_per_event']:7.1f} B/event  {r['files']} files", flush=True)
        out["drain_ns_per_event"] = round(bench_drain(bn), 1)
        print(f"ring drain (risk/recorder.py): {out['drain_ns_per_event']} ns/event")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
