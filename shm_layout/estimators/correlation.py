"""Cross-coin correlation and hedge ratio; basis and lead-lag against a reference stream.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.correlation]`` config.
Kernels: ``appliance/estimator/correlation.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "correlation"

STATE = np.dtype([
    ("xv", "<f8", (47,)),  # this coin against its reference stream
    ("matrix", "<f8", (127,)),  # every coin (used in coin 0's state only)
])


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
