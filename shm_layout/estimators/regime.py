"""Volatility regime (Low / Normal / High / Extreme) with hysteresis.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.regime]`` config.
Kernels: ``appliance/estimator/regime.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "regime"

STATE = np.dtype(
    [
        ("regime", "<i8"),  # 0 Low, 1 Normal, 2 High, 3 Extreme
        ("candidate", "<i8"),  # a different raw class seen ...
        ("candidate_samples", "<i8"),  # ... this many samples in a row
        ("base_var_bps2_per_s", "<f8"),  # the coin's long-run bipower variance
        ("n_samples", "<i8"),
        ("vol_ratio", "<f8"),  # sigma_clean_30s / baseline
        ("n_switches", "<i8"),
        ("last_ts_ns", "<i8"),
    ],
    align=True,
)


@dataclass(frozen=True)
class RegimeConfig:
    enabled: bool = True
    baseline_halflife_s: float = 3600.0  # the coin's own long-run sigma_clean
    enter_high_ratio: float = 1.5  # sigma_clean_30s / baseline entering High
    enter_extreme_ratio: float = 3.0
    enter_low_ratio: float = 0.5  # below this: Low
    exit_band: float = 0.8  # hysteresis: leave High below 0.8 * 1.5, Low above 0.5 / 0.8
    min_dwell_samples: int = 5  # consecutive samples a new regime must hold
    gamma_mult_low: float = 0.8
    gamma_mult_normal: float = 1.0
    gamma_mult_high: float = 1.5
    gamma_mult_extreme: float = 2.5
    spread_mult_low: float = 0.9
    spread_mult_normal: float = 1.0
    spread_mult_high: float = 1.4
    spread_mult_extreme: float = 2.0


CONFIG = RegimeConfig
