"""Toxicity: online logistic P(toxic) of a fill from market features.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.toxicity]`` config.
Kernels: ``appliance/estimator/toxicity.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "toxicity"

N_FEATURES = 8  # book imbalance, flow imbalance, intensity, regime, changepoint, funding,
#                spread ratio, drift (each signed toward the side filled)
N_PENDING = 8  # fills awaiting their label; when full the oldest is dropped

# A fill waiting for its label horizon, with the features sampled when it happened.
PENDING_FILL = np.dtype(
    [("ts_ns", "<i8"), ("side", "<i8"), ("mid0_px", "<f8"), ("x", "<f8", (N_FEATURES,))],
    align=True,
)

STATE = np.dtype(
    [
        ("mid_px", "<f8"),
        ("n_learned", "<i8"),
        ("n_toxic", "<i8"),
        ("logloss", "<f8"),  # EWMA of the log loss of the labelled fills
        ("brier", "<f8"),
        ("bias", "<f8"),  # logistic intercept
        ("w", "<f8", (N_FEATURES,)),  # logistic weights on standardized features
        ("feat_mean", "<f8", (N_FEATURES,)),  # online standardizer
        ("feat_var", "<f8", (N_FEATURES,)),
        ("x_scratch", "<f8", (N_FEATURES,)),  # the raw features of the last call
        ("n_feat", "<i8"),
        ("pending", PENDING_FILL, (N_PENDING,)),
    ],
    align=True,
)


@dataclass(frozen=True)
class ToxicityConfig:
    enabled: bool = True
    label_horizon_ms: int = 2000  # the markout that labels a fill toxic or not
    toxic_threshold_bps: float = 1.0  # -markout above this = toxic
    learning_rate: float = 0.05
    l2_per_fill: float = 1e-3  # ridge shrinkage of the weights toward 0 per update
    prior_p_toxic: float = 0.3  # start of the intercept (logit of this)
    feature_halflife_fills: float = 200.0  # online standardization of the features
    gate_p_toxic: float = 0.8  # P(toxic) above this pulls the side (seed 002 gating)


CONFIG = ToxicityConfig
