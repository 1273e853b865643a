"""Order-arrival decay kappa from trade distances and the book, K-S model choice.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.kappa]`` config.
Kernels: ``appliance/estimator/kappa.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "kappa"

RING_LEN = 256  # trade distances kept for the K-S test (sample_size <= this)

STATE = np.dtype(
    [
        ("mean_d_bps", "<f8"),  # EWMA trade distance from the mid
        ("mean_d_bid_bps", "<f8"),
        ("mean_d_ask_bps", "<f8"),
        ("n_trades", "<i8"),
        ("n_bid_trades", "<i8"),
        ("n_ask_trades", "<i8"),
        ("ring_pos", "<i8"),
        ("ring_n", "<i8"),
        ("ks_d", "<f8"),
        ("ks_stat", "<f8"),  # the modified statistic compared with ks_critical
        ("ks_reject", "<i8"),
        ("model", "<i8"),  # 0 exponential, 1 power law
        ("lomax_alpha", "<f8"),
        ("lomax_scale_bps", "<f8"),
        ("ks_d_powerlaw", "<f8"),
        ("kappa_fill_per_bps", "<f8"),  # chosen model, both sides
        ("kappa_book_per_bps", "<f8"),
        ("kappa_per_bps", "<f8"),  # published (fill, else book, else prior)
        ("kappa_lo_per_bps", "<f8"),
        ("kappa_hi_per_bps", "<f8"),
        ("kappa_bid_per_bps", "<f8"),
        ("kappa_ask_per_bps", "<f8"),
        ("mult_bid", "<f8"),
        ("mult_ask", "<f8"),
        ("last_ts_ns", "<i8"),
        ("model_scale", "<f8"),  # kappa_fill / (1 / mean d): power-law correction per side
        ("ks_at_n_trades", "<i8"),  # trade count at the last K-S test
        ("ring_bps", "<f8", (RING_LEN,)),  # the last trade distances (K-S sample)
        ("scratch_bps", "<f8", (RING_LEN,)),  # sorted copy for the test
    ],
    align=True,
)


@dataclass(frozen=True)
class KappaConfig:
    min_trades: int = 30  # below: book kappa (or the prior)
    sample_size: int = 256  # distances kept for the K-S test (<= 256)
    ks_enabled: bool = True  # off = exponential assumed
    ks_critical: float = 1.094  # Stephens' 5% point of the exponential-with-fitted-mean test
    book_levels: int = 10  # levels a side of the book kappa
    flow_sensitivity: float = 0.5  # seed 003 phase 3; 0 = multipliers 1.0 (rollback)
    flow_horizon_s: float = 5.0  # one of 1, 5, 30, 300
    mult_min: float = 0.5
    mult_max: float = 2.0
    # Start of each side's distance EWMA (1 / kappa); 0 = kappa_prior_per_bps of
    # [estimator] (mmctl calibrate fits them per side).
    prior_bid_per_bps: float = 0.0
    prior_ask_per_bps: float = 0.0


CONFIG = KappaConfig
