"""The market driver: a MarketSource paced in real time x speed, looping at the end,
fed into the venue state (engine + market-data fan-out)."""

from __future__ import annotations

import asyncio
import logging

from appliance.feed.pacer import Pacer
from appliance.feed.sources import open_source

from .clock import now_ms

log = logging.getLogger(__name__)

TICK_S = 0.005  # how often due events are looked for
MAX_EVENTS_PER_TICK = 20_000  # speed 0 or a long stall: yield to requests between slices


def open_market(settings):
    spec = settings.source
    kind, _, arg = spec.partition(":")
    if kind == "synthetic" and arg in ("", "walk") and settings.synthetic_kw:
        return open_source(spec, settings.coins, seed=settings.seed, **settings.synthetic_kw)
    return open_source(spec, settings.coins, seed=settings.seed)


def market_pacer(state, source) -> Pacer:
    return Pacer(source, state.s.speed, loop=True)


def feed_due(state, pacer: Pacer) -> int:
    """Feed the events now due (at most MAX_EVENTS_PER_TICK); returns how many. Called
    once before the port opens, so the source's and the book's kernels are compiled
    before anyone asks."""
    fed = 0
    while fed < MAX_EVENTS_PER_TICK:
        chunk, start, stop = pacer.due(max_events=MAX_EVENTS_PER_TICK - fed)
        if chunk is None or stop <= start:
            break
        try:
            state.on_market(chunk[start:stop])
        except Exception:  # a bad event must not stop the market
            log.exception("market events %d..%d failed", start, stop)
        fed += stop - start
    return fed


async def run_market(state, pacer: Pacer) -> None:
    while True:
        fed = feed_due(state, pacer)
        try:
            state.run_scheduled_cancels(now_ms())
        except Exception:
            log.exception("scheduled cancel failed")
        await asyncio.sleep(TICK_S if fed < MAX_EVENTS_PER_TICK else 0)
