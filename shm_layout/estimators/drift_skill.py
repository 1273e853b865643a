"""Drift skill: the Kalman drift's own forecast scored online against the mid that followed.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.drift_skill]`` config.
Kernels: ``appliance/estimator/drift_skill.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "drift_skill"

RING_LEN = 16  # samples kept: the horizon is at most RING_LEN - 1 sample intervals

STATE = np.dtype(
    [
        ("ring_ts_ns", "<i8", (RING_LEN,)),  # when each sample was taken (event time)
        ("ring_mu", "<f8", (RING_LEN,)),  # the drift then, bps/s
        ("ring_theta", "<f8", (RING_LEN,)),  # its OU mean reversion then, 1/s
        ("ring_mid", "<f8", (RING_LEN,)),  # the mid then
        ("head", "<i8"),  # index of the newest sample
        ("n_samples", "<i8"),
        ("n_scored", "<i8"),  # forecasts scored against their realized move
        ("sxy", "<f8"),  # decayed sum of forecast x realized drift
        ("sxx", "<f8"),  # decayed sum of forecast^2
        ("sw", "<f8"),  # decayed count of scored forecasts
        ("skill", "<f8"),  # the published weight, in [0, 1]
    ],
    align=True,
)


@dataclass(frozen=True)
class DriftSkillConfig:
    # The weight the quote kernel gives the drift: the calibration slope of the realized
    # average drift over horizon_s on the drift's OU forecast of it (1: calibrated, 0: no
    # information or backwards), shrunk toward prior_skill by prior_samples pseudo-samples.
    # Set before any run (issue 16): the horizon is the quote's horizon_s; the prior
    # halves the drift until the data speak; the half-life is five minutes of samples.
    enabled: bool = True  # off: skill 1 (the drift is taken at its word, as before)
    horizon_s: float = 5.0
    sample_ms: int = 1000  # at most one sample per cold-tier run, this far apart
    halflife_s: float = 300.0
    prior_skill: float = 0.5
    prior_samples: float = 60.0


CONFIG = DriftSkillConfig
