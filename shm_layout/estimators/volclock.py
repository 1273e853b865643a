"""Volume clock: buckets of a fixed share of the rolling volume.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.volclock]`` config.
Kernels: ``appliance/estimator/volclock.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "volclock"

STATE = np.dtype(
    [
        ("start_ts_ns", "<i8"),  # first trade
        ("last_ts_ns", "<i8"),
        ("decayed_volume_sz", "<f8"),
        ("open_bucket_sz", "<f8"),  # volume in the open bucket
        ("n_buckets", "<i8"),
        ("bucket_sz", "<f8"),  # current target
        ("last_bucket_sz", "<f8"),  # realized volume of the last closed bucket
        ("last_bucket_s", "<f8"),  # its duration
        ("open_ts_ns", "<i8"),  # when the open bucket started
        ("first_bucket_sz", "<f8"),  # target when the first bucket closed (cold-start check)
    ],
    align=True,
)


@dataclass(frozen=True)
class VolumeClockConfig:
    enabled: bool = True
    bucket_fraction: float = 0.01  # bucket = 1% of the rolling window's volume
    window_s: float = 300.0  # rolling volume window (5 min)
    initial_bucket_sz: float = 0.0  # > 0: size of buckets before the rate is known
    min_warmup_s: float = 5.0  # event time before the first bucket may close


CONFIG = VolumeClockConfig
