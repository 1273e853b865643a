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
clocks, taken per sample. The strategy stage is also cut in two where the MarketParams
behind the ladder is still the one in its block when the ladder is read (its source is
the ladder's; measurement only, the gateway plans from the ladder alone):

    strategy_estimator   MD_EVENT published -> MarketParams published (the estimator's
                         wake-up and its fold of the events)
    strategy_quote       MarketParams published -> the quote's ladder stamp (its wake-up
                         and reads; the ladder is stamped before its kernel computes it)

Every batch with a known source is a sample (``samples``, ``stages``). Those planned
when their ladder was read are also kept apart (``ladder_caused``): a replan after a
fill, a reject, an unknown fate or a deferral by the requote pacer reuses the ladder's
source, so its plan_queue holds that wait (seconds after a start), not the path's.
"""

from __future__ import annotations

import time

import numpy as np

from appliance.ipc import byte_rows, seqlock
from appliance.runtime import latency
from shm_layout import records

T2W_KEEP = 4096
LADDERS_KEPT = 256  # ladders read whose orders may still be on their way out
STAGES = ("feed", "strategy", "to_gateway", "plan_queue", "sign", "to_socket")
STRATEGY_PARTS = ("strategy_estimator", "strategy_quote")  # the strategy stage, cut in two
SEQLOCK_TRIES = 1_000


def _quantiles_us(xs: list[int]) -> dict:
    """p50, p99 (µs) and the count, one sort (the status file is written every second)."""
    if not xs:
        return {"p50": None, "p99": None, "n": 0}
    s = sorted(xs)
    n = len(s)
    return {"p50": round(s[int(0.5 * n)] / 1e3, 1), "p99": round(s[min(n - 1, int(0.99 * n))] / 1e3, 1),
            "n": n}


class TickToWire:
    def __init__(self, md_records: np.ndarray, slot: np.void | None = None, params_block=None) -> None:
        """``md_records``: the md ring's record array (looked up by ``pub_mono_ns``);
        ``slot``: the gateway's control slot, whose histogram counts every sample;
        ``params_block``: the MarketParams seqlock block (None: strategy not cut in two)."""
        self.md_records = md_records
        self.slot = slot
        self.params_block = params_block
        self._params = np.zeros(1, records.MARKET_PARAMS)
        self._params_u8 = byte_rows(self._params)
        names = STAGES + STRATEGY_PARTS
        self.samples_ns: list[int] = []
        self.stage_ns: dict[str, list[int]] = {s: [] for s in names}
        self.caused_ns: list[int] = []  # the samples of batches planned when their ladder was read
        self.caused_stage_ns: dict[str, list[int]] = {s: [] for s in names}
        self.batch_fresh = False  # set by the step before a flush: its plans are ladder-caused
        self._ladders: dict[int, tuple[int, int, int]] = {}  # src pub_mono_ns -> (ladder, read, params)

    def ladder_read(self, src_pub_mono_ns: int, ladder_mono_ns: int, read_mono_ns: int,
                    coin: int = -1) -> None:
        """The gateway read a new ladder of ``coin`` caused by md event ``src_pub_mono_ns``."""
        if src_pub_mono_ns and src_pub_mono_ns not in self._ladders:
            self._ladders[src_pub_mono_ns] = (ladder_mono_ns, read_mono_ns,
                                              self._params_mono_ns(coin, src_pub_mono_ns))
            if len(self._ladders) > LADDERS_KEPT:
                del self._ladders[next(iter(self._ladders))]  # the oldest (insertion order)

    def _params_mono_ns(self, coin: int, src_pub_mono_ns: int) -> int:
        """When the MarketParams of ``coin`` made from that md event was published (0: its
        block holds another one by now, or it is not read)."""
        b = self.params_block
        if b is None or coin < 0:
            return 0
        if seqlock.read_block(b.seqs, b.rows, coin, self._params_u8[0], SEQLOCK_TRIES) <= 0:
            return 0
        p = self._params[0]
        return int(p["update_mono_ns"]) if int(p["src_pub_mono_ns"]) == src_pub_mono_ns else 0

    def sample(self, src_pub_mono_ns: int, wire_ns: int, sign_mono_ns: tuple[int, int] | None = None) -> None:
        recs = self.md_records
        idx = np.flatnonzero(recs["pub_mono_ns"] == src_pub_mono_ns)
        if not len(idx):
            return
        recv = int(recs["recv_ts_ns"][idx[0]])
        if recv <= 0:
            return
        self.samples_ns.append(wire_ns - recv)
        if self.batch_fresh:
            self.caused_ns.append(wire_ns - recv)
        if self.slot is not None:
            latency.record(self.slot["lat_hist"], wire_ns - recv)
            self.slot["lat_count"] += 1
        lad = self._ladders.get(src_pub_mono_ns)
        if lad is not None and sign_mono_ns is not None:
            offset = time.time_ns() - time.monotonic_ns()  # realtime = monotonic + offset
            ladder, read, params = lad
            t0, t1 = sign_mono_ns
            stamps = (recv - offset, src_pub_mono_ns, ladder, read, t0, t1, wire_ns - offset)
            parts = zip(STAGES, stamps, stamps[1:], strict=False)
            if params:
                parts = (*parts, (STRATEGY_PARTS[0], src_pub_mono_ns, params),
                         (STRATEGY_PARTS[1], params, ladder))
            for name, a, b in parts:
                self.stage_ns[name].append(b - a)
                if self.batch_fresh:
                    self.caused_stage_ns[name].append(b - a)
        for xs in (self.samples_ns, self.caused_ns, *self.stage_ns.values(), *self.caused_stage_ns.values()):
            if len(xs) > T2W_KEEP:
                del xs[: len(xs) - T2W_KEEP // 2]

    def summary(self) -> dict:
        """p50 and p99 in µs, the count, the last 2000 samples in µs, and p50/p99 per
        stage; the same for the ladder-caused batches under ``ladder_caused``."""
        t2w, caused = self.samples_ns, self.caused_ns
        return {**_quantiles_us(t2w), "samples": _us(t2w[-2000:]), "stages": _stages(self.stage_ns),
                "ladder_caused": {**_quantiles_us(caused), "samples": _us(caused[-2000:]),
                                  "stages": _stages(self.caused_stage_ns)}}


def _us(xs: list[int]) -> list[float]:
    return [round(x / 1e3, 1) for x in xs]


def _stages(stage_ns: dict[str, list[int]]) -> dict:
    return {s: _quantiles_us(xs) for s, xs in stage_ns.items()}
