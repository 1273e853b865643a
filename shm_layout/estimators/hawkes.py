"""Hawkes intensities of buy and sell trades, online EM fit.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.hawkes]`` config.
Kernels: ``appliance/estimator/hawkes.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "hawkes"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (32,)))


@dataclass(frozen=True)
class HawkesConfig:
    enabled: bool = True
    mu_prior_per_s: float = 1.0
    alpha_prior_per_s: float = 0.5
    beta_prior_per_s: float = 2.0
    min_events: int = 200  # events per side before the fitted parameters are used
    forget_halflife_events: float = 5000.0  # memory of the online EM
    max_branching: float = 0.95


CONFIG = HawkesConfig
