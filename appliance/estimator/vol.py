"""Volatility: bipower (jump-robust) and realized (jump-inclusive) at three scales,
jumps with direction, excess kurtosis, a stochastic-volatility description, and the
regime- and toxicity-aware blend (seed 001 §1.2, seed 003 phase 8).

The mid is sampled every ``sample_ms`` of event time. With r the sample return in
bps and dt its length in seconds, per-second variances (bps^2/s) are EWMAs of
    realized  RV: r_t^2 / dt                 (sees jumps)
    bipower   BV: (pi/2) |r_t| |r_t-1| / dt  (a lone jump enters once, times a normal
                                              neighbour: mostly ignored)
at half-lives fast (30 s), main (``vol_halflife_s``) and slow (300 s):
    sigma_clean = sqrt(BV_main), sigma_total = sqrt(RV_main),
    term structure sigma_30s = sqrt(RV_fast), sigma_300s = sqrt(RV_slow).
Jump: |r| > k sigma_clean sqrt(dt) (k = ``jump_threshold_sigmas``), sign kept.
Excess kurtosis of the standardized returns z = r / sqrt(BV_main dt):
    E[z^4] / E[z^2]^2 - 3  (EWMAs), 0 for Gaussian returns.
Stochastic volatility dv = kappa (theta - v) dt + xi sqrt(v) dW on the block
variance v_j = sum r^2 / block_s over blocks of ``sv_block_s``:
    theta = E[v];  exp(-kappa block) = lag-1 autocorrelation of v;
    Var_true(v) = Var(v) - 2 theta^2 / m  (m returns a block: chi^2 sampling noise)
    xi^2 = 2 kappa Var_true(v) / theta   (stationary CIR variance xi^2 theta / 2 kappa)
Blend (variances): w = w_regime + w_tox toxicity + w_crash [recent down-jump],
    sigma_eff = sqrt(w RV + (1 - w) BV) * max(1, sigma_30s / sigma_300s)^nu.
"""

import math

from numba import njit

from shm_layout.estimators import vol as declared

from .emath import clamp, decay

# --- state words --------------------------------------------------------------
S_LAST_NS = 0
S_LAST_MID = 1
S_LAST_ABS_R = 2
S_N = 3
S_RV_FAST = 4
S_BV_FAST = 5
S_RV = 6
S_BV = 7
S_RV_SLOW = 8
S_BV_SLOW = 9
S_Z2 = 10
S_Z4 = 11
S_JUMP_NS = 12  # time of the last jump
S_JUMP_DIR = 13  # its sign
S_JUMP_BPS = 14  # its signed size
S_N_JUMPS = 15
S_JUMP_RATE = 16  # EWMA jumps per second (main half-life)
S_BLK_SUM = 17
S_BLK_N = 18
S_BLK_START = 19
S_V_PREV = 20
S_SV_MEAN = 21
S_SV_VAR = 22
S_SV_COV1 = 23
S_SV_N = 24
S_SV_KAPPA = 25
S_SV_THETA = 26
S_SV_XI = 27
S_SIGMA_EFF = 28
S_BLEND_W = 29
S_LAST_R = 30
N_STATE_VOL = 32
assert declared.STATE.itemsize == N_STATE_VOL * 8, 'size declared in shm_layout/estimators'

# --- config vector -------------------------------------------------------------
C_SAMPLE_NS = 0
C_HL = 1
C_HL_FAST = 2
C_HL_SLOW = 3
C_JUMP_K = 4
C_KURT_HL = 5
C_BLOCK_S = 6
C_SV_HL = 7
C_BLEND_ON = 8
C_W0 = 9  # .. C_W0 + 3: w by regime
C_W_TOX = 13
C_W_CRASH = 14
C_CRASH_MEM_S = 15
C_NU = 16
C_WARMUP = 17
N_CONFIG_VOL = 18


def config_values(est) -> list[float]:
    c = est.vol
    v = [0.0] * N_CONFIG_VOL
    v[C_SAMPLE_NS] = est.vol_sample_ms * 1e6
    v[C_HL], v[C_HL_FAST], v[C_HL_SLOW] = est.vol_halflife_s, c.fast_halflife_s, c.slow_halflife_s
    v[C_JUMP_K] = c.jump_threshold_sigmas
    v[C_KURT_HL] = c.kurtosis_halflife_s
    v[C_BLOCK_S], v[C_SV_HL] = c.sv_block_s, c.sv_halflife_blocks
    v[C_BLEND_ON] = 1.0 if c.blend_enabled else 0.0
    v[C_W0:C_W0 + 4] = [c.blend_w_low, c.blend_w_normal, c.blend_w_high, c.blend_w_extreme]
    v[C_W_TOX], v[C_W_CRASH], v[C_CRASH_MEM_S] = c.blend_w_toxicity, c.blend_w_crash, c.crash_memory_s
    v[C_NU] = c.term_structure_nu
    v[C_WARMUP] = est.warmup_samples
    return v


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_VOL] = 0.0


@njit(cache=True)
def _ewma(st, i, x, a):
    st[i] += a * (x - st[i])


@njit(cache=True)
def sample(st, cfg, t_ns, mid):
    """Offer the mid at event time t_ns; returns True when a return was sampled."""
    if st[S_LAST_NS] == 0.0:
        st[S_LAST_NS] = t_ns
        st[S_LAST_MID] = mid
        st[S_BLK_START] = t_ns
        return False
    dt_ns = t_ns - st[S_LAST_NS]
    if dt_ns < cfg[C_SAMPLE_NS]:
        return False
    dt_s = dt_ns * 1e-9
    r = math.log(mid / st[S_LAST_MID]) * 1e4
    rv = r * r / dt_s
    n = st[S_N]
    if n == 0.0:
        for i in range(S_RV_FAST, S_BV_SLOW + 1):
            st[i] = rv
        st[S_Z2] = 1.0
        st[S_Z4] = 3.0
    else:
        bv = (math.pi / 2.0) * abs(r) * st[S_LAST_ABS_R] / dt_s
        sd = math.sqrt(max(st[S_BV], 1e-12) * dt_s)
        if n >= cfg[C_WARMUP] and abs(r) > cfg[C_JUMP_K] * sd:
            st[S_JUMP_NS] = t_ns
            st[S_JUMP_DIR] = 1.0 if r > 0.0 else -1.0
            st[S_JUMP_BPS] = r
            st[S_N_JUMPS] += 1.0
            st[S_JUMP_RATE] += math.log(2.0) / cfg[C_HL]
        st[S_JUMP_RATE] *= decay(dt_s, cfg[C_HL])
        # Running means until the EWMAs have n > 1/a samples: a first return that
        # happens to be 0 must not leave every variance near 0 for a half-life.
        a_n = 1.0 / (n + 1.0)
        a_f = max(1.0 - decay(dt_s, cfg[C_HL_FAST]), a_n)
        a_m = max(1.0 - decay(dt_s, cfg[C_HL]), a_n)
        a_s = max(1.0 - decay(dt_s, cfg[C_HL_SLOW]), a_n)
        _ewma(st, S_RV_FAST, rv, a_f)
        _ewma(st, S_BV_FAST, bv, a_f)
        _ewma(st, S_RV, rv, a_m)
        _ewma(st, S_BV, bv, a_m)
        _ewma(st, S_RV_SLOW, rv, a_s)
        _ewma(st, S_BV_SLOW, bv, a_s)
        z = r / sd
        z2 = min(z * z, 400.0)  # one absurd print must not own the fourth moment
        a_k = 1.0 - decay(dt_s, cfg[C_KURT_HL])
        _ewma(st, S_Z2, z2, a_k)
        _ewma(st, S_Z4, z2 * z2, a_k)
    _sv_block(st, cfg, t_ns, r)
    st[S_LAST_R] = r
    st[S_LAST_ABS_R] = abs(r)
    st[S_N] = n + 1.0
    st[S_LAST_NS] = t_ns
    st[S_LAST_MID] = mid
    return True


@njit(cache=True)
def _sv_block(st, cfg, t_ns, r):
    st[S_BLK_SUM] += r * r
    st[S_BLK_N] += 1.0
    blk_s = (t_ns - st[S_BLK_START]) * 1e-9
    if blk_s < cfg[C_BLOCK_S]:
        return
    v = st[S_BLK_SUM] / blk_s
    m = st[S_BLK_N]
    st[S_BLK_SUM] = 0.0
    st[S_BLK_N] = 0.0
    st[S_BLK_START] = t_ns
    if st[S_SV_N] == 0.0:
        st[S_SV_MEAN] = v
    else:
        a = 1.0 - decay(1.0, cfg[C_SV_HL])
        mean_prev = st[S_SV_MEAN]
        st[S_SV_MEAN] += a * (v - mean_prev)
        dv = v - st[S_SV_MEAN]
        st[S_SV_VAR] += a * (dv * (v - mean_prev) - st[S_SV_VAR])
        st[S_SV_COV1] += a * ((v - st[S_SV_MEAN]) * (st[S_V_PREV] - st[S_SV_MEAN]) - st[S_SV_COV1])
    st[S_V_PREV] = v
    st[S_SV_N] += 1.0
    # Fit (cheap; once a block).
    theta = st[S_SV_MEAN]
    if st[S_SV_N] >= 10.0 and theta > 0.0:
        var_true = max(st[S_SV_VAR] - 2.0 * theta * theta / max(m, 1.0), 1e-3 * theta * theta)
        rho = clamp(st[S_SV_COV1] / max(st[S_SV_VAR], 1e-300), 0.01, 0.999)
        kappa = -math.log(rho) / cfg[C_BLOCK_S]
        st[S_SV_KAPPA] = kappa
        st[S_SV_THETA] = theta
        st[S_SV_XI] = math.sqrt(2.0 * kappa * var_true / theta)


@njit(cache=True)
def blend(st, cfg, t_ns, regime, toxicity):
    """Recompute sigma_eff from the regime (0..3) and toxicity in [0, 1] (warm tier)."""
    rv = st[S_RV]
    bv = st[S_BV]
    if cfg[C_BLEND_ON] == 0.0:
        s = 0.5 * (math.sqrt(rv) + math.sqrt(bv))
        st[S_SIGMA_EFF] = s
        st[S_BLEND_W] = 0.5
        return
    w = cfg[C_W0 + int(clamp(regime, 0, 3))] + cfg[C_W_TOX] * clamp(toxicity, 0.0, 1.0)
    if st[S_JUMP_DIR] < 0.0 and (t_ns - st[S_JUMP_NS]) * 1e-9 < cfg[C_CRASH_MEM_S]:
        w += cfg[C_W_CRASH]  # crashes: weigh the jumps more than after rallies
    w = clamp(w, 0.0, 1.0)
    ratio = term_ratio(st)
    st[S_SIGMA_EFF] = math.sqrt(w * rv + (1.0 - w) * bv) * max(1.0, ratio) ** cfg[C_NU]
    st[S_BLEND_W] = w


@njit(cache=True)
def term_ratio(st):
    slow = st[S_RV_SLOW]
    return math.sqrt(st[S_RV_FAST] / slow) if slow > 1e-12 else 1.0


@njit(cache=True)
def excess_kurtosis(st):
    z2 = st[S_Z2]
    return st[S_Z4] / (z2 * z2) - 3.0 if z2 > 1e-12 else 0.0


@njit(cache=True)
def sigma_clean(st):
    return math.sqrt(st[S_BV])


@njit(cache=True)
def sigma_total(st):
    return math.sqrt(st[S_RV])


@njit(cache=True)
def sigma_clean_fast(st):
    return math.sqrt(st[S_BV_FAST])
