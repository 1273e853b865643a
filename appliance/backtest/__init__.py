"""The backtester: the venue's matching without sockets, driving the live kernels.

``run_backtest(source, cfg, seed=, coin=, preset=)`` -> ``BacktestResult`` (report dict,
fills, markouts, time series); ``mmctl backtest`` is its command line.
"""

from .presets import KNOWN_PRESETS, PresetError, apply_preset
from .runner import BacktestResult, Simulation, run_backtest, run_events

__all__ = [
    "KNOWN_PRESETS",
    "BacktestResult",
    "PresetError",
    "Simulation",
    "apply_preset",
    "run_backtest",
    "run_events",
]
