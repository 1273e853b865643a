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
import orjson

from ..events import DEFAULT_CHUNK_EVENTS, EventWriter, SourceStats, check_max_events
from ..hyperliquid_ws.decode import HlDecoder
from .base import ReplayOptions, check_coins
from .capture import bad_line_reason, iter_capture
from .instruments import Instrument, instrument_for

# Lines read to name the coins of a capture.
HEAD_LINES = 256


class HyperliquidReplaySource:
    """A finite MarketSource over a Hyperliquid websocket capture."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str],
                 options: ReplayOptions | None = None) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.options = options or ReplayOptions()
        self.name = f"replay:hyperliquid:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        # Instrument facts are reported, not needed to read the frames (sizes are coin).
        self.instrument: Instrument | None = instrument_for(
            "hyperliquid", self.coins[0], self.coins[0], self.options.instrument)

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        check_max_events(max_events)
        st = self.stats
        st.reset()
        w = EventWriter(max_events, st)
        dec = HlDecoder(self.coins, w, None, st)
        for recv, body in iter_capture(self.path):
            st.lines += 1
            if recv < 0:
                st.malformed_line(bad_line_reason(st.lines, body))
                continue
            before = st.malformed
            dec.feed(body, recv)
            if st.malformed > before:
                # The decoder counts; the line and a glimpse of it say where.
                st.add_reason(f"line {st.lines}: hyperliquid frame did not decode: {body[:80]!r}")
            if w.ready:
                yield from w.take_ready()
        yield from w.flush()


def head_coins(path: str | os.PathLike[str]) -> list[str]:
    """Coins named by the capture's first frames (``data.coin``, or each trade's
    ``coin``), in order of appearance."""
    out: list[str] = []
    n = 0
    for recv, body in iter_capture(path):
        n += 1
        if n > HEAD_LINES:
            break
        try:
            data = orjson.loads(body).get("data") if recv >= 0 else None
        except (orjson.JSONDecodeError, AttributeError):
            continue
        items = data if isinstance(data, list) else [data]
        for d in items:
            c = d.get("coin") if isinstance(d, dict) else None
            if isinstance(c, str) and c and c not in out:
                out.append(c)
    return out
