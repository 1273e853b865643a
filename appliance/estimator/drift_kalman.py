"""Kalman drift filter with Ornstein-Uhlenbeck dynamics (seed 003 phases 1, 5, 7, 8).

In the kernel (its hooks, at the end): every book, ``hot_tier`` (predict, one composite
of book_micro's observations, the trade flow's imbalance over ``flow_horizon_s`` and
``flow_slow_horizon_s`` scaled by kappa); each of our fills, ``obs_fill``; warm,
``warm_tier`` (Hawkes excess, fill-size shift, basis change); cold, ``cold_tier``
(cross-asset lead, funding). Also ``adapt`` (a fill's realized markout) and ``obs_trend``.
Outputs: ``drift_bps_per_s``, ``drift_std_bps_per_s``, ``confidence``, ``out_of_band``.

Model, mu = drift in bps per second (of the mid), P its variance (bps^2/s^2):
  predict over dt:  mu <- mu e^{-theta dt}
                    P  <- P e^{-2 theta dt} + q (1 - e^{-2 theta dt}) / (2 theta)
                    (exact OU step; stationary variance q / (2 theta))
  update (z, R):    K = P / (P + R);  mu <- mu + K (z - mu);  P <- max((1 - K) P, P_min)
Observation noises are the seed's, written for one observation per quote cycle
(``obs_cycle_s``, 5 s): a tier that observes every dt < cycle has its R scaled by
cycle / dt, so a source brings the seed's information per second, not per update
(a 100 ms warm tier would otherwise count one autocorrelated Hawkes excess 50 times
per cycle; repeated observations at the same instant bring nothing and are skipped).
No clamp on mu: P bounds it. A composite of n observations is one update with
  R_c = 1 / sum(1/R_i),  z_c = R_c sum(z_i / R_i)
which gives the same posterior as n sequential updates (without the floor in between).
Adaptation (phase 5): an EWMA of the normalized squared error e^2 / (P + R) of the
prediction against realized drift; above 1 (the filter undershoots) theta *= 1.01 and
q *= 1.05, below 1 theta *= 0.99 and q *= 0.95, each kept within its bounds.
"""

import math

from numba import njit

from shm_layout.estimators import EstimatorConfig

from . import book_micro, fill_size, flow, funding, hawkes, vol
from .emath import status
from .kernel_readers import fill_mid

TIER_HOT, TIER_WARM, TIER_COLD = 0, 1, 2  # index of tier_obs_ts_ns

# --- config vector -------------------------------------------------------------
C_ENABLED = 0
C_THETA = 1
C_Q = 2
C_P0 = 3
C_PMIN = 4
C_ADAPT = 5
C_THETA_MIN = 6
C_THETA_MAX = 7
C_Q_MIN = 8
C_Q_MAX = 9
C_ADAPT_HL = 10
C_BAND = 11
C_A_FILL = 12
C_R_FILL = 13
C_SIG_TREND = 14
C_A_FLOW = 15
C_SIG_FLOW = 16
C_A_FUND = 17
C_SIG_FUND = 18
C_FUND_MIN_OBS = 19
C_A_HAWKES = 20
C_SIG_HAWKES = 21
C_A_SIZE = 22
C_SIG_SIZE = 23
C_A_BASIS = 24
C_SIG_BASIS = 25
C_A_LEAD = 26
C_SIG_LEAD = 27
C_LEAD_MIN_CONF = 28
C_CYCLE_NS = 29  # the quote cycle the observation noises are written for; 0 = no scaling
C_FLOW_AT = 30  # the flow horizon (flow.HORIZONS_S index) nearest flow_horizon_s
C_A_FLOW_SLOW = 31  # the slow flow imbalance's scale
C_FLOW_SLOW_AT = 32  # ... nearest flow_slow_horizon_s
N_CONFIG_DRIFT = 33


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.drift
    v = [0.0] * N_CONFIG_DRIFT
    v[C_ENABLED] = 1.0 if c.enabled else 0.0
    v[C_THETA] = c.theta_per_s
    v[C_Q] = c.process_noise_bps2_per_s3
    v[C_P0] = c.prior_var_bps2_per_s2
    v[C_PMIN] = c.var_floor_bps2_per_s2
    v[C_ADAPT] = 1.0 if c.adapt_enabled else 0.0
    v[C_THETA_MIN], v[C_THETA_MAX] = c.theta_min_per_s, c.theta_max_per_s
    v[C_Q_MIN], v[C_Q_MAX] = c.noise_min, c.noise_max
    v[C_ADAPT_HL] = c.adapt_halflife_obs
    v[C_BAND] = c.band_sigmas
    v[C_A_FILL], v[C_R_FILL] = c.alpha_fill, c.r_fill
    v[C_SIG_TREND] = c.sigma_trend
    v[C_A_FLOW], v[C_SIG_FLOW] = c.alpha_flow, c.sigma_flow
    v[C_A_FUND], v[C_SIG_FUND] = c.alpha_funding, c.sigma_funding
    v[C_FUND_MIN_OBS] = float(c.funding_min_obs)
    v[C_A_HAWKES], v[C_SIG_HAWKES] = c.alpha_hawkes, c.sigma_hawkes
    v[C_A_SIZE], v[C_SIG_SIZE] = c.alpha_fill_size, c.sigma_fill_size
    v[C_A_BASIS], v[C_SIG_BASIS] = c.alpha_basis, c.sigma_basis
    v[C_A_LEAD], v[C_SIG_LEAD] = c.alpha_lead, c.sigma_lead
    v[C_LEAD_MIN_CONF] = c.lead_min_confidence
    v[C_CYCLE_NS] = c.obs_cycle_s * 1e9
    v[C_FLOW_AT] = flow.horizon_slot(c.flow_horizon_s)
    v[C_A_FLOW_SLOW], v[C_FLOW_SLOW_AT] = c.alpha_flow_slow, flow.horizon_slot(c.flow_slow_horizon_s)
    return v


@njit(cache=True)
def init(st, cfg):
    st.mu_bps_per_s = st.last_z = st.last_r = st.last_gain = 0.0
    st.last_predict_ts_ns = st.n_updates = st.n_adapt = 0
    st.tier_obs_ts_ns[:] = 0
    st.p_bps2_per_s2 = cfg[C_P0]
    st.theta_per_s = cfg[C_THETA]
    st.q_bps2_per_s3 = cfg[C_Q]
    st.nis = 1.0


@njit(cache=True)
def predict(st, t_ns):
    """OU propagation to event time t_ns (a no-op the first time and backwards)."""
    if st.last_predict_ts_ns == 0:
        st.last_predict_ts_ns = t_ns
        return
    dt_s = (t_ns - st.last_predict_ts_ns) * 1e-9
    if dt_s <= 0.0:
        return
    th = st.theta_per_s
    e1 = math.exp(-th * dt_s)
    e2 = e1 * e1  # one exp per event: this runs on every book
    st.mu_bps_per_s *= e1
    st.p_bps2_per_s2 = st.p_bps2_per_s2 * e2 + st.q_bps2_per_s3 * (1.0 - e2) / (2.0 * th)
    st.last_predict_ts_ns = t_ns


@njit(cache=True)
def kalman_update(st, cfg, z, r):
    """One observation z (bps/s) with noise variance r; returns the gain K."""
    if not (r > 0.0 and math.isfinite(z) and math.isfinite(r)):
        return 0.0
    p = st.p_bps2_per_s2
    k = p / (p + r)
    st.mu_bps_per_s += k * (z - st.mu_bps_per_s)
    st.p_bps2_per_s2 = max((1.0 - k) * p, cfg[C_PMIN])
    st.n_updates += 1
    st.last_z = z
    st.last_r = r
    st.last_gain = k
    return k


@njit(cache=True)
def composite(z, r, n):
    """Precision-weighted composite of n observations -> (z_c, r_c); r_c = inf if none."""
    prec = 0.0
    acc = 0.0
    for i in range(n):
        if r[i] > 0.0 and math.isfinite(r[i]) and math.isfinite(z[i]):
            prec += 1.0 / r[i]
            acc += z[i] / r[i]
    if prec <= 0.0:
        return 0.0, math.inf
    return acc / prec, 1.0 / prec


@njit(cache=True)
def composite_update(st, cfg, z, r, n):
    """One update per cycle from n observations (P shrinks once, floor applied once)."""
    zc, rc = composite(z, r, n)
    if not math.isfinite(rc):
        return 0.0
    return kalman_update(st, cfg, zc, rc)


@njit(cache=True)
def cycle_scale(st, cfg, slot, t_ns):
    """R multiplier of a tier observing now: cycle / dt since its last observation
    (>= 1; 1 the first time; inf when no time passed: nothing new to learn)."""
    last = st.tier_obs_ts_ns[slot]
    cyc = cfg[C_CYCLE_NS]
    if cyc <= 0.0:
        return 1.0
    if last <= 0:
        st.tier_obs_ts_ns[slot] = t_ns
        return 1.0
    dt = t_ns - last
    if dt <= 0.0:
        return math.inf
    st.tier_obs_ts_ns[slot] = t_ns
    return max(cyc / dt, 1.0)


# --- observation sources -----------------------------------------------------------


@njit(cache=True)
def obs_fill(st, cfg, t_ns, side, fill_px, mid_px, sigma_bps_per_sqrt_s):
    """Own fill: bought (side +1) = sellers came through = bearish.
    z = -side * alpha_fill * |fill - mid|_bps / sigma,  R = r_fill."""
    if cfg[C_A_FILL] == 0.0 or mid_px <= 0.0:
        return 0.0
    predict(st, t_ns)
    dist_bps = abs(fill_px - mid_px) / mid_px * 1e4
    z = -side * cfg[C_A_FILL] * max(dist_bps, 1e-3) / max(sigma_bps_per_sqrt_s, 1e-6)
    return kalman_update(st, cfg, z, cfg[C_R_FILL])


@njit(cache=True)
def obs_trend(st, cfg, t_ns, trend_bps_per_s, agreement, p_continuation):
    """Trend (signed, + = up): z = trend * agreement * p_cont, R = sigma_trend^2 / agreement^2."""
    if agreement <= 0.0:
        return 0.0
    predict(st, t_ns)
    z = trend_bps_per_s * agreement * p_continuation
    return kalman_update(st, cfg, z, cfg[C_SIG_TREND] ** 2 / (agreement * agreement))


@njit(cache=True)
def obs_flow(st, cfg, flow_imb, kappa_total, r_scale=1.0, slow=False):
    """Trade flow imbalance (+ = buy pressure): z = alpha * imb, R = sigma^2 / max(kappa, 0.1);
    alpha the fast horizon's, or the slow one's with ``slow``."""
    alpha = cfg[C_A_FLOW_SLOW] if slow else cfg[C_A_FLOW]
    if alpha == 0.0:
        return 0.0
    r = cfg[C_SIG_FLOW] ** 2 / max(kappa_total, 0.1) * r_scale
    return kalman_update(st, cfg, alpha * flow_imb, r)


@njit(cache=True)
def obs_funding(st, cfg, funding_z, n_obs, r_scale=1.0):
    """High funding = longs pay = bearish: z = -alpha * fz, R = sigma^2 / max(|fz|, 0.1).
    Skipped before the funding estimator has ``funding_min_obs`` observations."""
    if cfg[C_A_FUND] == 0.0 or n_obs < cfg[C_FUND_MIN_OBS]:
        return 0.0
    r = cfg[C_SIG_FUND] ** 2 / max(abs(funding_z), 0.1) * r_scale
    return kalman_update(st, cfg, -cfg[C_A_FUND] * funding_z, r)


@njit(cache=True)
def obs_hawkes(st, cfg, excess_buy, excess_sell, total_intensity, r_scale=1.0):
    """Hawkes excess (per s): z = alpha (excess_buy - excess_sell), R = sigma^2 / max(lambda, 0.1)."""
    if cfg[C_A_HAWKES] == 0.0:
        return 0.0
    z = cfg[C_A_HAWKES] * (excess_buy - excess_sell)
    return kalman_update(st, cfg, z, cfg[C_SIG_HAWKES] ** 2 / max(total_intensity, 0.1) * r_scale)


@njit(cache=True)
def obs_fill_size(st, cfg, size_z_bid, size_z_ask, r_scale=1.0):
    """Fill-size shift: unusually large fills on our bid (sellers) = bearish.
    z = alpha (size_z_ask - size_z_bid), R = sigma^2."""
    if cfg[C_A_SIZE] == 0.0:
        return 0.0
    return kalman_update(st, cfg, cfg[C_A_SIZE] * (size_z_ask - size_z_bid), cfg[C_SIG_SIZE] ** 2 * r_scale)


@njit(cache=True)
def obs_basis(st, cfg, d_basis_bps, r_scale=1.0):
    """Change of basis (ours minus reference, bps): z = alpha * d_basis, R = sigma^2."""
    if cfg[C_A_BASIS] == 0.0:
        return 0.0
    return kalman_update(st, cfg, cfg[C_A_BASIS] * d_basis_bps, cfg[C_SIG_BASIS] ** 2 * r_scale)


@njit(cache=True)
def obs_lead(st, cfg, lead_bps_per_s, confidence, r_scale=1.0):
    """Cross-asset lead: skipped below min confidence; z = alpha * lead, R = sigma^2 / conf."""
    if cfg[C_A_LEAD] == 0.0 or confidence < cfg[C_LEAD_MIN_CONF]:
        return 0.0
    return kalman_update(st, cfg, cfg[C_A_LEAD] * lead_bps_per_s, cfg[C_SIG_LEAD] ** 2 / confidence * r_scale)


# --- tiers -------------------------------------------------------------------------


@njit(cache=True)
def hot_tier(st, cfg, t_ns, z_book, r_book, n_book, flow_imb, flow_imb_slow, kappa_total):
    """Every cycle: predict, one composite book update, the flow observations at the fast
    and the slow horizon (R x cycle / dt: see the module note)."""
    if cfg[C_ENABLED] == 0.0:
        return
    predict(st, t_ns)
    scale = cycle_scale(st, cfg, TIER_HOT, t_ns)
    if not math.isfinite(scale):
        return
    zc, rc = composite(z_book, r_book, n_book)
    if math.isfinite(rc):
        kalman_update(st, cfg, zc, rc * scale)
    obs_flow(st, cfg, flow_imb, kappa_total, scale)
    obs_flow(st, cfg, flow_imb_slow, kappa_total, scale, True)


@njit(cache=True)
def warm_tier(st, cfg, t_ns, excess_buy, excess_sell, total_intensity, size_z_bid, size_z_ask, d_basis_bps):
    if cfg[C_ENABLED] == 0.0:
        return
    predict(st, t_ns)
    scale = cycle_scale(st, cfg, TIER_WARM, t_ns)
    if not math.isfinite(scale):
        return
    obs_hawkes(st, cfg, excess_buy, excess_sell, total_intensity, scale)
    obs_fill_size(st, cfg, size_z_bid, size_z_ask, scale)
    obs_basis(st, cfg, d_basis_bps, scale)


@njit(cache=True)
def cold_tier(st, cfg, t_ns, lead_bps_per_s, lead_confidence, funding_z, funding_n_obs):
    if cfg[C_ENABLED] == 0.0:
        return
    predict(st, t_ns)
    scale = cycle_scale(st, cfg, TIER_COLD, t_ns)
    if not math.isfinite(scale):
        return
    obs_lead(st, cfg, lead_bps_per_s, lead_confidence, scale)
    obs_funding(st, cfg, funding_z, funding_n_obs, scale)


# --- adaptation (phase 5) -------------------------------------------------------------


@njit(cache=True)
def adapt(st, cfg, realized_drift_bps_per_s, r_realized):
    """Compare the filter with the drift realized over a markout; nudge theta and q."""
    if cfg[C_ADAPT] == 0.0:
        return
    e = realized_drift_bps_per_s - st.mu_bps_per_s
    nis = e * e / (st.p_bps2_per_s2 + max(r_realized, 1e-9))
    a = 1.0 - math.exp(-math.log(2.0) / cfg[C_ADAPT_HL])
    st.nis += a * (nis - st.nis)
    st.n_adapt += 1
    if st.nis > 1.0:  # errors larger than the filter believes: react faster
        th, q = st.theta_per_s * 1.01, st.q_bps2_per_s3 * 1.05
    else:
        th, q = st.theta_per_s * 0.99, st.q_bps2_per_s3 * 0.95
    st.theta_per_s = min(max(th, cfg[C_THETA_MIN]), cfg[C_THETA_MAX])
    st.q_bps2_per_s3 = min(max(q, cfg[C_Q_MIN]), cfg[C_Q_MAX])


# --- outputs -----------------------------------------------------------------------------


@njit(cache=True)
def drift_bps_per_s(st):
    return st.mu_bps_per_s


@njit(cache=True)
def drift_std_bps_per_s(st):
    return math.sqrt(st.p_bps2_per_s2)


@njit(cache=True)
def confidence(st, cfg):
    """1 - P / P0, in [.., 1): 0 at the prior."""
    return 1.0 - st.p_bps2_per_s2 / cfg[C_P0]


@njit(cache=True)
def out_of_band(st, cfg):
    """1.0 when the drift left its uncertainty band: |mu| > band_sigmas * sqrt(P)."""
    return 1.0 if abs(st.mu_bps_per_s) > cfg[C_BAND] * math.sqrt(st.p_bps2_per_s2) else 0.0


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Hot tier on every book: book_micro's observations of this event (into the header's
    ``book_z``, ``book_r``; BPG signed by our position), flow's imbalance over
    ``flow_horizon_s`` and ``flow_slow_horizon_s``, kappa (their hooks run before this one)."""
    h = state.header
    pos = h.position_sz
    zb = h.book_z
    rb = h.book_r
    n = book_micro.drift_observations(state.book, cfg.book, t, 1.0 if pos > 0 else (-1.0 if pos < 0 else 0.0),
                                      zb, rb)
    fast = flow.imbalance(state.flow, int(cfg.drift[C_FLOW_AT]))
    slow = flow.imbalance(state.flow, int(cfg.drift[C_FLOW_SLOW_AT]))
    hot_tier(state.drift, cfg.drift, t, zb, rb, n, fast, slow, state.kappa.kappa_per_bps)


@njit(cache=True, inline="always")
def hook_fill(state, cfg, q, t):
    """One of our fills against the mid at the fill, scaled by vol's sigma_clean."""
    mid0 = fill_mid(state, q)
    if mid0 > 0.0:
        obs_fill(state.drift, cfg.drift, float(q.ts_ns), float(q.side), q.px, mid0,
                 vol.sigma_clean(state.vol))


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """Warm observations: Hawkes excess and total intensity, fill-size shift, basis change."""
    st_fs = state.fill_size
    lb, ls, _, eb, es = hawkes.outputs(state.hawkes, t)
    warm_tier(state.drift, cfg.drift, t, eb, es, lb + ls, fill_size.zscore(st_fs, 1),
              fill_size.zscore(st_fs, -1), state.header.cross.d_basis_bps)


@njit(cache=True, inline="always")
def hook_cold(state, cfg, t):
    """Cold observations: the cross-asset lead (``kernel_cross``) and funding."""
    st_f = state.funding
    x = state.header.cross
    cold_tier(state.drift, cfg.drift, t, x.lead_bps_per_s, x.lead_confidence,
              funding.zscore(st_f, cfg.funding), float(st_f.n_obs))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The Kalman drift's MarketParams fields."""
    out.drift_status = status(cfg[C_ENABLED] != 0.0, h.last_book_ts_ns > 0,
                              float(h.last_book_ts_ns), t, stale)
    out.drift_bps_per_s = drift_bps_per_s(st)
    out.drift_uncertainty_bps_per_s = drift_std_bps_per_s(st)
    out.drift_confidence = confidence(st, cfg)
    out.drift_theta_per_s = st.theta_per_s
    out.drift_out_of_band = int(out_of_band(st, cfg))
