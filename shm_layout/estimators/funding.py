"""Funding rate: EWMA mean and variance, premium, predicted rate and cost.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.funding]`` config.
Kernels: ``appliance/estimator/funding.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "funding"

STATE = np.dtype(
    [
        ("last_ctx_ts_ns", "<i8"),
        ("last_obs_ts_ns", "<i8"),  # last observation of the rate
        ("n_obs", "<i8"),
        ("rate_per_h", "<f8"),  # last rate
        ("mean_per_h", "<f8"),  # EWMA of the observations
        ("var_per_h2", "<f8"),
        ("premium", "<f8"),  # EWMA of (mark - oracle) / oracle
        ("n_premium", "<i8"),
        ("mark_px", "<f8"),
        ("oracle_px", "<f8"),
        ("open_interest_sz", "<f8"),
        ("predicted_per_h", "<f8"),
    ],
    align=True,
)


@dataclass(frozen=True)
class FundingConfig:
    enabled: bool = True
    sample_s: float = 60.0  # one observation of the rate per this much event time
    halflife_obs: float = 60.0  # EWMA mean and variance of the rate, in observations
    warmup_obs: int = 3  # seed 003 phase 6: before 3 observations no signal
    premium_halflife_s: float = 1800.0
    interest_per_8h: float = 0.0001  # Hyperliquid: 0.01% per 8 h
    premium_clamp: float = 0.0005
    holding_h: float = 1.0  # horizon of funding_cost_bps
    std_floor_per_h: float = 1e-7


CONFIG = FundingConfig
