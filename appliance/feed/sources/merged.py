"""Several replay files of one market as one time-ordered stream: ``replay:FILE1,FILE2``.

What a Hyperliquid user downloads from the archive comes per dataset: an hour's
``l2Book`` snapshots in one file, the same hour's ``node_trades`` (or ``node_fills``,
``node_fills_by_block``, ``asset_ctxs``) in others. Each file is read by its own
source (its format detected as for a single file); their events are merged by receive
time (``recv_ts_ns``, the pacing clock every source is ordered by), ties kept in the
order the files were given, so the stream does not depend on the chunk size. The
stats are the sum of the files' (a malformed reason names its file). The files are
read whole before the first chunk: an hour of archive data is tens of MB of events.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import numpy as np

from ..events import DEFAULT_CHUNK_EVENTS, SourceStats, concat_events, take_events
from .base import MarketSource

SEPARATOR = ","


def split_paths(arg: str) -> list[str]:
    """The files of a ``replay:`` argument: one path, or several joined by commas (a
    path that exists as it is, commas and all, stays one)."""
    if SEPARATOR not in arg or os.path.exists(os.path.expanduser(arg)):
        return [arg]
    parts = [p.strip() for p in arg.split(SEPARATOR)]
    if any(not p for p in parts):
        raise ValueError(f"an empty path in the replay list {arg!r}")
    if len(set(parts)) != len(parts):
        raise ValueError(f"a file is given twice in the replay list {arg!r}")
    return parts


class MergedReplaySource:
    def __init__(self, sources: list[MarketSource], names: list[str]) -> None:
        if len(sources) < 2:
            raise ValueError("a merged replay needs at least two files")
        coins = {s.coins for s in sources}
        if len(coins) != 1:
            raise ValueError(f"the files of a merged replay read different coins: {sorted(coins)}")
        self.sources = sources
        self.names = names
        self.coins = sources[0].coins
        self.stats = SourceStats()
        self.name = " + ".join(os.path.basename(n) for n in names)
        # a replay's instrument facts: the first file's that has them
        self.instrument = next((i for i in (getattr(s, "instrument", None) for s in sources)
                                if i is not None), None)

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        if max_events < 1:
            raise ValueError(f"max_events must be >= 1, got {max_events}")
        self.stats.reset()
        parts = []
        for src, name in zip(self.sources, self.names, strict=True):
            # copies: a source may refill its buffer for its next chunk
            got = [np.array(c, copy=True) for c in src.chunks(max(max_events, DEFAULT_CHUNK_EVENTS))]
            parts.append(concat_events(got))
            self._add(src.stats, os.path.basename(name))
        ev = concat_events(parts)  # byte for byte (np.concatenate drops the records' padding)
        ev = take_events(ev, np.argsort(ev["recv_ts_ns"], kind="stable"))
        for i in range(0, ev.shape[0], max_events):
            yield ev[i:i + max_events]

    def _add(self, s: SourceStats, name: str) -> None:
        for f in dataclasses.fields(SourceStats):
            v = getattr(s, f.name)
            if f.name == "malformed_reasons":
                for r in v:
                    self.stats.add_reason(f"{name}: {r}")
            elif isinstance(v, bool):
                setattr(self.stats, f.name, getattr(self.stats, f.name) or v)
            else:
                setattr(self.stats, f.name, getattr(self.stats, f.name) + v)
