"""Cross-asset correlation at three EWMA scales with hedge ratios (seed 000 gap 6), and
cross-venue basis and lead-lag against a second stream.

Wiring (for the estimator kernel):
  Correlation (one state for all coins, not per coin): f8 slice of N_STATE_CORR words,
    ``init_corr(st)``; per book/BBO event of any configured coin
    ``corr_on_mid(st, cfg, t_ns, coin, mid_px)``. Outputs: ``corr(st, scale, i, j)``,
    ``beta(st, scale, i, j)``, ``var_bps2(st, scale, i)`` (per sample), ``corr_valid(st, cfg,
    scale)``; scale 0 = fast (~1 min), 1 = medium (~10 min), 2 = slow (~1 h).
  Cross-venue (one state per pair: our coin A vs reference stream B, e.g. Binance): f8
    slice of N_STATE_XV words, ``init_xv(st)``; ``xv_on_mid(st, cfg, t_ns, 0, mid_a)`` for
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

LN2 = math.log(2.0)
N_SCALES = 3
N_PAIRS = MAX_COINS * (MAX_COINS + 1) // 2
N_LAGS = 8

# --- correlation state ----------------------------------------------------------------
S_T_NEXT_NS = 0  # next sample time
S_T_LAST_NS = 1  # last sample time
S_N_SAMPLES = 2
S_MID = 3  # MAX_COINS current mids
S_PREV = S_MID + MAX_COINS  # MAX_COINS mids at the last sample
S_COV = S_PREV + MAX_COINS  # N_SCALES x N_PAIRS second moments, bps^2 per sample
N_STATE_CORR = S_COV + N_SCALES * N_PAIRS

# --- cross-venue state ------------------------------------------------------------------
X_T_NEXT_NS = 0
X_T_LAST_NS = 1
X_MID_A = 2
X_MID_B = 3
X_PREV_A = 4
X_PREV_B = 5
X_BASIS = 6
X_BASIS_MEAN = 7
X_BASIS_VAR = 8
X_N_BASIS = 9
X_N_LAG = 10
X_VAR_A = 11
X_VAR_B = 12
X_HEAD = 13  # ring position of the newest return
X_RING_A = 14  # N_LAGS returns of A
X_RING_B = X_RING_A + N_LAGS
X_C_AB = X_RING_B + N_LAGS  # N_LAGS: c_k, B leads A by k
X_C_BA = X_C_AB + N_LAGS  # N_LAGS: c'_k, A leads B by k (index 0 unused)
X_STEP_S = X_C_BA + N_LAGS
N_STATE_XV = X_STEP_S + 1
assert declared.STATE['xv'].itemsize == N_STATE_XV * 8
assert declared.STATE['matrix'].itemsize == N_STATE_CORR * 8

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


# --- correlation -------------------------------------------------------------------------


@njit(cache=True)
def init_corr(st):
    st[:N_STATE_CORR] = 0.0


@njit(cache=True)
def _corr_sample(st, cfg, t_ns):
    if st[S_T_LAST_NS] > 0.0:
        dt_s = (t_ns - st[S_T_LAST_NS]) * 1e-9
        n = st[S_N_SAMPLES]
        for s in range(N_SCALES):
            # a running mean until the sample count reaches the EWMA's window (no start bias)
            a = max(1.0 / (n + 1.0), 1.0 - math.exp(-LN2 * dt_s / cfg[C_HL_S + s]))
            base = S_COV + s * N_PAIRS
            for i in range(MAX_COINS):
                pi, mi = st[S_PREV + i], st[S_MID + i]
                if pi <= 0.0 or mi <= 0.0:
                    continue
                ri = math.log(mi / pi) * 1e4
                for j in range(i, MAX_COINS):
                    pj, mj = st[S_PREV + j], st[S_MID + j]
                    if pj <= 0.0 or mj <= 0.0:
                        continue
                    rj = math.log(mj / pj) * 1e4
                    k = base + pair_index(i, j)
                    st[k] += a * (ri * rj - st[k])
        st[S_N_SAMPLES] += 1.0
    for i in range(MAX_COINS):
        st[S_PREV + i] = st[S_MID + i]
    st[S_T_LAST_NS] = t_ns


@njit(cache=True)
def corr_on_mid(st, cfg, t_ns, coin, mid_px):
    """A coin's new mid at t_ns; samples first (with the mids prevailing before t_ns)."""
    if st[S_T_NEXT_NS] == 0.0:
        st[S_T_NEXT_NS] = t_ns + cfg[C_SAMPLE_NS]
        st[S_T_LAST_NS] = t_ns
    elif t_ns >= st[S_T_NEXT_NS]:
        _corr_sample(st, cfg, st[S_T_NEXT_NS])
        step = cfg[C_SAMPLE_NS]
        st[S_T_NEXT_NS] += step * (math.floor((t_ns - st[S_T_NEXT_NS]) / step) + 1.0)
    if mid_px > 0.0:
        st[S_MID + coin] = mid_px
        if st[S_PREV + coin] <= 0.0:
            st[S_PREV + coin] = mid_px


@njit(cache=True)
def var_bps2(st, scale, i):
    return st[S_COV + scale * N_PAIRS + pair_index(i, i)]


@njit(cache=True)
def corr(st, scale, i, j):
    base = S_COV + scale * N_PAIRS
    d = st[base + pair_index(i, i)] * st[base + pair_index(j, j)]
    return st[base + pair_index(i, j)] / math.sqrt(d) if d > 0.0 else 0.0


@njit(cache=True)
def beta(st, scale, i, j):
    base = S_COV + scale * N_PAIRS
    v = st[base + pair_index(j, j)]
    return st[base + pair_index(i, j)] / v if v > 0.0 else 0.0


@njit(cache=True)
def corr_valid(st, cfg, scale):
    """1.0 once enough samples were taken for this scale (warm-up scales with half-life)."""
    need = cfg[C_WARMUP] * cfg[C_HL_S + scale] / cfg[C_HL_S]
    return 1.0 if st[S_N_SAMPLES] >= min(need, 10.0 * cfg[C_WARMUP]) else 0.0


# --- cross-venue basis and lead-lag ------------------------------------------------------


@njit(cache=True)
def init_xv(st):
    st[:N_STATE_XV] = 0.0


@njit(cache=True)
def _xv_sample(st, cfg, t_ns):
    a_mid, b_mid = st[X_MID_A], st[X_MID_B]
    if a_mid <= 0.0 or b_mid <= 0.0:
        return
    # basis
    b = (a_mid - b_mid) / b_mid * 1e4
    st[X_BASIS] = b
    if st[X_N_BASIS] == 0.0:
        st[X_BASIS_MEAN] = b
    else:
        dt_s = (t_ns - st[X_T_LAST_NS]) * 1e-9
        w = max(1.0 / (st[X_N_BASIS] + 1.0), 1.0 - math.exp(-LN2 * dt_s / cfg[C_BASIS_HL_S]))
        d = b - st[X_BASIS_MEAN]
        st[X_BASIS_MEAN] += w * d
        st[X_BASIS_VAR] = (1.0 - w) * (st[X_BASIS_VAR] + w * d * d)
    st[X_N_BASIS] += 1.0
    # lagged cross moments
    pa, pb = st[X_PREV_A], st[X_PREV_B]
    st[X_PREV_A], st[X_PREV_B] = a_mid, b_mid
    if pa <= 0.0 or pb <= 0.0:
        return
    if st[X_T_LAST_NS] > 0.0:
        st[X_STEP_S] = (t_ns - st[X_T_LAST_NS]) * 1e-9
    ra = math.log(a_mid / pa) * 1e4
    rb = math.log(b_mid / pb) * 1e4
    head = (int(st[X_HEAD]) + 1) % N_LAGS
    st[X_HEAD] = head
    st[X_RING_A + head] = ra
    st[X_RING_B + head] = rb
    n = st[X_N_LAG]
    w = max(1.0 / (n + 1.0), 1.0 - math.exp(-LN2 * st[X_STEP_S] / cfg[C_LAG_HL_S]))
    st[X_VAR_A] += w * (ra * ra - st[X_VAR_A])
    st[X_VAR_B] += w * (rb * rb - st[X_VAR_B])
    for k in range(N_LAGS):
        if k > n:
            break  # the ring does not hold that lag yet
        idx = (head - k) % N_LAGS
        st[X_C_AB + k] += w * (ra * st[X_RING_B + idx] - st[X_C_AB + k])
        if k > 0:
            st[X_C_BA + k] += w * (rb * st[X_RING_A + idx] - st[X_C_BA + k])
    st[X_N_LAG] = n + 1.0


@njit(cache=True)
def xv_on_mid(st, cfg, t_ns, stream, mid_px):
    """stream 0 = our coin (A), 1 = the reference (B); samples before applying the mid."""
    if st[X_T_NEXT_NS] == 0.0:
        st[X_T_NEXT_NS] = t_ns + cfg[C_LAG_NS]
    elif t_ns >= st[X_T_NEXT_NS]:
        g = st[X_T_NEXT_NS]
        _xv_sample(st, cfg, g)
        st[X_T_LAST_NS] = g
        step = cfg[C_LAG_NS]
        st[X_T_NEXT_NS] += step * (math.floor((t_ns - g) / step) + 1.0)
    if mid_px > 0.0:
        if stream == 0:
            st[X_MID_A] = mid_px
        else:
            st[X_MID_B] = mid_px


@njit(cache=True)
def basis_bps(st):
    return st[X_BASIS]


@njit(cache=True)
def basis_mean_bps(st):
    return st[X_BASIS_MEAN]


@njit(cache=True)
def basis_z(st):
    v = st[X_BASIS_VAR]
    return (st[X_BASIS] - st[X_BASIS_MEAN]) / math.sqrt(v) if v > 0.0 else 0.0


@njit(cache=True)
def d_basis_bps(st):
    return st[X_BASIS] - st[X_BASIS_MEAN]


@njit(cache=True)
def lag_corr(st, lag):
    """rho at a lag in samples: > 0 = B leads A by lag, < 0 = A leads B."""
    d = st[X_VAR_A] * st[X_VAR_B]
    if d <= 0.0 or abs(lag) >= N_LAGS:
        return 0.0
    c = st[X_C_AB + lag] if lag >= 0 else st[X_C_BA - lag]
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
    if lead_confidence(st, cfg) == 0.0 or st[X_VAR_B] <= 0.0 or st[X_STEP_S] <= 0.0:
        return 0.0
    head = int(st[X_HEAD])
    pred = 0.0
    for k in range(1, N_LAGS):
        pred += st[X_C_AB + k] / st[X_VAR_B] * st[X_RING_B + (head + 1 - k) % N_LAGS]
    return pred / st[X_STEP_S]
