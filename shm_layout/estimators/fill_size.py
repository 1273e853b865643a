"""Our fill sizes per side (the drift filter's fill-size observation).

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.fill_size]`` config.
Kernels: ``appliance/estimator/fill_size.py``.
"""

import numpy as np

NAME = "fill_size"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (8,)))


CONFIG = None  # no settings: no [estimator.fill_size] table
