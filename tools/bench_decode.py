"""``l2Book`` frames decoded per second: our decoder vs the SDK's json path.

Input: the ``l2Book`` frames of the recorded capture (``btc_ws_20250126.gz``,
20 levels a side), cycled until ``frames`` have been decoded, in one process:

* ``ours``: ``HlDecoder.feed(bytes, recv_ns)`` with orjson, written into a reused
  MD_EVENT buffer (``ReusableEventWriter``), committed per frame to a no-op sink:
  numbers parsed, validated and in the record the md ring takes.
* ``sdk``: what ``hyperliquid.websocket_manager.WebsocketManager.on_message``
  does per frame before a callback: ``json.loads(str)`` (building its dicts)
  and ``ws_msg_to_identifier``. Prices and sizes are still strings after it.
* ``sdk_floats`` (extra): the SDK path plus turning the 40 levels into float
  (px, sz, n) tuples: the least a user of the SDK must add to get numbers.

The ratio ``ours / sdk`` is the headline figure. Each method runs ``repeats``
times; the best run counts (the machine is shared and noisy).
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import time
from pathlib import Path

DEFAULT_CAPTURE = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hyperliquid"
                   / "btc_ws_20250126.gz")


def load_l2book_frames(path: str | os.PathLike[str]) -> list[bytes]:
    out = []
    with gzip.open(path, "rb") as f:
        for ln in f:
            body = ln.strip().partition(b" ")[2]
            if body.startswith(b'{"channel":"l2Book"'):
                out.append(body)
    if not out:
        raise ValueError(f"no l2Book frames in {path}")
    return out


def _time_ours(frames: list[bytes], n: int) -> float:
    # Imported per side: timing one side never loads the other's modules.
    from appliance.feed.events import SourceStats
    from appliance.feed.hyperliquid_ws.decode import HlDecoder, ReusableEventWriter

    st = SourceStats()
    w = ReusableEventWriter(64, st, lambda buf, k: None)
    dec = HlDecoder(["BTC"], w, None, st)
    feed, commit, m = dec.feed, w.commit, len(frames)
    recv = time.time_ns()
    t0 = time.perf_counter()
    for i in range(n):
        feed(frames[i % m], recv)
        commit()
    dt = time.perf_counter() - t0
    if st.events != n or st.malformed:
        raise RuntimeError(f"decoder produced {st.events} events for {n} frames")
    return dt


def _time_sdk(frames: list[str], n: int, floats: bool) -> float:
    # Imported per side: timing one side never loads the other's modules.
    from hyperliquid.websocket_manager import ws_msg_to_identifier

    loads, m = json.loads, len(frames)
    t0 = time.perf_counter()
    for i in range(n):
        msg = loads(frames[i % m])
        ident = ws_msg_to_identifier(msg)
        if floats:
            bids, asks = msg["data"]["levels"]
            _ = ([(float(lv["px"]), float(lv["sz"]), lv["n"]) for lv in bids],
                 [(float(lv["px"]), float(lv["sz"]), lv["n"]) for lv in asks])
        if ident is None:
            raise RuntimeError("sdk path dropped a frame")
    return time.perf_counter() - t0


def run_decode_bench(frames: int = 50_000, repeats: int = 5, capture: str | None = None,
                     json_out: str | None = None) -> dict:
    path = capture or str(DEFAULT_CAPTURE)
    raw = load_l2book_frames(path)
    text = [b.decode() for b in raw]  # websocket-client hands the SDK str
    # warm up (imports, caches)
    _time_ours(raw, 2_000)
    _time_sdk(text, 2_000, False)
    best = {"ours": float("inf"), "sdk": float("inf"), "sdk_floats": float("inf")}
    for _ in range(repeats):  # interleaved so drift hits every method alike
        best["ours"] = min(best["ours"], _time_ours(raw, frames))
        best["sdk"] = min(best["sdk"], _time_sdk(text, frames, False))
        best["sdk_floats"] = min(best["sdk_floats"], _time_sdk(text, frames, True))
    rate = {k: frames / v for k, v in best.items()}
    result = {
        "frames": frames,
        "repeats": repeats,
        "capture": os.path.basename(path),
        "distinct_l2book_frames": len(raw),
        "mean_frame_bytes": sum(map(len, raw)) / len(raw),
        "frames_per_s": {k: round(v) for k, v in rate.items()},
        "us_per_frame": {k: round(1e6 / v, 3) for k, v in rate.items()},
        "ratio_ours_vs_sdk": round(rate["ours"] / rate["sdk"], 2),
        "ratio_ours_vs_sdk_floats": round(rate["ours"] / rate["sdk_floats"], 2),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
    }
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2) + "\n")
    return result


def render(r: dict) -> str:
    lines = [f"l2Book decode, {r['frames']} frames (best of {r['repeats']}), "
             f"{r['distinct_l2book_frames']} distinct frames of {r['capture']}, "
             f"{r['mean_frame_bytes']:.0f} B each",
             f"{'path':<12}{'frames/s':>12}{'us/frame':>10}"]
    for k, v in r["frames_per_s"].items():
        lines.append(f"{k:<12}{v:>12,}{r['us_per_frame'][k]:>10.2f}")
    lines.append(f"ours / sdk = {r['ratio_ours_vs_sdk']}x, "
                 f"ours / sdk_floats = {r['ratio_ours_vs_sdk_floats']}x")
    return "\n".join(lines)
