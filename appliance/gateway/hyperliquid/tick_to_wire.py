"""Tick to wire: from the feed's receive time of the market event behind a ladder
(its MD_EVENT ``recv_ts_ns``) to the moment the order bytes were written to the
socket. Each sample goes into the gateway's control slot histogram (``lat_hist``,
``runtime/latency.py``), which the metrics exporter publishes as
``mm_tick_to_wire_seconds``; the last ones are kept for the status file
(``gateway.json``), with the path cut into stages where their stamps are known:

    feed          frame received (CLOCK_REALTIME) -> MD_EVENT published (monotonic)
    strategy      MD_EVENT published -> the ladder it caused published (estimator + quote)
    to_gateway    ladder published -> the gateway read it
    plan_queue    read -> signing began (planning, pacing, the batch window, and waiting
                  for the answers to requests sent before it: the client is synchronous)
    sign          signing the action
    to_socket     signed -> the bytes written

Realtime and monotonic stamps meet through this process's offset between the two
clocks, taken per sample.
"""

from __future__ import annotations

import time

import numpy as np

from appliance.runtime import latency

T2W_KEEP = 4096
LADDERS_KEPT = 256  # ladders read whose orders may still be on their way out
STAGES = ("feed", "strategy", "to_gateway", "plan_queue", "sign", "to_socket")


def _quantile_us(xs: list[int], f: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(f * len(s)))] / 1e3, 1)


class TickToWire:
    def __init__(self, md_records: np.ndarray, slot: np.void | None = None) -> None:
        """``md_records``: the md ring's record array (looked up by ``pub_mono_ns``);
        ``slot``: the gateway's control slot, whose histogram counts every sample."""
        self.md_records = md_records
        self.slot = slot
        self.samples_ns: list[int] = []
        self.stage_ns: dict[str, list[int]] = {s: [] for s in STAGES}
        self._ladders: dict[int, tuple[int, int]] = {}  # src pub_mono_ns -> (ladder, read)

    def ladder_read(self, src_pub_mono_ns: int, ladder_mono_ns: int, read_mono_ns: int) -> None:
        """The gateway read a new ladder caused by md event ``src_pub_mono_ns``."""
        if src_pub_mono_ns and src_pub_mono_ns not in self._ladders:
            self._ladders[src_pub_mono_ns] = (ladder_mono_ns, read_mono_ns)
            if len(self._ladders) > LADDERS_KEPT:
                del self._ladders[next(iter(self._ladders))]  # the oldest (insertion order)

    def sample(self, src_pub_mono_ns: int, wire_ns: int, sign_mono_ns: tuple[int, int] | None = None) -> None:
        recs = self.md_records
        idx = np.flatnonzero(recs["pub_mono_ns"] == src_pub_mono_ns)
        if not len(idx):
            return
        recv = int(recs["recv_ts_ns"][idx[0]])
        if recv <= 0:
            return
        self.samples_ns.append(wire_ns - recv)
        if self.slot is not None:
            latency.record(self.slot["lat_hist"], wire_ns - recv)
            self.slot["lat_count"] += 1
        lad = self._ladders.get(src_pub_mono_ns)
        if lad is not None and sign_mono_ns is not None:
            offset = time.time_ns() - time.monotonic_ns()  # realtime = monotonic + offset
            ladder, read = lad
            t0, t1 = sign_mono_ns
            stamps = (recv - offset, src_pub_mono_ns, ladder, read, t0, t1, wire_ns - offset)
            for name, a, b in zip(STAGES, stamps, stamps[1:], strict=False):
                self.stage_ns[name].append(b - a)
        if len(self.samples_ns) > T2W_KEEP:
            del self.samples_ns[: T2W_KEEP // 2]
            for xs in self.stage_ns.values():
                del xs[: max(0, len(xs) - T2W_KEEP // 2)]

    def summary(self) -> dict:
        """p50 and p99 in µs, the count, the last 2000 samples in µs, and p50/p99 per stage."""
        t2w = self.samples_ns
        return {"p50": _quantile_us(t2w, 0.5), "p99": _quantile_us(t2w, 0.99), "n": len(t2w),
                "samples": [round(x / 1e3, 1) for x in t2w[-2000:]],
                "stages": {s: {"p50": _quantile_us(xs, 0.5), "p99": _quantile_us(xs, 0.99), "n": len(xs)}
                           for s, xs in self.stage_ns.items()}}
