"""The feed's market-source seam: the ``MarketSource`` protocol and the coin list.

A market source turns a market (a recorded capture or a generator) into chunks of
normalized events: numpy arrays of ``shm_layout.records.MD_EVENT``, in time order.
The feed process copies them into the md ring and stamps ``seq`` and ``pub_mono_ns``;
a source leaves both 0. The backtester reads the same chunks without a ring.
Chunks are written with ``appliance.feed.events``; ``open_source`` (``spec.py``)
builds a source from a spec string.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from appliance.config.schema import FeedConfig
from shm_layout.constants import MAX_COINS

from ..events import DEFAULT_CHUNK_EVENTS, SourceStats


@dataclass(frozen=True)
class ReplayOptions:
    """How a replay reads a capture (``[feed] replay_*``; ``mmctl backtest`` options).

    A depth book without a REST snapshot is built from the diffs alone and trusted
    once both warm-up bounds are passed: ``book_warmup_diffs`` diffs applied and
    ``book_warmup_s`` seconds of receive time since the first. ``instrument``:
    ``FIELD=VALUE`` overrides of the instrument table (``sources/instruments.py``).
    """

    book_warmup_diffs: int = 100
    book_warmup_s: float = 5.0
    instrument: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, feed: FeedConfig) -> ReplayOptions:
        """``[feed] replay_*`` as a replay takes them."""
        return cls(book_warmup_diffs=feed.replay_book_warmup_diffs,
                   book_warmup_s=feed.replay_book_warmup_s,
                   instrument=tuple(feed.replay_instrument))

    def __post_init__(self) -> None:
        if self.book_warmup_diffs < 1:
            raise ValueError(f"book_warmup_diffs must be >= 1, got {self.book_warmup_diffs}")
        if not self.book_warmup_s >= 0.0:
            raise ValueError(f"book_warmup_s must be >= 0, got {self.book_warmup_s}")


@runtime_checkable
class MarketSource(Protocol):
    """Anything the feed can publish from.

    ``chunks`` yields MD_EVENT arrays of at most ``max_events`` records, in time
    order (``recv_ts_ns`` non-decreasing, the pacing clock). Replays are finite;
    synthetic markets are infinite. Each call starts a fresh pass from the
    beginning and resets ``stats``.
    """

    coins: tuple[str, ...]
    stats: SourceStats
    name: str

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]: ...


def check_coins(coins: Sequence[str]) -> tuple[str, ...]:
    """Validate the configured coin list; its order gives the ``coin`` index."""
    if isinstance(coins, str):
        raise ValueError(f"coins must be a sequence of names, not the string {coins!r}")
    out = tuple(str(c) for c in coins)
    if not out:
        raise ValueError("at least one coin must be configured")
    if len(out) > MAX_COINS:
        raise ValueError(f"{len(out)} coins configured; the layout holds at most {MAX_COINS}")
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate coins in {out}")
    return out
