"""Toxicity: online logistic P(toxic) of a fill from market features.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.toxicity]`` config.
Kernels: ``appliance/estimator/toxicity.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "toxicity"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (127,)))


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
