"""GLFT depths and the continuous risk aversion (seed 003 phase 2).

Units: gamma and kappa per bps, sigma in bps/sqrt(s), horizons in s, depths in bps.

    delta(kappa)  = (1/gamma) ln(1 + gamma/kappa) + maker fee      half-spread of a side
    gamma(q)      = gamma_base (1 + beta (q/q_max)^2) x regime x toxicity x time-of-day
    skew          = gamma sigma^2 q T                              reservation shift, bps
    drift shift   = w mu T_ou / 2, |.| <= k sigma sqrt(T) / 2          bid narrows, ask widens
                    T_ou = (1 - e^{-theta T}) / theta: the OU drift decays over T;
                    w: the drift's scored skill (MarketParams drift_skill, issue 16)

No discrete zones: gamma is smooth in q. Only above 100 % utilization is the
accumulating side cleared, and that guard is in the ladder, not here.
"""

import math

from numba import njit


@njit(cache=True)
def inventory_scalar(util, beta):
    """1 + beta u^2 for a utilization u = |q| / q_max (continuous, increasing in u)."""
    return 1.0 + beta * util * util


@njit(cache=True)
def gamma_of_q(gamma_base, beta, util):
    return gamma_base * inventory_scalar(util, beta)


@njit(cache=True)
def half_spread_bps(gamma, kappa, fee_bps):
    """GLFT optimal half-spread of one side; 1/kappa + fee in the gamma -> 0 limit."""
    if gamma < 1e-12:
        return 1.0 / kappa + fee_bps
    return math.log(1.0 + gamma / kappa) / gamma + fee_bps


@njit(cache=True)
def excess_toxicity(p_toxic, neutral):
    """How far P(toxic) is above its neutral prior, scaled to [0, 1]."""
    if neutral >= 1.0:
        return 0.0
    return min(max(p_toxic - neutral, 0.0) / (1.0 - neutral), 1.0)


@njit(cache=True)
def tod_multiplier(cfg, c_tod, event_ts_ns):
    """Gamma multiplier of the UTC hour of ``event_ts_ns`` (1 when unknown)."""
    if event_ts_ns <= 0:
        return 1.0
    hour = (event_ts_ns // 3_600_000_000_000) % 24
    m = cfg[c_tod + hour]
    return m if m > 0.0 else 1.0


@njit(cache=True)
def inventory_skew_bps(gamma, sigma_bps, q, horizon_s):
    """gamma sigma^2 q T: a long (q > 0) moves the reservation price down."""
    return gamma * sigma_bps * sigma_bps * q * horizon_s


@njit(cache=True)
def ou_horizon_s(theta_per_s, horizon_s):
    """How far an OU drift carries the mid over ``horizon_s``, in seconds of its value
    now: (1 - e^{-theta T}) / theta (T without reversion, or theta unknown). The estimator
    scores its forecast with the same average (estimator/drift_skill.py)."""
    x = theta_per_s * horizon_s
    if not x > 1e-9:  # NaN, zero or negative: no reversion assumed
        return horizon_s
    return (1.0 - math.exp(-x)) / theta_per_s


@njit(cache=True)
def drift_shift_bps(drift_bps_per_s, horizon_s, clamp_bps, cap_bps=0.0):
    """mu T / 2, the half of the drift over the horizon each side carries (``horizon_s``
    the OU-carried horizon when the caller has one); clamped at ``clamp_bps`` when > 0
    (the legacy yardstick) and at ``cap_bps`` when > 0 (a multiple of sigma sqrt(T) / 2:
    no drift forecast claims more of the move than the market's own noise, issue 16)."""
    s = 0.5 * drift_bps_per_s * horizon_s
    if clamp_bps > 0.0:
        s = min(max(s, -clamp_bps), clamp_bps)
    if cap_bps > 0.0:
        s = min(max(s, -cap_bps), cap_bps)
    return s
