"""Spread process: histogram of the quoted spread, fair spread and percentile.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.spread]`` config.
Kernels: ``appliance/estimator/spread.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "spread"
N_RECENT = 16  # warm samples kept for the floor: 1.6 s at the default 100 ms warm tick

STATE = np.dtype(
    [
        ("last_ts_ns", "<i8"),
        ("mass_s", "<f8"),  # decayed time weight of the histogram
        ("percentile", "<f8"),  # of the last spread
        ("fair_bps", "<f8"),  # median of the distribution
        ("regime", "<i8"),  # 0 tight, 1 normal, 2 wide, 3 blowout
        ("n_samples", "<i8"),
        ("mean_bps", "<f8"),  # EWMA spread (same half-life)
        ("hist", "<f8", (40,)),  # decayed time weight per log-spaced bin, 0.01 .. 1000 bps
        # the spread held over the last floor_window_ms: the lowest of the warm samples in
        # it (a ring of the last N_RECENT; issue 16: a one-sample blip is not a withdrawal)
        ("floor_bps", "<f8"),
        ("recent_head", "<i8"),
        ("recent_ts_ns", "<i8", (N_RECENT,)),
        ("recent_bps", "<f8", (N_RECENT,)),
    ],
    align=True,
)


@dataclass(frozen=True)
class SpreadConfig:
    enabled: bool = True
    halflife_s: float = 600.0  # memory of the spread distribution
    tight_pct: float = 0.2
    wide_pct: float = 0.8
    blowout_pct: float = 0.97
    # the spread floor (MarketParams spread_floor_bps): the lowest spread of the warm
    # samples in this window, so a spread that widened for one sample does not read as
    # liquidity withdrawn (the quote's spread pull tests it). 0 = the last spread alone.
    floor_window_ms: float = 300.0


CONFIG = SpreadConfig
