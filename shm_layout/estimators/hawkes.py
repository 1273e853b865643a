"""Hawkes intensities of buy and sell trades, online EM fit.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.hawkes]`` config.
Kernels: ``appliance/estimator/hawkes.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "hawkes"

# One side's process (buy or sell aggressors) and its online EM sums.
SIDE = np.dtype(
    [
        ("last_ts_ns", "<i8"),
        ("n_events", "<i8"),
        ("r", "<f8"),  # sum of exp(-beta (t - t_i)) over past events
        ("s", "<f8"),  # its derivative sum (for beta)
        ("mu_per_s", "<f8"),
        ("alpha_per_s", "<f8"),
        ("beta_per_s", "<f8"),
        ("a0", "<f8"),  # forgetful EM sums: background share ...
        ("a1", "<f8"),  # ... excited share ...
        ("a2", "<f8"),  # ... and its time-weighted form
        ("n", "<f8"),  # forgetful event count
        ("t_s", "<f8"),  # forgetful elapsed time
    ],
    align=True,
)

STATE = np.dtype([("buy", SIDE), ("sell", SIDE)], align=True)


@dataclass(frozen=True)
class HawkesConfig:
    enabled: bool = True
    mu_prior_per_s: float = 1.0
    alpha_prior_per_s: float = 0.5
    beta_prior_per_s: float = 2.0
    min_events: int = 200  # events per side before the fitted parameters are used
    forget_halflife_events: float = 5000.0  # memory of the online EM
    max_branching: float = 0.95
    # The sell side's own priors; 0 = the three above (which are then both sides').
    # mmctl calibrate fits each side.
    mu_sell_prior_per_s: float = 0.0
    alpha_sell_prior_per_s: float = 0.0
    beta_sell_prior_per_s: float = 0.0


CONFIG = HawkesConfig
