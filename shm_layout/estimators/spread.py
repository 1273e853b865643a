"""Spread process: histogram of the quoted spread, fair spread and percentile.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.spread]`` config.
Kernels: ``appliance/estimator/spread.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "spread"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (48,)))


@dataclass(frozen=True)
class SpreadConfig:
    enabled: bool = True
    halflife_s: float = 600.0  # memory of the spread distribution
    tight_pct: float = 0.2
    wide_pct: float = 0.8
    blowout_pct: float = 0.97


CONFIG = SpreadConfig
