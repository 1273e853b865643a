"""How much the Kalman drift is worth: its forecast scored online (issue 16).

The quote kernel moves its reservation price by the drift's expected move; a drift
that does not forecast the mid only moves quotes onto the touch with no edge. This
estimator measures the forecast the way the measurement loop scores it (the
calibration slope, ``appliance.measure.scores``), causally, and publishes it as the
weight the quote kernel gives the drift (MarketParams ``drift_skill``).

Every cold-tier run at least ``sample_ms`` after the last sample: push (t, mu, theta,
mid) into a ring; the sample ``horizon_s`` back (the first one at least that old, no
older than 3 horizons: a gap in the data is not scored) is scored:

    forecast f = mu_then (1 - e^{-theta_then dt}) / (theta_then dt)   OU average drift
    realized r = (mid_now - mid_then) / mid_then 1e4 / dt              bps/s
    Sxy <- a Sxy + f r,  Sxx <- a Sxx + f^2,  W <- a W + 1             a = 2^{-dt_s / halflife}
    slope = Sxy / Sxx;  skill = clip((W slope + n0 s0) / (W + n0), 0, 1)

(n0 = ``prior_samples``, s0 = ``prior_skill``). A backwards forecast (slope < 0) gets
weight 0, never a negative one: the kernel does not trade against its own drift.
"""

import math

from numba import njit

from shm_layout.estimators.drift_skill import RING_LEN

C_ENABLED = 0
C_HORIZON_NS = 1
C_SAMPLE_NS = 2
C_HALFLIFE_S = 3
C_PRIOR_SKILL = 4
C_PRIOR_N = 5


def config_values(est) -> list[float]:
    c = est.drift_skill
    return [1.0 if c.enabled else 0.0, c.horizon_s * 1e9, c.sample_ms * 1e6, c.halflife_s,
            c.prior_skill, c.prior_samples]


@njit(cache=True)
def _clip01(x):
    return min(max(x, 0.0), 1.0)


@njit(cache=True)
def init(st, cfg):
    st.ring_ts_ns[:] = 0
    st.ring_mu[:] = 0.0
    st.ring_theta[:] = 0.0
    st.ring_mid[:] = 0.0
    st.head = st.n_samples = st.n_scored = 0
    st.sxy = st.sxx = st.sw = 0.0
    st.skill = _clip01(cfg[C_PRIOR_SKILL]) if cfg[C_ENABLED] != 0.0 else 1.0


@njit(cache=True)
def ou_mean_factor(theta_per_s, dt_s):
    """(1 - e^{-theta dt}) / (theta dt): the OU drift's average over dt as a share of its
    value now (1 without reversion)."""
    x = theta_per_s * dt_s
    if not x > 1e-9:
        return 1.0
    return (1.0 - math.exp(-x)) / x


@njit(cache=True)
def skill_of(st, cfg):
    """The shrunk calibration slope, in [0, 1]."""
    slope = st.sxy / st.sxx if st.sxx > 0.0 else 0.0
    n0 = cfg[C_PRIOR_N]
    if st.sw + n0 <= 0.0:
        return _clip01(cfg[C_PRIOR_SKILL])
    return _clip01((st.sw * slope + n0 * cfg[C_PRIOR_SKILL]) / (st.sw + n0))


@njit(cache=True)
def sample(st, cfg, t_ns, mu, theta, mid):
    """One sample at event time ``t_ns``; scores the one a horizon back."""
    if cfg[C_ENABLED] == 0.0 or not (mid > 0.0 and math.isfinite(mu) and math.isfinite(theta)):
        return
    if st.n_samples > 0 and t_ns - st.ring_ts_ns[st.head] < cfg[C_SAMPLE_NS]:
        return
    prev_ts = st.ring_ts_ns[st.head] if st.n_samples > 0 else t_ns
    st.head = (st.head + 1) % RING_LEN
    st.ring_ts_ns[st.head] = t_ns
    st.ring_mu[st.head] = mu
    st.ring_theta[st.head] = theta
    st.ring_mid[st.head] = mid
    st.n_samples += 1
    horizon = cfg[C_HORIZON_NS]
    for k in range(1, min(st.n_samples, RING_LEN)):  # newest first: the first >= horizon old
        j = (st.head - k) % RING_LEN
        age = t_ns - st.ring_ts_ns[j]
        if age < horizon:
            continue
        if age <= 3.0 * horizon:
            dt_s = age * 1e-9
            f = st.ring_mu[j] * ou_mean_factor(st.ring_theta[j], dt_s)
            r = (mid - st.ring_mid[j]) / st.ring_mid[j] * 1e4 / dt_s
            a = 0.5 ** ((t_ns - prev_ts) * 1e-9 / cfg[C_HALFLIFE_S])
            st.sxy = a * st.sxy + f * r
            st.sxx = a * st.sxx + f * f
            st.sw = a * st.sw + 1.0
            st.n_scored += 1
            st.skill = skill_of(st, cfg)
        break


@njit(cache=True, inline="always")
def hook_cold(state, cfg, t):
    """After drift_kalman's cold run: its mu and theta, the header's mid."""
    h = state.header
    if h.bid_px > 0.0 and h.ask_px > h.bid_px:
        d = state.drift
        sample(state.drift_skill, cfg.drift_skill, int(t), d.mu_bps_per_s, d.theta_per_s,
               0.5 * (h.bid_px + h.ask_px))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The drift's weight for the quote kernel."""
    out.drift_skill = st.skill
