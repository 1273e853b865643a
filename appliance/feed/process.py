"""The feed process: a market source -> the md ring, at recorded pace or faster.

A source (``sources/``) yields normalized MD_EVENT chunks; this loop stamps
``pub_mono_ns`` and publishes each event when the pacer (``pacer.py``) says it is
due.
The Hyperliquid client replaces the source with the live protocol behind the
same seam.
"""

import time

from appliance.ipc import byte_rows, ring
from appliance.runtime.context import ProcessContext
from shm_layout.constants import EV_BBO, EV_BOOK, PROC_ESTIMATOR, PROC_GATEWAY

from .hl_live import run_live
from .md_publish import publish_md_many
from .pacer import Pacer
from .sources import ReplayOptions, open_source


def source_from_config(cfg, resume=None):
    """The configured source. ``resume`` (the last event in the ring, after a
    restart) continues a synthetic market from its last price and time."""
    f = cfg.feed
    if not f.source.startswith("synthetic"):
        return open_source(f.source, cfg.appliance.coins, replay=ReplayOptions.from_config(f))
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
            mid = 0.5 * (float(ev["lv"]["bid_px"][0]) + float(ev["lv"]["ask_px"][0]))
            break
    return last, mid


def main(argv=None) -> int:
    ctx = ProcessContext("feed", argv, consumers=(PROC_ESTIMATOR, PROC_GATEWAY), timer_driven=True)
    if ctx.cfg.gateway.venue == "hyperliquid":  # the live protocol replaces the source
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
        publish_md_many(md.ring_words, md.seqs, md.rows, rows, start, stop, now)
        bad = source.stats.malformed
        if bad > reported["malformed"]:
            ctx.count_error(bad - reported["malformed"])
            reported["malformed"] = bad
        return stop - start

    return ctx.run(step)
