"""The events of a ``DataKey``, loaded once for every task that reads them.

They are kept as the source's own chunks (copies: a source may reuse its buffer), so a
task feeds the simulation exactly the chunks ``run_backtest`` would, and its result is
the same bit for bit. With them go what the report needs from the source: its stats,
a scenario's truth windows, a replay's instrument facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.backtest.load import bounded_chunks, checked_chunks, is_finite_source, open_market
from appliance.backtest.runner import scenario_truth

from .plan import DataKey


@dataclass
class LoadedData:
    key: DataKey
    chunks: list[np.ndarray]  # MD_EVENT
    source_stats: dict
    truth: tuple[int, dict, list] | None  # a scenario's (start ns, windows, episodes)
    instrument: dict | None  # a replay's instrument facts

    @property
    def n_events(self) -> int:
        return sum(c.shape[0] for c in self.chunks)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks)


def load_data(key: DataKey) -> LoadedData:
    """Read the source of ``key`` as ``run_backtest`` does (cut, then checked when a
    replay); ValueError with the reason when it cannot be used."""
    market = open_market(key.spec, key.coin, key.seed, key.feed)
    chunks = bounded_chunks(market, key.chunk_events, key.duration_s)
    if is_finite_source(key.spec):
        chunks = checked_chunks(market, chunks, key.feed, key.coin)
    kept = [c.copy() for c in chunks]  # one at a time: the source may refill its buffer
    inst = getattr(market, "instrument", None)
    return LoadedData(key, kept, market.stats.to_dict(), scenario_truth(market),
                      inst.to_dict() if inst is not None else None)
