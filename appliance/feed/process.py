"""The feed process: a market source -> the md ring, at recorded pace or faster.

A source (``sources/``) yields normalized MD_EVENT chunks; this loop stamps
``pub_mono_ns`` and publishes each event when it is due: (recv_ts - first recv_ts)
/ speed after the start, or at once with speed 0. A replay that ends starts again
with its timestamps shifted past the last pass, so time never runs backwards.
The Hyperliquid client replaces the source with the live protocol behind the
same seam.
"""

import time

import numpy as np

from appliance.ipc import byte_rows, ring
from appliance.runtime.context import ProcessContext
from shm_layout.constants import EV_BBO, EV_BOOK, PROC_ESTIMATOR, PROC_GATEWAY

from .sources import open_source

LOOP_GAP_NS = 1_000_000_000  # between the end of a replay pass and the next


def source_from_config(cfg, resume=None):
    """The configured source. ``resume`` (the last event in the ring, after a
    restart) continues a synthetic market from its last price and time."""
    f = cfg.feed
    if not f.source.startswith("synthetic"):
        return open_source(f.source, cfg.appliance.coins)
    seed, start_px, start_ts_ns = f.seed, f.synthetic_start_px, None
    if resume is not None:
        last_ev, last_mid = resume
        seed = f.seed + int(last_ev["seq"])  # a fresh path from where the last one stopped
        start_px = last_mid or start_px
        start_ts_ns = int(last_ev["exch_ts_ns"]) + 1_000_000
    kw = {} if start_ts_ns is None else {"start_ts_ns": start_ts_ns}
    return open_source(
        f.source, cfg.appliance.coins, seed=seed,
        sigma_bps_per_sqrt_s=f.synthetic_sigma_bps_per_sqrt_s, start_px=start_px,
        tick_px=f.synthetic_tick_px, events_per_s=f.synthetic_events_per_s, **kw,
    )


def last_in_ring(md, scan: int = 4096):
    """(last event, mid of the last book before it) from the md ring, or None if
    nothing was ever published: how a restarted feed finds where it was."""
    head = int(ring.head(md.ring_words))
    if head == 0:
        return None
    mask = md.spec.n_records - 1
    last = md.records[head & mask].copy()
    mid = 0.0
    for n in range(head, max(0, head - scan), -1):
        ev = md.records[n & mask]
        if ev["kind"] in (EV_BOOK, EV_BBO) and ev["n_bids"] and ev["n_asks"] and ev["coin"] == 0:
            mid = 0.5 * (float(ev["bid_px"][0]) + float(ev["ask_px"][0]))
            break
    return last, mid


class Pacer:
    """Hands out the events that are due, across chunks and replay passes."""

    def __init__(self, source, speed: float, loop: bool, resume_after_ns: int = 0):
        self.source = source
        self.resume_after_ns = resume_after_ns  # skip what an earlier run published
        self.speed = speed
        self.loop = loop
        self.passes = 0
        self.finished = False
        self._shift_ns = 0
        self._last_ts = 0
        self._t0_src = None
        self._t0_mono = 0
        self._new_pass()

    def _new_pass(self) -> None:
        self._chunks = self.source.chunks()
        self._chunk = None
        self._pos = 0
        self.passes += 1

    def _next_chunk(self) -> bool:
        for chunk in self._chunks:
            if len(chunk):
                if self._shift_ns:
                    chunk = chunk.copy()
                    chunk["exch_ts_ns"] += self._shift_ns
                    chunk["recv_ts_ns"] += self._shift_ns
                self._chunk, self._pos = chunk, 0
                return True
        if not self.loop:
            self.finished = True
            return False
        first = None
        self._new_pass()
        for chunk in self._chunks:  # peek the first event time of the new pass
            if len(chunk):
                first = int(chunk["recv_ts_ns"][0])
                self._shift_ns = self._last_ts + LOOP_GAP_NS - first
                chunk = chunk.copy()
                chunk["exch_ts_ns"] += self._shift_ns
                chunk["recv_ts_ns"] += self._shift_ns
                self._chunk, self._pos = chunk, 0
                return True
        self.finished = True  # an empty source
        return False

    def due(self) -> tuple[np.ndarray | None, int, int]:
        """(chunk, start, stop): the events due now, possibly none."""
        if self.finished:
            return None, 0, 0
        exhausted = self._chunk is None or self._pos >= len(self._chunk)
        if exhausted and not self._next_chunk():
            return None, 0, 0
        chunk, start = self._chunk, self._pos
        ts = chunk["recv_ts_ns"]
        if self.resume_after_ns:
            skip = int(np.searchsorted(ts, self.resume_after_ns, side="right"))
            if skip > start:
                self._last_ts = int(ts[skip - 1])
                self._pos = start = skip
            if start >= len(chunk):
                return None, 0, 0
            self.resume_after_ns = 0
        if self._t0_src is None:
            self._t0_src = int(ts[start])
            self._t0_mono = time.monotonic_ns()
        if self.speed == 0:
            stop = len(chunk)
        else:
            now_src = self._t0_src + (time.monotonic_ns() - self._t0_mono) * self.speed
            stop = int(np.searchsorted(ts, now_src, side="right"))
            stop = max(stop, start)
        self._pos = stop
        if stop > start:
            self._last_ts = int(ts[stop - 1])
        return chunk, start, stop


def main(argv=None) -> int:
    ctx = ProcessContext("feed", argv, consumers=(PROC_ESTIMATOR, PROC_GATEWAY), timer_driven=True)
    if ctx.cfg.gateway.venue == "hyperliquid":  # the live protocol replaces the source
        from .hl_live import run_live

        return run_live(ctx)
    md = ctx.mem.md
    resume = last_in_ring(md)
    synthetic = ctx.cfg.feed.source.startswith("synthetic")
    try:
        source = source_from_config(ctx.cfg, resume if synthetic else None)
    except ValueError as e:
        ctx.log.error("cannot open market source: %s", e)
        return 2
    resume_after = 0 if (resume is None or synthetic) else int(resume[0]["recv_ts_ns"])
    if resume is not None:
        ctx.log.info("restarted: continuing after event %d", int(resume[0]["seq"]))
    pacer = Pacer(source, ctx.cfg.feed.speed, ctx.cfg.feed.loop, resume_after)
    reported = {"malformed": 0}
    ctx.log.info("market source %s, speed %s", getattr(source, "name", ctx.cfg.feed.source),
                 ctx.cfg.feed.speed)

    def step() -> int:
        chunk, start, stop = pacer.due()
        if stop <= start:
            return 0
        now = time.monotonic_ns()
        chunk["pub_mono_ns"][start:stop] = now
        rows = byte_rows(chunk)
        ring.publish_many(md.ring_words, md.seqs, md.rows, rows, start, stop, now)
        bad = source.stats.malformed
        if bad > reported["malformed"]:
            ctx.count_error(bad - reported["malformed"])
            reported["malformed"] = bad
        return stop - start

    return ctx.run(step)
