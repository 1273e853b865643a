"""Kalman drift: OU drift filtered from book, flow, fill, funding and cross-asset observations.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.drift]`` config.
Kernels: ``appliance/estimator/drift_kalman.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "drift"

STATE = np.dtype(
    [
        ("mu_bps_per_s", "<f8"),  # the drift
        ("p_bps2_per_s2", "<f8"),  # its posterior variance
        ("theta_per_s", "<f8"),  # OU mean reversion
        ("q_bps2_per_s3", "<f8"),  # process noise
        ("last_predict_ts_ns", "<i8"),
        ("n_updates", "<i8"),
        ("nis", "<f8"),  # EWMA normalized squared error (adaptation)
        ("n_adapt", "<i8"),
        ("last_z", "<f8"),
        ("last_r", "<f8"),
        ("last_gain", "<f8"),
        ("tier_obs_ts_ns", "<i8", (3,)),  # last observation of the hot, warm, cold tier
    ],
    align=True,
)


@dataclass(frozen=True)
class DriftKalmanConfig:
    enabled: bool = True  # use_kalman_drift (seed 003 phase 1 gate)
    theta_per_s: float = 0.02  # OU mean reversion, ~35 s half-life
    process_noise_bps2_per_s3: float = 1.0  # sigma_mu^2
    prior_var_bps2_per_s2: float = 50.0  # P0, twice the stationary q/(2 theta)
    var_floor_bps2_per_s2: float = 2.0  # P_min
    adapt_enabled: bool = True  # phase 5; off = theta and q frozen
    theta_min_per_s: float = 0.01
    theta_max_per_s: float = 1.0
    noise_min: float = 0.1
    noise_max: float = 10.0
    adapt_halflife_obs: float = 20.0
    band_sigmas: float = 2.0  # |mu| beyond this many std = drift left its band
    # Observation scales (alpha = 0 switches a source off) and noises.
    alpha_fill: float = 1.0
    r_fill: float = 4.0
    sigma_trend: float = 1.0
    # the trade-flow imbalance at two horizons (the estimator.flow horizons nearest them):
    # a fast one (a burst of informed aggression) and a slow one (issue 16: a selloff's
    # lead is minutes of one-sided selling, which the fast one cannot tell from a calm
    # market's bursts; over 300 s a calm market's imbalance is ~2 %)
    alpha_flow: float = 0.5
    sigma_flow: float = 2.0
    flow_horizon_s: float = 5.0
    alpha_flow_slow: float = 32.0
    flow_slow_horizon_s: float = 300.0
    alpha_funding: float = 0.05  # phase 6 scale_factor
    sigma_funding: float = 2.0
    funding_min_obs: int = 3
    alpha_hawkes: float = 1.0
    sigma_hawkes: float = 1.5
    alpha_fill_size: float = 0.5
    sigma_fill_size: float = 2.0
    alpha_basis: float = 0.2
    sigma_basis: float = 2.0
    alpha_lead: float = 0.3
    sigma_lead: float = 1.5
    lead_min_confidence: float = 0.3
    # The noises above are the seed's, for one observation per quote cycle (5-6 s); a
    # tier observing every dt has R x obs_cycle_s / dt (0 = unscaled, as before).
    obs_cycle_s: float = 5.0


CONFIG = DriftKalmanConfig
