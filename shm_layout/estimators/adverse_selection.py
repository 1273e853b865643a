"""Adverse selection: markouts of our fills at six horizons, AS(depth) fit.

Declaration only (numpy and dataclasses): the state this estimator keeps per coin in
shared memory and its ``[estimator.adverse_selection]`` config.
Kernels: ``appliance/estimator/adverse_selection.py``.
"""

from dataclasses import dataclass

import numpy as np

NAME = "adverse_selection"

# f8 words addressed by the S_* indices of the kernel module (named fields: to do)
STATE = np.dtype(("<f8", (138,)))


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


CONFIG = AdverseSelectionConfig
