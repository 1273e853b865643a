"""Trade flow: buy/sell volume rates and imbalance at 1, 5, 30 and 300 s.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.flow]`` config.
Kernels: ``appliance/estimator/flow.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "flow"

N_HORIZONS = 5  # 1, 5, 30, 300 s and flow_halflife_s (the legacy horizon)

STATE = np.dtype(
    [
        ("last_ts_ns", "<i8"),
        ("first_ts_ns", "<i8"),  # first trade: rates are bias-corrected while the sums fill
        ("last_trade_ts_ns", "<i8"),
        ("n_trades", "<i8"),
        ("buy_sz", "<f8", (N_HORIZONS,)),  # decayed aggressor buy size per horizon
        ("sell_sz", "<f8", (N_HORIZONS,)),
        ("trades", "<f8", (N_HORIZONS,)),  # decayed trade count per horizon
    ],
    align=True,
)


@dataclass(frozen=True)
class FlowConfig:
    # Four horizons are fixed (1, 5, 30, 300 s), named in the MarketParams fields.
    drift_scale: float = 0.5  # phase 3: z = scale * imbalance (sell pressure -> z < 0)
    drift_sigma: float = 2.0  # R = sigma^2 / max(kappa_total, 0.1)


CONFIG = FlowConfig
