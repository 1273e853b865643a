"""Replay of the recorder's catalog (``appliance.catalog``): the market events the feed
published, read back from ``<catalog>/market/...`` in the order they were published.

``replay:DIR`` takes the catalog's root or any directory under it (a day, a coin);
``replay:FILE.parquet`` one of its files. Read a group of files at a time (one flush's),
so a long recording does not have to fit in memory. Files that carry recorded ring
losses (``mm.lost_events``) are counted in ``gaps``; ``lines`` are rows read;
``skipped`` rows of other coins and rows a restarted recorder wrote twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from appliance.catalog import MARKET, files
from appliance.catalog.reader import iter_market_events

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
        last_recv = 0
        for ev, rows in iter_market_events(self.path, self.coins):
            st.lines += rows
            st.skipped += rows - len(ev)  # other coins, and rows recorded twice
            if not len(ev):
                continue
            # groups are cut on venue time: keep the receive clock from going back
            recv = np.maximum.accumulate(np.maximum(ev["recv_ts_ns"], last_recv))
            ev["recv_ts_ns"] = recv
            last_recv = int(recv[-1])
            for i in range(0, len(ev), max_events):
                chunk = ev[i : i + max_events]
                st.events += len(chunk)
                yield chunk
        st.gaps = sum(1 for f in files(self.path, MARKET) if f.lost_events and f.coin in self.coins)
