"""Order-arrival decay kappa from trade distances and the book, K-S model choice.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.kappa]`` config.
Kernels: ``appliance/estimator/kappa.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "kappa"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (544,)))


@dataclass(frozen=True)
class KappaConfig:
    min_trades: int = 30  # below: book kappa (or the prior)
    sample_size: int = 256  # distances kept for the K-S test (<= 256)
    ks_enabled: bool = True  # off = exponential assumed
    ks_critical: float = 1.094  # Stephens' 5% point of the exponential-with-fitted-mean test
    book_levels: int = 10  # levels a side of the book kappa
    flow_sensitivity: float = 0.5  # seed 003 phase 3; 0 = multipliers 1.0 (rollback)
    flow_horizon_s: float = 5.0  # one of 1, 5, 30, 300
    mult_min: float = 0.5
    mult_max: float = 2.0


CONFIG = KappaConfig
