"""Our fill sizes per side (the drift filter's fill-size observation).

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.fill_size]`` config.
Kernels: ``appliance/estimator/fill_size.py``.
"""

import numpy as np

NAME = "fill_size"

STATE = np.dtype(
    [
        ("mean_ln_sz", "<f8"),  # baseline EWMA of ln(size) over all our fills
        ("var_ln_sz", "<f8"),
        ("n_fills", "<i8"),
        ("bid_ln_sz", "<f8"),  # fast EWMA of ln(size) of fills on our bid (we bought)
        ("ask_ln_sz", "<f8"),
        ("n_bid_fills", "<i8"),
        ("n_ask_fills", "<i8"),
    ],
    align=True,
)


CONFIG = None  # no settings: no [estimator.fill_size] table
