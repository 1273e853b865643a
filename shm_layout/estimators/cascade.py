"""Liquidation cascade detector: volume-rate burst, price move and open-interest drop.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.cascade]`` config.
Kernels: ``appliance/estimator/cascade.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "cascade"

RING_LEN = 32  # samples of (time, mid, open interest), one every window / (RING_LEN - 2)

RING_SAMPLE = np.dtype([("ts_ns", "<i8"), ("mid_px", "<f8"), ("open_interest_sz", "<f8")])

STATE = np.dtype(
    [
        ("pull", "<i8"),  # should_pull_quotes
        ("severity", "<f8"),
        ("last_hot_ts_ns", "<i8"),  # last time severity was >= pull_enter
        ("ring_pos", "<i8"),
        ("n_pulls", "<i8"),
        ("max_severity", "<f8"),
        ("base_num_sz", "<f8"),  # gated baseline of the 5 s volume rate: decayed sum of w v dt ...
        ("base_den_s", "<f8"),  # ... and of w dt (weighted seconds of history)
        ("last_ts_ns", "<i8"),  # last warm tick
        ("rate_ratio", "<f8"),  # inputs of the last severity, for inspection
        ("move_sigmas", "<f8"),
        ("oi_drop_bps_per_min", "<f8"),
        ("ring", RING_SAMPLE, (RING_LEN,)),
    ],
    align=True,
)


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
