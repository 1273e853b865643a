"""Liquidation cascade detector: volume-rate burst, price move and open-interest drop.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.cascade]`` config.
Kernels: ``appliance/estimator/cascade.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "cascade"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (112,)))


@dataclass(frozen=True)
class CascadeConfig:
    """Liquidation cascade detector (``estimator/cascade.py`` has the formulas)."""
    enabled: bool = True
    window_ms: int = 30000  # price move and OI drop window
    rate_ratio_ref: float = 2.5  # min(5 s, 30 s volume rate) / gated baseline above this counts
    move_sigmas_ref: float = 3.0  # |move| / (sigma_300s sqrt(window)) above this amplifies
    oi_drop_ref_bps_per_min: float = 60.0  # open interest falling faster than this counts
    w_rate: float = 1.0
    w_move: float = 0.5
    w_oi: float = 1.0
    pull_enter: float = 0.7  # severity to pull quotes ...
    pull_exit: float = 0.4  # ... and to resume, after
    pull_hold_s: float = 15.0  # bridges dips of the 5/30 s measures inside a cascade
    tail_max_mult: float = 3.0
    baseline_halflife_s: float = 300.0  # memory of the calm volume rate
    min_baseline_s: float = 60.0  # weighted seconds of history before the rate counts
    sigma_floor_bps_per_sqrt_s: float = 0.3  # a cold or thin-book sigma is not a move scale


CONFIG = CascadeConfig
