"""Volume clock: buckets of a fixed share of the rolling volume.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.volclock]`` config.
Kernels: ``appliance/estimator/volclock.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "volclock"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (12,)))


@dataclass(frozen=True)
class VolumeClockConfig:
    enabled: bool = True
    bucket_fraction: float = 0.01  # bucket = 1% of the rolling window's volume
    window_s: float = 300.0  # rolling volume window (5 min)
    initial_bucket_sz: float = 0.0  # > 0: size of buckets before the rate is known
    min_warmup_s: float = 5.0  # event time before the first bucket may close


CONFIG = VolumeClockConfig
