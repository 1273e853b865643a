"""Queue position: execution scale, cancel rate and touch volume rates.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.queue]`` config.
Kernels: ``appliance/estimator/queue_position.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "queue"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (190,)))


@dataclass(frozen=True)
class QueueConfig:
    enabled: bool = True
    horizon_s: float = 5.0  # P(fill) horizon the quote kernel asks for by default
    exec_scale_prior: float = 1.0  # k in P(exec | touch) = exp(-k * queue / volume)
    exec_scale_min: float = 0.05
    exec_scale_max: float = 20.0
    learning_rate: float = 0.05  # step on ln k per outcome
    volume_halflife_s: float = 60.0  # aggressor volume rate at the touch
    cancel_halflife_s: float = 60.0  # EWMA of the per-order cancel rate from book counts
    refresh_min_gain: float = 0.10  # new P(fill) must beat the kept one by this to refresh
    refresh_max_stale_bps: float = 5.0  # beyond this price distance, always refresh


CONFIG = QueueConfig
