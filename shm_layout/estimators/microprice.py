"""Microprice: ridge regression of the forward mid move on book and flow imbalance.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.microprice]`` config.
Kernels: ``appliance/estimator/microprice.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "microprice"

N_GROUPS = 5  # pooled + one per volatility regime
QUEUE_LEN = 8  # samples waiting for their horizon

# One group's ridge regression of the forward mid move on (book, flow) imbalance:
# decayed normal equations, prequential errors, the betas.
GROUP = np.dtype(
    [
        ("a11", "<f8"), ("a12", "<f8"), ("a22", "<f8"), ("c1", "<f8"), ("c2", "<f8"),
        ("n", "<f8"),  # decayed sample weight
        ("sse", "<f8"), ("sst", "<f8"),
        ("b1", "<f8"), ("b2", "<f8"),  # bps per unit book / flow imbalance
        ("n_obs", "<i8"),
    ],
    align=True,
)
# A sample waiting for its label (the mid a horizon later).
SAMPLE = np.dtype(
    [("ts_ns", "<i8"), ("mid_px", "<f8"), ("book_imb", "<f8"), ("flow_imb", "<f8"), ("regime", "<i8")],
    align=True,
)

STATE = np.dtype(
    [
        ("last_ts_ns", "<i8"),
        ("head", "<i8"),  # of the sample queue
        ("count", "<i8"),
        ("adj_bps", "<f8"),  # microprice - mid
        ("used_group", "<i8"),  # -1 = fallback to mid
        ("r2", "<f8"),  # of the group used (or pooled when falling back)
        ("b1_book_bps", "<f8"),
        ("b2_flow_bps", "<f8"),
        ("n_labelled", "<i8"),
        ("queue", SAMPLE, (QUEUE_LEN,)),
        ("groups", GROUP, (N_GROUPS,)),
    ],
    align=True,
)


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
