"""Trade flow: buy/sell volume rates and imbalance at 1, 5, 30 and 300 s.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.flow]`` config.
Kernels: ``appliance/estimator/flow.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "flow"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (20,)))


@dataclass(frozen=True)
class FlowConfig:
    # Four horizons are fixed (1, 5, 30, 300 s), named in the MarketParams fields.
    drift_scale: float = 0.5  # phase 3: z = scale * imbalance (sell pressure -> z < 0)
    drift_sigma: float = 2.0  # R = sigma^2 / max(kappa_total, 0.1)


CONFIG = FlowConfig
