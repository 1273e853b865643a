"""Tick to wire: from the feed's receive time of the market event behind a ladder
(its MD_EVENT ``recv_ts_ns``) to the moment the order bytes were written to the
socket. Each sample goes into the gateway's control slot histogram (``lat_hist``,
``runtime/latency.py``), which the metrics exporter publishes as
``mm_tick_to_wire_seconds``; the last ones are kept for the status file
(``gateway.json``).
"""

from __future__ import annotations

import numpy as np

from appliance.runtime import latency

T2W_KEEP = 4096


class TickToWire:
    def __init__(self, md_records: np.ndarray, slot: np.void | None = None) -> None:
        """``md_records``: the md ring's record array (looked up by ``pub_mono_ns``);
        ``slot``: the gateway's control slot, whose histogram counts every sample."""
        self.md_records = md_records
        self.slot = slot
        self.samples_ns: list[int] = []

    def sample(self, src_pub_mono_ns: int, wire_ns: int) -> None:
        recs = self.md_records
        idx = np.flatnonzero(recs["pub_mono_ns"] == src_pub_mono_ns)
        if len(idx):
            recv = int(recs["recv_ts_ns"][idx[0]])
            if recv > 0:
                self.samples_ns.append(wire_ns - recv)
                if self.slot is not None:
                    latency.record(self.slot["lat_hist"], wire_ns - recv)
                    self.slot["lat_count"] += 1
                if len(self.samples_ns) > T2W_KEEP:
                    del self.samples_ns[: T2W_KEEP // 2]

    def summary(self) -> dict:
        """p50 and p99 in µs, the count and the last 2000 samples in µs."""
        t2w = sorted(self.samples_ns)
        q = (lambda f: round(t2w[min(len(t2w) - 1, int(f * len(t2w)))] / 1e3, 1)) if t2w else (lambda f: None)
        return {"p50": q(0.5), "p99": q(0.99), "n": len(t2w),
                "samples": [round(x / 1e3, 1) for x in self.samples_ns[-2000:]]}
