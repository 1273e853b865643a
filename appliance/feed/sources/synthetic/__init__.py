"""A seeded synthetic market with named scenarios (see ``scenarios`` for the scripts).

``ScenarioSource(coins, scenario, seed, duration_s=...)`` is a finite MarketSource;
``open_source("synthetic:SCENARIO", coins, seed=N, **opts)`` builds one. The mid is a
jump-diffusion under a four-state Markov volatility regime; market orders are a
bivariate exponential Hawkes process with lognormal-plus-Pareto sizes that walk a
20-level book; funding follows an OU premium. ``source.truth`` (``ScenarioTruth``)
gives the regime, mid, funding and the scenario's windows to score against.
Same seed and options give a byte-identical stream whatever ``max_events`` is.
"""

from .params import REGIME_NAMES, ROW_NAMES, TRUTH_NAMES, SynthParams
from .scenarios import BURST_DTYPE, SCENARIOS, get_scenario
from .source import ScenarioSource, ScenarioTruth

__all__ = [
    "BURST_DTYPE",
    "REGIME_NAMES",
    "ROW_NAMES",
    "SCENARIOS",
    "TRUTH_NAMES",
    "ScenarioSource",
    "ScenarioTruth",
    "SynthParams",
    "get_scenario",
]
