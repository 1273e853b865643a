"""Microprice: online ridge regression of the forward mid move (seed 001 §1.4).

Every warm tick a sample (t, mid, x = [book_imb, flow_imb], regime) is queued; once
it is ``horizon_ms`` old it is labelled with y = (mid_now / mid_t - 1) 1e4 bps and
folded into exponentially forgotten sums (half-life ``halflife_s`` of event time) of
its regime's group and of the pooled group:
    A = sum w x x',  c = sum w x y,  n = sum w
    beta = (A + lambda n I)^-1 c                    (ridge: stable when book and
                                                     flow imbalance are collinear)
Before the update, the sample is predicted with the current beta, and the
out-of-sample (prequential) R^2 = 1 - EWMA[(y - y_hat)^2] / EWMA[y^2] is tracked.
Published: microprice = mid (1 + clamp(beta . x, +-max_adj) 1e-4) with the regime's
beta when that group has ``min_samples`` and R^2 >= ``min_r2``, else the pooled
group's under the same rule, else the mid (fallback). On pure noise R^2 <= 0: mid.
"""

from numba import njit

from shm_layout.estimators import microprice as declared

from .emath import clamp, decay

N_GROUPS = 5  # pooled + four regimes
G_A11 = 0
G_A12 = 1
G_A22 = 2
G_C1 = 3
G_C2 = 4
G_N = 5
G_SSE = 6
G_SST = 7
G_B1 = 8
G_B2 = 9
G_NOBS = 10
G_W = 12

S_LAST_NS = 0
S_HEAD = 1
S_COUNT = 2
S_ADJ_BPS = 3
S_USED_GROUP = 4  # -1 = fallback to mid
S_R2 = 5  # of the group used (or pooled when falling back)
S_B1 = 6
S_B2 = 7
S_N_LABELLED = 8
S_Q = 16  # queue of pending samples: (t_ns, mid, x1, x2, regime)
Q_LEN = 8
Q_W = 5
S_G = S_Q + Q_LEN * Q_W
N_STATE_MICRO = S_G + N_GROUPS * G_W
assert declared.STATE.itemsize == N_STATE_MICRO * 8, 'size declared in shm_layout/estimators'

C_ENABLED = 0
C_HORIZON_NS = 1
C_HL = 2
C_LAMBDA = 3
C_MIN_R2 = 4
C_MIN_N = 5
C_MAX_ADJ = 6
C_REGIME_COND = 7
C_SAMPLE_NS = 8
N_CONFIG_MICRO = 9


def config_values(est) -> list[float]:
    c = est.microprice
    return [1.0 if c.enabled else 0.0, c.horizon_ms * 1e6, c.halflife_s, c.ridge_lambda,
            c.min_r2, c.min_samples, c.max_adj_bps, 1.0 if c.regime_conditional else 0.0,
            max(est.tiers.warm_interval_ms, 1) * 1e6]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_MICRO] = 0.0
    st[S_USED_GROUP] = -1.0


@njit(cache=True)
def _fold(st, cfg, g, x1, x2, y, dt_s):
    o = S_G + g * G_W
    d = decay(dt_s, cfg[C_HL])
    # Prequential error first: the sample was not used to fit the beta it tests.
    yh = st[o + G_B1] * x1 + st[o + G_B2] * x2
    a = 1.0 - d
    if st[o + G_NOBS] == 0.0:
        st[o + G_SSE] = (y - yh) ** 2
        st[o + G_SST] = y * y
    else:
        st[o + G_SSE] += a * ((y - yh) ** 2 - st[o + G_SSE])
        st[o + G_SST] += a * (y * y - st[o + G_SST])
    st[o + G_A11] = d * st[o + G_A11] + x1 * x1
    st[o + G_A12] = d * st[o + G_A12] + x1 * x2
    st[o + G_A22] = d * st[o + G_A22] + x2 * x2
    st[o + G_C1] = d * st[o + G_C1] + x1 * y
    st[o + G_C2] = d * st[o + G_C2] + x2 * y
    st[o + G_N] = d * st[o + G_N] + 1.0
    st[o + G_NOBS] += 1.0
    lam = cfg[C_LAMBDA] * st[o + G_N]
    a11 = st[o + G_A11] + lam
    a22 = st[o + G_A22] + lam
    a12 = st[o + G_A12]
    det = a11 * a22 - a12 * a12
    if det > 1e-12:
        st[o + G_B1] = (a22 * st[o + G_C1] - a12 * st[o + G_C2]) / det
        st[o + G_B2] = (a11 * st[o + G_C2] - a12 * st[o + G_C1]) / det


@njit(cache=True)
def r2(st, g):
    o = S_G + g * G_W
    sst = st[o + G_SST]
    return 1.0 - st[o + G_SSE] / sst if sst > 1e-300 else 0.0


@njit(cache=True)
def warm(st, cfg, t_ns, mid, book_imb, flow_imb, regime):
    """Label matured samples, queue a new one, choose the beta (warm tier)."""
    if cfg[C_ENABLED] == 0.0 or mid <= 0.0:
        st[S_USED_GROUP] = -1.0
        st[S_ADJ_BPS] = 0.0
        return
    dt_s = (t_ns - st[S_LAST_NS]) * 1e-9 if st[S_LAST_NS] > 0.0 else 0.0
    st[S_LAST_NS] = t_ns
    # Label every queued sample that has reached the horizon (oldest first).
    while st[S_COUNT] > 0.0:
        j = S_Q + int(st[S_HEAD]) * Q_W
        if t_ns - st[j] < cfg[C_HORIZON_NS]:
            break
        y = (mid / st[j + 1] - 1.0) * 1e4
        x1, x2 = st[j + 2], st[j + 3]
        _fold(st, cfg, 0, x1, x2, y, dt_s)
        if cfg[C_REGIME_COND] != 0.0:
            _fold(st, cfg, 1 + int(st[j + 4]), x1, x2, y, dt_s)
        st[S_N_LABELLED] += 1.0
        st[S_HEAD] = (st[S_HEAD] + 1.0) % Q_LEN
        st[S_COUNT] -= 1.0
        dt_s = 0.0  # one decay step per tick
    if st[S_COUNT] < Q_LEN:
        k = S_Q + int((st[S_HEAD] + st[S_COUNT]) % Q_LEN) * Q_W
        st[k] = t_ns
        st[k + 1] = mid
        st[k + 2] = book_imb
        st[k + 3] = flow_imb
        st[k + 4] = regime
        st[S_COUNT] += 1.0
    # Choose: the regime's group, else pooled, else the mid.
    g = -1
    if cfg[C_REGIME_COND] != 0.0:
        rg = 1 + int(regime)
        if st[S_G + rg * G_W + G_NOBS] >= cfg[C_MIN_N] and r2(st, rg) >= cfg[C_MIN_R2]:
            g = rg
    if g < 0 and st[S_G + G_NOBS] >= cfg[C_MIN_N] and r2(st, 0) >= cfg[C_MIN_R2]:
        g = 0
    st[S_USED_GROUP] = g
    if g < 0:
        st[S_ADJ_BPS] = 0.0
        st[S_R2] = r2(st, 0)
        st[S_B1] = st[S_G + G_B1]
        st[S_B2] = st[S_G + G_B2]
        return
    o = S_G + g * G_W
    st[S_R2] = r2(st, g)
    st[S_B1] = st[o + G_B1]
    st[S_B2] = st[o + G_B2]
    st[S_ADJ_BPS] = clamp(st[S_B1] * book_imb + st[S_B2] * flow_imb, -cfg[C_MAX_ADJ], cfg[C_MAX_ADJ])


@njit(cache=True)
def price(st, mid):
    return mid * (1.0 + st[S_ADJ_BPS] * 1e-4)
