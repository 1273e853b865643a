"""Book microstructure: depth imbalance, its rate, pressure gradient, sweeps.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.book]`` config.
Kernels: ``appliance/estimator/book_micro.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "book"

# An aggressor burst of one side: a sweep when it crosses enough levels in the window.
BURST = np.dtype(
    [
        ("start_ts_ns", "<i8"),
        ("extreme_px", "<f8"),  # most aggressive price reached
        ("levels", "<i8"),
        ("volume_sz", "<f8"),
        ("score", "<f8"),
        ("score_ts_ns", "<i8"),
        ("n_sweeps", "<i8"),
    ],
    align=True,
)

STATE = np.dtype(
    [
        ("last_ts_ns", "<i8"),
        ("mid_px", "<f8"),
        ("bid_depth_sz", "<f8"),  # size within depth2, bid side
        ("ask_depth_sz", "<f8"),
        ("bid_rate_per_s", "<f8"),  # smoothed d ln(depth)/dt
        ("ask_rate_per_s", "<f8"),
        ("n_books", "<i8"),
        ("bim", "<f8", (3,)),  # book imbalance within depth1..3
        ("dbim_per_s", "<f8", (3,)),  # its smoothed rate
        ("bursts", BURST, (2,)),  # 0 buy aggressors, 1 sell aggressors
    ],
    align=True,
)


@dataclass(frozen=True)
class BookMicroConfig:
    enabled: bool = True
    depth1_bps: float = 10.0
    depth2_bps: float = 25.0
    depth3_bps: float = 50.0
    delta_halflife_s: float = 2.0  # smoothing of dBIM/dt and depth change rates
    sweep_window_ms: int = 3000  # tau_sweep
    sweep_min_levels: int = 3  # distinct price levels crossed to call it a sweep
    # Drift observations (seed 003 phase 7); alpha = 0 switches a feature off.
    alpha_bim: float = 0.3
    alpha_dbim: float = 0.2
    alpha_bpg: float = 0.15
    alpha_sweep: float = 0.5
    sigma_bim: float = 1.5
    sigma_dbim: float = 2.0
    r_bpg: float = 3.0
    sigma_sweep: float = 2.0


CONFIG = BookMicroConfig
