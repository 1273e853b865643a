"""Replay of the recorder's catalog (``appliance.catalog``): the market events the feed
published, read back from ``<catalog>/market/...`` in the order they were published.

``replay:DIR`` takes the catalog's root or any directory under it (a day, a coin);
``replay:FILE.parquet`` one of its files. Recorded ring losses (``mm.lost_events``)
are counted in ``gaps``; every row is one event (``lines`` = rows read).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from appliance.catalog import MARKET, files, market_events

from ..events import DEFAULT_CHUNK_EVENTS, SourceStats, check_max_events
from .base import check_coins


class CatalogReplaySource:
    """A finite MarketSource over the market events of a recorder catalog."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str]) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.name = f"replay:catalog:{self.path}"
        self.stats = SourceStats()

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        st = self.stats
        st.reset()
        found = files(self.path, MARKET)
        st.lines = sum(f.rows for f in found)
        st.gaps = sum(1 for f in found if f.lost_events)
        ev = market_events(self.path, self.coins)
        st.skipped = st.lines - len(ev)  # rows of coins not asked for
        for i in range(0, len(ev), max_events):
            chunk = ev[i : i + max_events]
            st.events += len(chunk)
            yield chunk
