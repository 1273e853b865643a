"""Cross-asset correlation at three EWMA scales with hedge ratios (seed 000 gap 6), and
cross-venue basis and lead-lag against a second stream.

Wiring (for the estimator kernel):
  Correlation (one state for all coins, not per coin): a ``MATRIX`` record,
    ``init_corr(st)``; per book/BBO event of any configured coin
    ``corr_on_mid(st, cfg, t_ns, coin, mid_px)``. Outputs: ``corr(st, scale, i, j)``,
    ``beta(st, scale, i, j)``, ``var_bps2(st, scale, i)`` (per sample), ``corr_valid(st, cfg,
    scale)``; scale 0 = fast (~1 min), 1 = medium (~10 min), 2 = slow (~1 h).
  Cross-venue (one state per pair: our coin A vs reference stream B, e.g. Binance): a
    ``CROSS_VENUE`` record, ``init_xv(st)``; ``xv_on_mid(st, cfg, t_ns, 0, mid_a)`` for
    our mid and ``xv_on_mid(st, cfg, t_ns, 1, mid_b)`` for the reference. Outputs:
    ``basis_bps``, ``basis_mean_bps``, ``basis_z``, ``d_basis_bps`` (basis minus its EWMA
    mean, for drift_kalman.obs_basis); ``best_lag(st)`` (samples; > 0 = B leads A),
    ``best_lag_corr(st)``, ``lag_corr(st, lag)``, ``lead_bps_per_s(st, cfg)`` and
    ``lead_confidence(st, cfg)`` (for drift_kalman.obs_lead).

Correlation: every sample_ms of event time each coin's log return since the last sample
r_i (bps) is taken (the mid prevailing just before the first event at or after the
sample time); per scale s with half-life h_s and dt the sample spacing,
  C_ij <- C_ij + a (r_i r_j - C_ij),  a = max(1/(n+1), 1 - exp(-ln2 dt / h_s))  (a running
  mean over the first samples, so the start does not weigh; uncentered: the mean
  return at these horizons is negligible next to its spread)
  rho_ij = C_ij / sqrt(C_ii C_jj);  beta_ij = C_ij / C_jj  (units of j's return per unit of
  i's: short beta_ij of j's notional per unit of i's notional to hedge i with j)
Pairs with a coin that has no mid yet are not updated.
Basis: b = (mid_a - mid_b) / mid_b * 1e4 with EWMA mean and variance (basis_halflife_s),
z = (b - mean) / std. Lead-lag: on a grid of leadlag_sample_ms, returns rA, rB; EWMAs
  c_k  = E[rA_t rB_{t-k}]  (k = 0..N_LAGS-1, B leads A by k)
  c'_k = E[rB_t rA_{t-k}]  (k = 1..N_LAGS-1, A leads B by k)
  rho at each lag = c / sqrt(E[rA^2] E[rB^2]); best lag = argmax |rho|;
  lead prediction of A's next return = sum_{k>=1} (c_k / E[rB^2]) rB_{t+1-k}, reported
  per second; its confidence = max_{k>=1} |rho_k| (0 below leadlag_min_abs_corr).
"""

import math

from numba import njit

from shm_layout.constants import MAX_COINS
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import correlation as declared

from .emath import status

LN2 = math.log(2.0)
N_SCALES = declared.N_SCALES
N_PAIRS = declared.N_PAIRS
N_LAGS = declared.N_LAGS

# --- config vector ---------------------------------------------------------------------
C_ENABLED = 0
C_SAMPLE_NS = 1
C_HL_S = 2  # 3 words
C_WARMUP = 5
C_BASIS_HL_S = 6
C_LAG_NS = 7
C_LAG_HL_S = 8
C_LAG_MIN = 9
N_CONFIG_CORR = 10


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.correlation
    return [
        1.0 if c.enabled else 0.0,
        c.sample_ms * 1e6,
        c.halflife_fast_s,
        c.halflife_medium_s,
        c.halflife_slow_s,
        float(c.warmup_samples),
        c.basis_halflife_s,
        c.leadlag_sample_ms * 1e6,
        c.leadlag_halflife_s,
        c.leadlag_min_abs_corr,
    ]


@njit(cache=True, inline="always")
def pair_index(i, j):
    if i > j:
        i, j = j, i
    return i * MAX_COINS - i * (i - 1) // 2 + (j - i)


@njit(cache=True)
def init(st, cfg):
    """A cold start of both parts (the registry's common init signature)."""
    init_corr(st.matrix)
    init_xv(st.xv)


# --- correlation -------------------------------------------------------------------------


@njit(cache=True)
def init_corr(st):
    st.next_ts_ns = st.last_ts_ns = st.n_samples = 0
    st.mid_px[:] = 0.0
    st.prev_px[:] = 0.0
    st.cov_bps2[:, :] = 0.0


@njit(cache=True)
def _corr_sample(st, cfg, t_ns):
    if st.last_ts_ns > 0:
        dt_s = (t_ns - st.last_ts_ns) * 1e-9
        n = float(st.n_samples)
        for s in range(N_SCALES):
            # a running mean until the sample count reaches the EWMA's window (no start bias)
            a = max(1.0 / (n + 1.0), 1.0 - math.exp(-LN2 * dt_s / cfg[C_HL_S + s]))
            cov = st.cov_bps2[s]
            for i in range(MAX_COINS):
                pi, mi = st.prev_px[i], st.mid_px[i]
                if pi <= 0.0 or mi <= 0.0:
                    continue
                ri = math.log(mi / pi) * 1e4
                for j in range(i, MAX_COINS):
                    pj, mj = st.prev_px[j], st.mid_px[j]
                    if pj <= 0.0 or mj <= 0.0:
                        continue
                    rj = math.log(mj / pj) * 1e4
                    k = pair_index(i, j)
                    cov[k] += a * (ri * rj - cov[k])
        st.n_samples += 1
    for i in range(MAX_COINS):
        st.prev_px[i] = st.mid_px[i]
    st.last_ts_ns = t_ns


@njit(cache=True)
def corr_on_mid(st, cfg, t_ns, coin, mid_px):
    """A coin's new mid at t_ns; samples first (with the mids prevailing before t_ns)."""
    if st.next_ts_ns == 0:
        st.next_ts_ns = t_ns + cfg[C_SAMPLE_NS]
        st.last_ts_ns = t_ns
    elif t_ns >= st.next_ts_ns:
        nxt = float(st.next_ts_ns)
        _corr_sample(st, cfg, nxt)
        step = cfg[C_SAMPLE_NS]
        st.next_ts_ns = nxt + step * (math.floor((t_ns - nxt) / step) + 1.0)
    if mid_px > 0.0:
        st.mid_px[coin] = mid_px
        if st.prev_px[coin] <= 0.0:
            st.prev_px[coin] = mid_px


@njit(cache=True)
def var_bps2(st, scale, i):
    return st.cov_bps2[scale, pair_index(i, i)]


@njit(cache=True)
def corr(st, scale, i, j):
    cov = st.cov_bps2[scale]
    d = cov[pair_index(i, i)] * cov[pair_index(j, j)]
    return cov[pair_index(i, j)] / math.sqrt(d) if d > 0.0 else 0.0


@njit(cache=True)
def beta(st, scale, i, j):
    cov = st.cov_bps2[scale]
    v = cov[pair_index(j, j)]
    return cov[pair_index(i, j)] / v if v > 0.0 else 0.0


@njit(cache=True)
def corr_valid(st, cfg, scale):
    """1.0 once enough samples were taken for this scale (warm-up scales with half-life)."""
    need = cfg[C_WARMUP] * cfg[C_HL_S + scale] / cfg[C_HL_S]
    return 1.0 if st.n_samples >= min(need, 10.0 * cfg[C_WARMUP]) else 0.0


# --- cross-venue basis and lead-lag ------------------------------------------------------


@njit(cache=True)
def init_xv(st):
    st.next_ts_ns = st.last_ts_ns = st.n_basis = st.n_lag = st.head = 0
    st.mid_a_px = st.mid_b_px = st.prev_a_px = st.prev_b_px = 0.0
    st.basis_bps = st.basis_mean_bps = st.basis_var_bps2 = 0.0
    st.var_a_bps2 = st.var_b_bps2 = st.step_s = 0.0
    st.ring_a_bps[:] = 0.0
    st.ring_b_bps[:] = 0.0
    st.c_ab[:] = 0.0
    st.c_ba[:] = 0.0


@njit(cache=True)
def _xv_sample(st, cfg, t_ns):
    a_mid, b_mid = st.mid_a_px, st.mid_b_px
    if a_mid <= 0.0 or b_mid <= 0.0:
        return
    # basis
    b = (a_mid - b_mid) / b_mid * 1e4
    st.basis_bps = b
    if st.n_basis == 0:
        st.basis_mean_bps = b
    else:
        dt_s = (t_ns - st.last_ts_ns) * 1e-9
        w = max(1.0 / (st.n_basis + 1.0), 1.0 - math.exp(-LN2 * dt_s / cfg[C_BASIS_HL_S]))
        d = b - st.basis_mean_bps
        st.basis_mean_bps += w * d
        st.basis_var_bps2 = (1.0 - w) * (st.basis_var_bps2 + w * d * d)
    st.n_basis += 1
    # lagged cross moments
    pa, pb = st.prev_a_px, st.prev_b_px
    st.prev_a_px, st.prev_b_px = a_mid, b_mid
    if pa <= 0.0 or pb <= 0.0:
        return
    if st.last_ts_ns > 0:
        st.step_s = (t_ns - st.last_ts_ns) * 1e-9
    ra = math.log(a_mid / pa) * 1e4
    rb = math.log(b_mid / pb) * 1e4
    head = (st.head + 1) % N_LAGS
    st.head = head
    st.ring_a_bps[head] = ra
    st.ring_b_bps[head] = rb
    n = float(st.n_lag)
    w = max(1.0 / (n + 1.0), 1.0 - math.exp(-LN2 * st.step_s / cfg[C_LAG_HL_S]))
    st.var_a_bps2 += w * (ra * ra - st.var_a_bps2)
    st.var_b_bps2 += w * (rb * rb - st.var_b_bps2)
    for k in range(N_LAGS):
        if k > n:
            break  # the ring does not hold that lag yet
        idx = (head - k) % N_LAGS
        st.c_ab[k] += w * (ra * st.ring_b_bps[idx] - st.c_ab[k])
        if k > 0:
            st.c_ba[k] += w * (rb * st.ring_a_bps[idx] - st.c_ba[k])
    st.n_lag += 1


@njit(cache=True)
def xv_on_mid(st, cfg, t_ns, stream, mid_px):
    """stream 0 = our coin (A), 1 = the reference (B); samples before applying the mid."""
    if st.next_ts_ns == 0:
        st.next_ts_ns = t_ns + cfg[C_LAG_NS]
    elif t_ns >= st.next_ts_ns:
        g = float(st.next_ts_ns)
        _xv_sample(st, cfg, g)
        st.last_ts_ns = g
        step = cfg[C_LAG_NS]
        st.next_ts_ns = g + step * (math.floor((t_ns - g) / step) + 1.0)
    if mid_px > 0.0:
        if stream == 0:
            st.mid_a_px = mid_px
        else:
            st.mid_b_px = mid_px


@njit(cache=True)
def basis_bps(st):
    return st.basis_bps


@njit(cache=True)
def basis_mean_bps(st):
    return st.basis_mean_bps


@njit(cache=True)
def basis_z(st):
    v = st.basis_var_bps2
    return (st.basis_bps - st.basis_mean_bps) / math.sqrt(v) if v > 0.0 else 0.0


@njit(cache=True)
def d_basis_bps(st):
    return st.basis_bps - st.basis_mean_bps


@njit(cache=True)
def lag_corr(st, lag):
    """rho at a lag in samples: > 0 = B leads A by lag, < 0 = A leads B."""
    d = st.var_a_bps2 * st.var_b_bps2
    if d <= 0.0 or abs(lag) >= N_LAGS:
        return 0.0
    c = st.c_ab[lag] if lag >= 0 else st.c_ba[-lag]
    return c / math.sqrt(d)


@njit(cache=True)
def best_lag(st):
    best = 0
    best_abs = -1.0
    for lag in range(-(N_LAGS - 1), N_LAGS):
        r = abs(lag_corr(st, lag))
        if r > best_abs:
            best_abs = r
            best = lag
    return best


@njit(cache=True)
def best_lag_corr(st):
    return lag_corr(st, best_lag(st))


@njit(cache=True)
def lead_confidence(st, cfg):
    m = 0.0
    for k in range(1, N_LAGS):
        m = max(m, abs(lag_corr(st, k)))
    return m if m >= cfg[C_LAG_MIN] else 0.0


@njit(cache=True)
def lead_bps_per_s(st, cfg):
    """Predicted move of A over the next grid step from B's recent returns, per second."""
    if lead_confidence(st, cfg) == 0.0 or st.var_b_bps2 <= 0.0 or st.step_s <= 0.0:
        return 0.0
    head = st.head
    pred = 0.0
    for k in range(1, N_LAGS):
        pred += st.c_ab[k] / st.var_b_bps2 * st.ring_b_bps[(head + 1 - k) % N_LAGS]
    return pred / st.step_s


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Correlation, hedge ratio, basis and lead-lag: ``kernel_cross`` computed them into the
    header's ``cross`` record; off with one coin, basis off for a coin without a pair."""
    x = h.cross
    on = cfg[C_ENABLED] != 0.0
    x_t = float(x.ts_ns)
    out.corr_status = status(on and tiers.n_coins > 1, x.valid != 0, x_t, t, stale)
    out.corr_ref_coin = x.ref_coin
    out.corr_fast = x.corr[0]
    out.corr_medium = x.corr[1]
    out.corr_slow = x.corr[2]
    out.hedge_ratio = x.beta[1]
    out.basis_status = status(on and tiers.ref_coin[out.coin] >= 0, x.xv_valid != 0, x_t, t, stale)
    out.basis_bps = x.basis_bps
    out.basis_zscore = x.basis_z
    out.lead_lag_s = x.lag_s
    out.lead_lag_corr = x.lag_corr
    out.lead_bps_per_s = x.lead_bps_per_s
