"""Config of the estimator modules of part A (tiers, volatility, regime, volume
clock, kappa, microprice, trade flow, Hawkes, funding, spread, liquidation cascade).

Frozen, units in the names, defaults from seeds 001/003/004 where they give one.
Each component has an ``enabled`` flag (seed 003's rollback table): off, its module
is not called and its MarketParams fields hold their neutral values with status
"off". Each module's ``config_values(cfg)`` turns its section into the float vector
its kernels read.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TiersConfig:
    warm_interval_ms: int = 100  # event time between warm-tier runs
    cold_interval_ms: int = 1000  # event time between cold-tier runs
    stale_after_s: float = 30.0  # an estimator whose input is older than this is "stale"
    corr_reference_coin: str = ""  # correlation / hedge ratio against this coin ("" = first)
    basis_pairs: tuple[str, ...] = ()  # "COIN=REF": basis and lead-lag of COIN against REF


@dataclass(frozen=True)
class VolConfig:
    fast_halflife_s: float = 30.0  # sigma_30s of the term structure
    slow_halflife_s: float = 300.0  # sigma_300s
    jump_threshold_sigmas: float = 4.0  # |r| > this * sigma_clean * sqrt(dt) = a jump
    kurtosis_halflife_s: float = 600.0
    sv_block_s: float = 10.0  # block length of the variance series of the SV fit
    sv_halflife_blocks: float = 60.0
    # Blending sigma_eff^2 = w sigma_total^2 + (1 - w) sigma_clean^2 (seed 001 1.2):
    blend_enabled: bool = True  # off = the old plain average (clean + total) / 2
    blend_w_low: float = 0.2  # w by regime ...
    blend_w_normal: float = 0.3
    blend_w_high: float = 0.5
    blend_w_extreme: float = 0.8
    blend_w_toxicity: float = 0.5  # ... plus this * toxicity in [0, 1]
    blend_w_crash: float = 0.15  # ... plus this after a recent downward jump
    crash_memory_s: float = 60.0
    term_structure_nu: float = 0.5  # sigma_eff * max(1, sigma_30s/sigma_300s)^nu
    kurtosis_as_k: float = 0.3  # as_ratio_adjustment = 1 + k max(excess kurtosis, 0)


@dataclass(frozen=True)
class RegimeConfig:
    enabled: bool = True
    baseline_halflife_s: float = 3600.0  # the coin's own long-run sigma_clean
    enter_high_ratio: float = 1.5  # sigma_clean_30s / baseline entering High
    enter_extreme_ratio: float = 3.0
    enter_low_ratio: float = 0.5  # below this: Low
    exit_band: float = 0.8  # hysteresis: leave High below 0.8 * 1.5, Low above 0.5 / 0.8
    min_dwell_samples: int = 5  # consecutive samples a new regime must hold
    gamma_mult_low: float = 0.8
    gamma_mult_normal: float = 1.0
    gamma_mult_high: float = 1.5
    gamma_mult_extreme: float = 2.5
    spread_mult_low: float = 0.9
    spread_mult_normal: float = 1.0
    spread_mult_high: float = 1.4
    spread_mult_extreme: float = 2.0


@dataclass(frozen=True)
class VolumeClockConfig:
    enabled: bool = True
    bucket_fraction: float = 0.01  # bucket = 1% of the rolling window's volume
    window_s: float = 300.0  # rolling volume window (5 min)
    initial_bucket_sz: float = 0.0  # > 0: size of buckets before the rate is known
    min_warmup_s: float = 5.0  # event time before the first bucket may close


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


@dataclass(frozen=True)
class MicropriceConfig:
    enabled: bool = True  # off = microprice is the mid
    horizon_ms: int = 300  # forward mid move it predicts
    halflife_s: float = 60.0  # memory of the regression (seed 001: 60 s window)
    ridge_lambda: float = 0.05  # shrinkage per effective sample
    min_r2: float = 0.01  # out-of-sample R^2 below this = fall back to mid
    min_samples: float = 100.0
    max_adj_bps: float = 50.0
    regime_conditional: bool = True


@dataclass(frozen=True)
class FlowConfig:
    # Four horizons are fixed (1, 5, 30, 300 s), named in the MarketParams fields.
    drift_scale: float = 0.5  # phase 3: z = scale * imbalance (sell pressure -> z < 0)
    drift_sigma: float = 2.0  # R = sigma^2 / max(kappa_total, 0.1)


@dataclass(frozen=True)
class HawkesConfig:
    enabled: bool = True
    mu_prior_per_s: float = 1.0
    alpha_prior_per_s: float = 0.5
    beta_prior_per_s: float = 2.0
    min_events: int = 200  # events per side before the fitted parameters are used
    forget_halflife_events: float = 5000.0  # memory of the online EM
    max_branching: float = 0.95


@dataclass(frozen=True)
class FundingConfig:
    enabled: bool = True
    sample_s: float = 60.0  # one observation of the rate per this much event time
    halflife_obs: float = 60.0  # EWMA mean and variance of the rate, in observations
    warmup_obs: int = 3  # seed 003 phase 6: before 3 observations no signal
    premium_halflife_s: float = 1800.0
    interest_per_8h: float = 0.0001  # Hyperliquid: 0.01% per 8 h
    premium_clamp: float = 0.0005
    holding_h: float = 1.0  # horizon of funding_cost_bps
    std_floor_per_h: float = 1e-7


@dataclass(frozen=True)
class SpreadConfig:
    enabled: bool = True
    halflife_s: float = 600.0  # memory of the spread distribution
    tight_pct: float = 0.2
    wide_pct: float = 0.8
    blowout_pct: float = 0.97


@dataclass(frozen=True)
class CascadeConfig:
    """Liquidation cascade detector (``estimator/cascade.py`` has the formulas)."""
    enabled: bool = True
    window_ms: int = 30000  # price move and OI drop window
    rate_ratio_ref: float = 2.5  # min(5 s, 30 s volume rate) / gated baseline above this counts
    move_sigmas_ref: float = 3.0  # |move| / (sigma_300s sqrt(window)) above this amplifies
    oi_drop_ref_bps_per_min: float = 60.0  # open interest falling faster than this counts
    w_rate: float = 1.0
    w_move: float = 0.5
    w_oi: float = 1.0
    pull_enter: float = 0.7  # severity to pull quotes ...
    pull_exit: float = 0.4  # ... and to resume, after
    pull_hold_s: float = 15.0  # bridges dips of the 5/30 s measures inside a cascade
    tail_max_mult: float = 3.0
    baseline_halflife_s: float = 300.0  # memory of the calm volume rate
    min_baseline_s: float = 60.0  # weighted seconds of history before the rate counts
    sigma_floor_bps_per_sqrt_s: float = 0.3  # a cold or thin-book sigma is not a move scale
