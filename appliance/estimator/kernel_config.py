"""The kernel's config record, built from ``EstimatorConfig`` once at start.

One field per estimator of the registry that has settings (an f8 vector in that
estimator's own ``config_values`` order) and ``tiers``, the kernel's own settings
(timers in int64 ns, the reference coins). Kernels read ``cfg.<estimator>[C_*]`` and
``cfg.tiers.<field>``; nothing here is hand-numbered.
"""

import importlib

import numpy as np

from shm_layout.constants import MAX_COINS
from shm_layout.estimators import REGISTRY, EstimatorConfig

# The kernel module of each declared estimator: appliance/estimator/<same module name>.
KERNELS = tuple(
    importlib.import_module(f"{__package__}.{decl.__name__.rsplit('.', 1)[1]}") for decl in REGISTRY
)

TIERS_CONFIG = np.dtype(
    [
        ("warm_ns", "<i8"),  # event time between warm-tier runs
        ("cold_ns", "<i8"),
        ("stale_ns", "<i8"),  # an estimator whose input is older is "stale"
        ("warmup_samples", "<i8"),  # volatility samples before sigma is trusted
        ("n_coins", "<i8"),
        ("ref_coin", "<i8", (MAX_COINS,)),  # basis / lead-lag reference per coin, -1 none
        ("corr_ref_coin", "<i8"),  # the coin every coin's correlation is reported against
        ("kurtosis_tail_k", "<f8"),  # as_ratio_adjustment = 1 + k max(kurtosis, 0)
        ("leadlag_sample_s", "<f8"),
    ],
    align=True,
)

_DEFAULT = EstimatorConfig()
_WITH_CONFIG = tuple((d, k) for d, k in zip(REGISTRY, KERNELS, strict=True) if d.CONFIG is not None)

KERNEL_CONFIG = np.dtype(
    [("tiers", TIERS_CONFIG)]
    + [(d.NAME, "<f8", (len(k.config_values(_DEFAULT)),)) for d, k in _WITH_CONFIG],
    align=True,
)


def _tiers(t: np.void, est: EstimatorConfig, coins: tuple[str, ...]) -> None:
    tiers = est.tiers
    t["warm_ns"] = tiers.warm_interval_ms * 1_000_000
    t["cold_ns"] = tiers.cold_interval_ms * 1_000_000
    t["stale_ns"] = int(tiers.stale_after_s * 1e9)
    t["warmup_samples"] = est.warmup_samples
    t["n_coins"] = max(len(coins), 1)
    t["ref_coin"][:] = -1
    for pair in tiers.basis_pairs:
        a, _, b = pair.partition("=")
        if a in coins and b in coins:
            t["ref_coin"][coins.index(a)] = coins.index(b)
    ref = tiers.corr_reference_coin
    t["corr_ref_coin"] = coins.index(ref) if ref in coins else 0
    t["kurtosis_tail_k"] = est.vol.kurtosis_as_k
    t["leadlag_sample_s"] = est.correlation.leadlag_sample_ms * 1e-3


def config_vector(est: EstimatorConfig, coins: tuple[str, ...] | None = None) -> np.void:
    """The kernel's config record from ``[estimator]`` (and the coin names, for the
    reference coins of correlation and basis)."""
    rec = np.zeros(1, KERNEL_CONFIG)[0]
    _tiers(rec["tiers"], est, tuple(coins or ()))
    for d, k in _WITH_CONFIG:
        rec[d.NAME][:] = k.config_values(est)
    return rec
