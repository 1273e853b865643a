"""Queue position: execution scale, cancel rate and touch volume rates.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.queue]`` config.
Kernels: ``appliance/estimator/queue_position.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "queue"

N_ORDERS = 20  # ladder slots tracked (2 sides x MAX_LEVELS)
K_LEVELS = 5  # book levels a side whose order counts learn the cancel rate

# One of our resting orders and the fill prediction made when it was placed.
ORDER = np.dtype(
    [
        ("active", "<i8"),
        ("side", "<i8"),  # +1 bid, -1 ask
        ("px", "<f8"),
        ("queue_ahead_sz", "<f8"),
        ("placed_ts_ns", "<i8"),
        ("qn", "<f8"),  # effective queue / volume at placement
        ("p_touch", "<f8"),  # P(touch) at placement
        ("open", "<i8"),  # prediction not yet resolved
    ],
    align=True,
)

STATE = np.dtype(
    [
        ("log_k", "<f8"),  # ln of the execution scale k
        ("vol_buy_sz_per_s", "<f8"),  # buy aggressor volume rate (lifts asks)
        ("vol_sell_sz_per_s", "<f8"),  # sell aggressor volume rate (hits bids)
        ("vol_ts_ns", "<i8"),
        ("cancel_per_s", "<f8"),  # per-order departure rate
        ("n_cancel_obs", "<i8"),
        ("book_ts_ns", "<i8"),
        ("n_outcomes", "<i8"),
        ("brier", "<f8"),
        ("prev_px", "<f8", (2, K_LEVELS)),  # previous book, [bid, ask] x level
        ("prev_n", "<f8", (2, K_LEVELS)),  # its order counts
        ("orders", ORDER, (N_ORDERS,)),
    ],
    align=True,
)


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
