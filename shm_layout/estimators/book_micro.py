"""Book microstructure: depth imbalance, its rate, pressure gradient, sweeps.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.book]`` config.
Kernels: ``appliance/estimator/book_micro.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "book"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (27,)))


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
