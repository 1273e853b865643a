"""Volatility: bipower and realized variance at three scales, jumps, kurtosis, SV fit, blend.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.vol]`` config.
Kernels: ``appliance/estimator/vol.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "vol"

STATE = np.dtype(
    [
        ("last_ts_ns", "<i8"),  # last sample
        ("last_mid_px", "<f8"),
        ("last_abs_r_bps", "<f8"),
        ("n_samples", "<i8"),
        ("rv_fast_bps2_per_s", "<f8"),  # realized variance, 30 s half-life
        ("bv_fast_bps2_per_s", "<f8"),  # bipower variance, 30 s
        ("rv_bps2_per_s", "<f8"),  # vol_halflife_s
        ("bv_bps2_per_s", "<f8"),
        ("rv_slow_bps2_per_s", "<f8"),  # 300 s
        ("bv_slow_bps2_per_s", "<f8"),
        ("z2", "<f8"),  # EWMA of the squared standardized return
        ("z4", "<f8"),  # ... and of its square
        ("jump_ts_ns", "<i8"),  # time of the last jump
        ("jump_dir", "<i8"),  # its sign
        ("jump_bps", "<f8"),  # its signed size
        ("n_jumps", "<i8"),
        ("jump_rate_per_s", "<f8"),  # EWMA jumps per second (main half-life)
        ("block_sum_bps2", "<f8"),  # sum of r^2 in the open SV block
        ("block_n", "<i8"),
        ("block_start_ts_ns", "<i8"),
        ("v_prev_bps2_per_s", "<f8"),  # previous block variance
        ("sv_mean", "<f8"),
        ("sv_var", "<f8"),
        ("sv_cov1", "<f8"),  # lag-1 autocovariance
        ("sv_n", "<i8"),
        ("sv_kappa_per_s", "<f8"),
        ("sv_theta_bps2_per_s", "<f8"),
        ("sv_xi_bps_per_s", "<f8"),
        ("sigma_eff_bps_per_sqrt_s", "<f8"),  # the blend
        ("blend_w", "<f8"),
        ("last_r_bps", "<f8"),
    ],
    align=True,
)


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
    # as_ratio_adjustment = 1 + k max(excess kurtosis, 0) (seed 003 phase 8, where k is
    # 0.3). Returns sampled at vol_sample_ms have excess kurtosis 20-100 wherever the price
    # jumps, so 0.3 multiplied AS by 10-30: the measurement loop scored that 9-106x the
    # realized 10 s AS on market fills. `mmctl calibrate` fits k = 0.0032 on usdm_btc and
    # ~0 on usdm_eth; the built-in default is that fit (issue 16, BENCHMARKS.md)
    kurtosis_as_k: float = 0.003


CONFIG = VolConfig
