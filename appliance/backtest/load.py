"""Market sources for the backtester: chunks of MD_EVENT, bounded in time.

A replay ends with its file; a synthetic market is infinite, so it is cut at
``duration_s`` of simulated time. ``load_events`` gathers a whole source into one
array (the benchmark times the loop on it, parsing excluded).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from appliance.config.schema import FeedConfig
from appliance.feed.events import concat_events
from appliance.feed.sources import MarketSource, open_source
from shm_layout.records import MD_EVENT


def open_market(spec: str, coin: str, seed: int, feed_cfg: FeedConfig | None = None
                ) -> MarketSource:
    """``open_source`` for one coin; raises ValueError with the reason. The random
    walk (``synthetic``, ``synthetic:walk``) takes its options from ``feed_cfg``."""
    kw = {}
    if feed_cfg is not None and spec.strip() in ("synthetic", "synthetic:walk"):
        kw = dict(sigma_bps_per_sqrt_s=feed_cfg.synthetic_sigma_bps_per_sqrt_s,
                  start_px=feed_cfg.synthetic_start_px, tick_px=feed_cfg.synthetic_tick_px,
                  events_per_s=feed_cfg.synthetic_events_per_s)
    return open_source(spec, (coin,), seed=seed, **kw)


def as_md_events(chunk: np.ndarray) -> np.ndarray:
    """``chunk`` with exactly the MD_EVENT dtype. ``np.concatenate`` of padded
    structured arrays drops the tail padding (880-byte records instead of 896),
    which the njit loop would see as another type (and compile again)."""
    if chunk.dtype == MD_EVENT and chunk.dtype.itemsize == MD_EVENT.itemsize:
        return chunk
    out = np.zeros(chunk.shape[0], MD_EVENT)
    out[...] = chunk
    return out


def is_finite_source(spec: str) -> bool:
    return spec.strip().startswith("replay:")


def bounded_chunks(source: MarketSource, max_events: int, duration_s: float | None
                   ) -> Iterator[np.ndarray]:
    """The source's chunks, cut ``duration_s`` after the first event (None: no cut)."""
    end_ns = None
    for chunk in source.chunks(max_events):
        if chunk.shape[0] == 0:
            continue
        chunk = as_md_events(chunk)
        if duration_s is not None:
            if end_ns is None:
                end_ns = int(chunk["recv_ts_ns"][0]) + int(duration_s * 1e9)
            t = chunk["recv_ts_ns"]
            if t[-1] >= end_ns:
                k = int(np.searchsorted(t, end_ns, side="left"))
                if k:
                    yield chunk[:k]
                return
        yield chunk


def load_events(spec: str, coin: str = "BTC", seed: int = 0, duration_s: float | None = None,
                chunk_events: int = 65_536) -> tuple[np.ndarray, MarketSource]:
    """Every event of a source as one MD_EVENT array, and the source (for its stats)."""
    source = open_market(spec, coin, seed)
    if duration_s is None and not is_finite_source(spec):
        raise ValueError(f"{spec!r} is infinite: give duration_s")
    parts = list(bounded_chunks(source, chunk_events, duration_s))
    events = concat_events(parts)
    return events, source
