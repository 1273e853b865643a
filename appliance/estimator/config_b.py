"""Config of the estimator modules of part B (correlation, adverse selection,
toxicity, queue position, book microstructure, Kalman drift).

Frozen, units in the names, defaults from seeds 003/004 where they give one. Each
component has an ``enabled`` flag (seed 003's rollback table): off, its module is
not called and its MarketParams fields stay at their neutral values. Each module's
``config_values(cfg)`` turns its section into the float vector its kernels read.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CorrelationConfig:
    enabled: bool = True
    sample_ms: int = 1000  # return sampling interval of the correlation matrix
    halflife_fast_s: float = 60.0  # ~1 min scale
    halflife_medium_s: float = 600.0  # ~10 min scale
    halflife_slow_s: float = 3600.0  # ~1 h scale
    warmup_samples: int = 30  # samples before a scale's matrix is valid
    # Cross-venue basis and lead-lag against a second stream (e.g. Binance).
    basis_halflife_s: float = 300.0
    leadlag_sample_ms: int = 200  # grid of the lagged cross-correlations
    leadlag_halflife_s: float = 600.0
    leadlag_min_abs_corr: float = 0.05  # below this the lead signal is reported as 0


@dataclass(frozen=True)
class AdverseSelectionConfig:
    enabled: bool = True
    # Markout horizons (exactly six, ascending); the reference one drives the spread.
    horizons_ms: tuple[int, ...] = (500, 1000, 2000, 5000, 10000, 30000)
    reference_horizon_ms: int = 1000
    halflife_fills: float = 50.0  # EWMA of markouts, in fills
    informed_threshold_bps: float = 2.0  # -markout above this counts as an informed fill
    spread_confidence_z: float = 1.0  # adjustment = AS + z * standard error (not a 2x guess)
    depth_bucket_bps: float = 2.5  # width of the depth buckets of the AS(delta) fit
    depth_forget_fills: float = 500.0  # memory of the depth buckets, in fills
    as0_prior_bps: float = 1.0
    delta_char_prior_bps: float = 5.0
    min_fills_per_bucket: float = 3.0


@dataclass(frozen=True)
class ToxicityConfig:
    enabled: bool = True
    label_horizon_ms: int = 2000  # the markout that labels a fill toxic or not
    toxic_threshold_bps: float = 1.0  # -markout above this = toxic
    learning_rate: float = 0.05
    l2_per_fill: float = 1e-3  # ridge shrinkage of the weights toward 0 per update
    prior_p_toxic: float = 0.3  # start of the intercept (logit of this)
    feature_halflife_fills: float = 200.0  # online standardization of the features
    gate_p_toxic: float = 0.8  # P(toxic) above this pulls the side (seed 002 gating)


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


@dataclass(frozen=True)
class BookMicroConfig:
    enabled: bool = True
    depth1_bps: float = 10.0
    depth2_bps: float = 25.0
    depth3_bps: float = 50.0
    delta_halflife_s: float = 2.0  # smoothing of dBIM/dt and depth change rates
    sweep_window_ms: int = 3000  # tau_sweep
    sweep_min_levels: int = 3  # distinct price levels crossed to call it a sweep
    # Drift observations (seed 003 phase 7); alpha = 0 switches a feature off.
    alpha_bim: float = 0.3
    alpha_dbim: float = 0.2
    alpha_bpg: float = 0.15
    alpha_sweep: float = 0.5
    sigma_bim: float = 1.5
    sigma_dbim: float = 2.0
    r_bpg: float = 3.0
    sigma_sweep: float = 2.0


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
    alpha_flow: float = 0.5
    sigma_flow: float = 2.0
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
