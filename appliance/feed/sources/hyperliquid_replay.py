"""Replay of a capture of Hyperliquid websocket frames.

Line format: ``<local receive time, ns> <frame JSON>``. Channels used:

* ``l2Book``: ``{"coin", "time" (ms), "levels": [bids, asks]}``, each level
  ``{"px": str, "sz": str, "n": int}``, best first, 20 a side -> one EV_BOOK.
* ``trades``: a list of ``{"coin", "side" ("B" buyer aggressor / "A"), "px", "sz",
  "time" (ms), "tid", ...}`` -> one EV_TRADE per trade.
* ``bbo``: ``{"coin", "time", "bbo": [bid level or null, ask level or null]}`` -> EV_BBO.

Other channels (subscription responses, pongs) are counted as ``skipped``.
Frames are decoded by ``appliance.feed.hyperliquid_ws.decode.HlDecoder``, the
decoder of the live client, so a frame decodes the same way live and replayed.

The first ``trades`` frame after a subscription replays older trades. Trades older
than the newest event time already emitted for their coin are dropped and counted
in ``stale_trades``, so the venue clock of a coin never moves backwards through a
trade; trades are also de-duplicated by ``tid``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from ..events import DEFAULT_CHUNK_EVENTS, EventWriter, SourceStats, check_max_events
from ..hyperliquid_ws.decode import HlDecoder
from .base import check_coins
from .capture import iter_capture


class HyperliquidReplaySource:
    """A finite MarketSource over a Hyperliquid websocket capture."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str]) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.name = f"replay:hyperliquid:{os.path.basename(self.path)}"
        self.stats = SourceStats()

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        self.stats = st = SourceStats()
        w = EventWriter(max_events, st)
        dec = HlDecoder(self.coins, w, None, st)
        for recv, body in iter_capture(self.path):
            st.lines += 1
            if recv < 0:
                st.malformed += 1
                continue
            dec.feed(body, recv)
            if w.ready:
                yield from w.take_ready()
        yield from w.flush()
