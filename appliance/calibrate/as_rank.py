"""The AS model's ranking terms: a multiplicative correction on top of the depth-decay
and tail model, fitted by Poisson quasi-likelihood.

    E[AS | x] = base(d, kurtosis) x exp(b0 + b_d min(d, cap) + b_m clip(m, +-clip))

d is the fill's depth, m the mid's momentum in the aggressor's direction before the
trade (``as_features``). On market fills AS rises with depth (a fill beyond the touch is
a sweep) and falls with m (a move already made partly reverts); the decay model
AS0 exp(-d / delta_char) can only fall with depth, so these terms carry the ranking.

Why Poisson quasi-likelihood: maximizing sum(y eta - exp(eta)) with eta = offset + x b
solves sum((y - mu) x) = 0, which is consistent for any y with E[y | x] = mu, negative
markouts included (least squares on log y would need y > 0), and the objective is
concave, so Newton's method finds the one maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEPTH_CAP_QUANTILE = 0.99  # the growth stops at the train part's 99th percentile depth
MAX_NEWTON_STEPS = 100
MAX_STEP = 1.0  # per coefficient and Newton step (keeps exp() in range far from the optimum)


@dataclass(frozen=True)
class RankTerms:
    log_level: float  # b0: the base's level correction (AS0 x exp(b0))
    depth_coef_per_bps: float
    depth_cap_bps: float
    momentum_coef: float
    converged: bool


def design(depth_bps: np.ndarray, mom_adv_bps: np.ndarray, cap_bps: float, clip_bps: float) -> np.ndarray:
    d = np.minimum(np.maximum(depth_bps, 0.0), cap_bps)
    m = np.clip(np.nan_to_num(mom_adv_bps), -clip_bps, clip_bps)
    return np.column_stack([np.ones_like(d), d, m])


def poisson_qml(x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, bool]:
    """argmax_b sum(y (offset + x b) - exp(offset + x b)); (b, converged)."""
    b = np.zeros(x.shape[1])
    b[0] = math.log(max(float(np.mean(y)) / max(float(np.mean(np.exp(offset))), 1e-300), 1e-12))
    ridge = 1e-9 * np.eye(x.shape[1])  # a constant column (no depth spread) stays solvable
    for _ in range(MAX_NEWTON_STEPS):
        mu = np.exp(offset + x @ b)
        grad = x.T @ (y - mu)
        hess = (x * mu[:, None]).T @ x + ridge
        step = np.clip(np.linalg.solve(hess, grad), -MAX_STEP, MAX_STEP)
        b += step
        if np.max(np.abs(step)) < 1e-9:
            return b, True
    return b, False


def fit_rank(depth_bps: np.ndarray, mom_adv_bps: np.ndarray, base_bps: np.ndarray, as_bps: np.ndarray,
             clip_bps: float) -> RankTerms | None:
    """The ranking terms over fills with a finite markout and a positive base; None when
    the mean AS is not positive (no multiplicative model of a non-positive mean)."""
    ok = np.isfinite(as_bps) & np.isfinite(base_bps) & (base_bps > 0.0) & np.isfinite(depth_bps)
    if ok.sum() < 3 or float(np.mean(as_bps[ok])) <= 0.0:
        return None
    d, y = depth_bps[ok], as_bps[ok]
    cap = float(np.quantile(np.maximum(d, 0.0), DEPTH_CAP_QUANTILE))
    b, conv = poisson_qml(design(d, mom_adv_bps[ok], cap, clip_bps), y, np.log(base_bps[ok]))
    return RankTerms(float(b[0]), float(b[1]) if cap > 0.0 else 0.0, cap, float(b[2]), conv)
