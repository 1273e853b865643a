"""Cross-coin correlation and hedge ratio; basis and lead-lag against a reference stream.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.correlation]`` config.
Kernels: ``appliance/estimator/correlation.py``.
"""

from dataclasses import dataclass

import numpy as np

from ..constants import MAX_COINS

NAME = "correlation"

N_SCALES = 3  # fast, medium, slow half-life
N_PAIRS = MAX_COINS * (MAX_COINS + 1) // 2  # upper triangle with the diagonal
N_LAGS = 8  # lead-lag grid steps

# The correlation matrix of every coin's mid returns (kept in coin 0's state).
MATRIX = np.dtype(
    [
        ("next_ts_ns", "<i8"),  # next sample time
        ("last_ts_ns", "<i8"),  # last sample time
        ("n_samples", "<i8"),
        ("mid_px", "<f8", (MAX_COINS,)),  # current mids
        ("prev_px", "<f8", (MAX_COINS,)),  # mids at the last sample
        ("cov_bps2", "<f8", (N_SCALES, N_PAIRS)),  # second moments per sample
    ],
    align=True,
)

# This coin (A) against its reference stream (B): basis and lagged cross moments.
CROSS_VENUE = np.dtype(
    [
        ("next_ts_ns", "<i8"),
        ("last_ts_ns", "<i8"),
        ("mid_a_px", "<f8"),
        ("mid_b_px", "<f8"),
        ("prev_a_px", "<f8"),
        ("prev_b_px", "<f8"),
        ("basis_bps", "<f8"),
        ("basis_mean_bps", "<f8"),
        ("basis_var_bps2", "<f8"),
        ("n_basis", "<i8"),
        ("n_lag", "<i8"),
        ("var_a_bps2", "<f8"),
        ("var_b_bps2", "<f8"),
        ("head", "<i8"),  # ring position of the newest return
        ("ring_a_bps", "<f8", (N_LAGS,)),  # the last returns of A ...
        ("ring_b_bps", "<f8", (N_LAGS,)),  # ... and of B
        ("c_ab", "<f8", (N_LAGS,)),  # c_k: B leads A by k
        ("c_ba", "<f8", (N_LAGS,)),  # c'_k: A leads B by k (index 0 unused)
        ("step_s", "<f8"),  # length of the last grid step
    ],
    align=True,
)

STATE = np.dtype([("xv", CROSS_VENUE), ("matrix", MATRIX)], align=True)

@dataclass(frozen=True)
class CorrelationConfig:
    enabled: bool = True
    sample_ms: int = 1000  # return sampling interval of the correlation matrix
    halflife_fast_s: float = 60.0  # ~1 min scale
    halflife_medium_s: float = 600.0  # ~10 min scale
    halflife_slow_s: float = 3600.0  # ~1 h scale
    warmup_samples: int = 30  # samples before a scale's matrix is valid
    # Cross-venue basis and lead-lag against a second stream (e.g. Binance).
    basis_halflife_s: float = 300.0
    leadlag_sample_ms: int = 200  # grid of the lagged cross-correlations
    leadlag_halflife_s: float = 600.0
    leadlag_min_abs_corr: float = 0.05  # below this the lead signal is reported as 0


CONFIG = CorrelationConfig
