"""Adverse selection: markouts of our fills at six horizons, AS(depth) fit.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.adverse_selection]`` config.
Kernels: ``appliance/estimator/adverse_selection.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "adverse_selection"

N_HORIZONS = 6  # markout horizons (config horizons_ms)
N_PENDING = 16  # fills awaiting markouts; when full the oldest is dropped
N_BUCKETS = 8  # depth buckets of the AS(depth) fit

# Markouts at one horizon: EWMAs over the fills marked there.
HORIZON_STATS = np.dtype(
    [("as_mean_bps", "<f8"), ("as_var_bps2", "<f8"), ("markout_mean_bps", "<f8"), ("n", "<i8")],
    align=True,
)
# One depth bucket: decayed fill weight, weight x depth, weight x AS.
DEPTH_BUCKET = np.dtype([("w", "<f8"), ("w_depth_bps", "<f8"), ("w_as_bps", "<f8")], align=True)
# A fill awaiting its markouts.
PENDING_FILL = np.dtype(
    [("ts_ns", "<i8"), ("px", "<f8"), ("side", "<i8"), ("mid0_px", "<f8"), ("next_horizon", "<i8")],
    align=True,
)

STATE = np.dtype(
    [
        ("mid_px", "<f8"),
        ("last_ts_ns", "<i8"),
        ("n_fills", "<i8"),
        ("n_marked", "<i8"),  # fills whose reference horizon is resolved
        ("alpha", "<f8"),  # EWMA share of informed fills
        ("as0_bps", "<f8"),  # AS(depth) = as0 exp(-depth / delta_char)
        ("delta_char_bps", "<f8"),
        ("fit_ok", "<i8"),
        ("last_drift_bps_per_s", "<f8"),  # realized over the reference horizon
        ("n_drift", "<i8"),
        ("mom_ema_px", "<f8"),  # EWMA of the mid (momentum_tau_ms), 0 before any mid
        ("mom_ts_ns", "<i8"),  # time of the last mid
        ("horizons", HORIZON_STATS, (N_HORIZONS,)),
        ("buckets", DEPTH_BUCKET, (N_BUCKETS,)),
        ("pending", PENDING_FILL, (N_PENDING,)),
    ],
    align=True,
)


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
    min_fills_per_bucket: float = 10.0
    # Ranking terms (issue 14; 0 = off, ``mmctl calibrate`` fits them). A fill at depth d
    # after the mid moved m = (mid - EWMA mid) / mid bps costs, on top of AS0 exp(-d / d_char),
    # exp(depth_coef min(d, depth_cap)) exp(momentum_coef clip(aggressor side x m, +-clip)).
    depth_coef_per_bps: float = 0.0  # > 0: deeper fills are sweeps, more adverse
    depth_cap_bps: float = 0.0  # the depth term stops growing here (train 99th percentile)
    momentum_coef: float = 0.0  # < 0: a move already made in the aggressor's direction reverts
    momentum_tau_ms: float = 1000.0
    momentum_clip_bps: float = 1.0


CONFIG = AdverseSelectionConfig
