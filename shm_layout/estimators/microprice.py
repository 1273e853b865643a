"""Microprice: ridge regression of the forward mid move on book and flow imbalance.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.microprice]`` config.
Kernels: ``appliance/estimator/microprice.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "microprice"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (116,)))


@dataclass(frozen=True)
class MicropriceConfig:
    enabled: bool = True  # off = microprice is the mid
    horizon_ms: int = 300  # forward mid move it predicts
    halflife_s: float = 60.0  # memory of the regression (seed 001: 60 s window)
    ridge_lambda: float = 0.05  # shrinkage per effective sample
    min_r2: float = 0.01  # out-of-sample R^2 below this = fall back to mid
    min_samples: float = 100.0
    max_adj_bps: float = 50.0
    regime_conditional: bool = True


CONFIG = MicropriceConfig
