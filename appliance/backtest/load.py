"""Market sources for the backtester: chunks of MD_EVENT, bounded in time.

A replay ends with its file; a synthetic market is infinite, so it is cut at
``duration_s`` of simulated time. ``load_events`` gathers a whole source into one
array (the benchmark times the loop on it, parsing excluded).

A replay trades the coin its file holds (``market_coin``): asked for another, it is an
error, not a silent run on nothing. When it ends, ``checked_chunks`` holds it to
``source_stats.check_replay``: no events, or too many malformed lines, is an error
that names the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from appliance.config.schema import FeedConfig
from appliance.feed.events import concat_events
from appliance.feed.source_stats import check_replay
from appliance.feed.sources import MarketSource, ReplayOptions, open_source, replay_coins
from shm_layout.records import MD_EVENT


def open_market(spec: str, coin: str, seed: int, feed_cfg: FeedConfig | None = None
                ) -> MarketSource:
    """``open_source`` for one coin; raises ValueError with the reason. The random
    walk (``synthetic``, ``synthetic:walk``) takes its options from ``feed_cfg``, a
    replay its ``replay_*``."""
    kw = {}
    if feed_cfg is not None and spec.strip() in ("synthetic", "synthetic:walk"):
        kw = dict(sigma_bps_per_sqrt_s=feed_cfg.synthetic_sigma_bps_per_sqrt_s,
                  start_px=feed_cfg.synthetic_start_px, tick_px=feed_cfg.synthetic_tick_px,
                  events_per_s=feed_cfg.synthetic_events_per_s)
    replay = ReplayOptions.from_config(feed_cfg) if feed_cfg is not None else None
    return open_source(spec, (coin,), seed=seed, replay=replay, **kw)


def market_coin(spec: str, coin: str | None, config_coins: Sequence[str]) -> str:
    """The coin to simulate. A replay's own when ``coin`` is None (ValueError when the
    file holds several and the config's first is not one of them); ``coin`` when given,
    and then a replay that does not hold it is a ValueError. A synthetic market: ``coin``,
    else the config's first."""
    if not is_finite_source(spec):
        return coin if coin is not None else config_coins[0]
    found = replay_coins(spec)
    if coin is not None:
        if found and coin not in found:
            raise ValueError(f"{spec} holds {', '.join(found)}, not {coin}: drop --coin to "
                             f"replay {found[0]}, or replay a capture of {coin}")
        return coin
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"{spec}: its first frames name no coin; give --coin")
    if config_coins[0] in found:
        return config_coins[0]
    raise ValueError(f"{spec} holds {', '.join(found)}: choose one with --coin")


def checked_chunks(source: MarketSource, chunks: Iterable[np.ndarray],
                   feed_cfg: FeedConfig | None, coin: str) -> Iterator[np.ndarray]:
    """``chunks``, then the replay's check (``source_stats.check_replay``) once they end:
    a ValueError naming the reason when it read nothing usable or too much malformed."""
    yield from chunks
    f = feed_cfg if feed_cfg is not None else FeedConfig()
    check_replay(source.stats, source.name, f.replay_max_malformed_frac,
                 f.replay_allow_malformed, why_no_events=f"coin {coin} asked for")


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


def load_events(spec: str, coin: str | None = "BTC", seed: int = 0,
                duration_s: float | None = None, chunk_events: int = 65_536,
                feed_cfg: FeedConfig | None = None) -> tuple[np.ndarray, MarketSource]:
    """Every event of a source as one MD_EVENT array, and the source (for its stats).
    ``coin`` None: a replay's own coin (``market_coin``). A whole replay is checked
    (``checked_chunks``)."""
    coin = market_coin(spec, coin, ("BTC",))
    source = open_market(spec, coin, seed, feed_cfg)
    if duration_s is None and not is_finite_source(spec):
        raise ValueError(f"{spec!r} is infinite: give duration_s")
    chunks = bounded_chunks(source, chunk_events, duration_s)
    if is_finite_source(spec) and duration_s is None:
        chunks = checked_chunks(source, chunks, feed_cfg, coin)
    events = concat_events(list(chunks))
    return events, source
