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

from .emath import clamp, decay, status
from .kernel_readers import mid_px

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
    st.last_ts_ns = st.n_samples = st.jump_ts_ns = st.jump_dir = st.n_jumps = 0
    st.block_n = st.block_start_ts_ns = st.sv_n = 0
    st.last_mid_px = st.last_abs_r_bps = st.rv_fast_bps2_per_s = st.bv_fast_bps2_per_s = 0.0
    st.rv_bps2_per_s = st.bv_bps2_per_s = st.rv_slow_bps2_per_s = st.bv_slow_bps2_per_s = 0.0
    st.z2 = st.z4 = st.jump_bps = st.jump_rate_per_s = 0.0
    st.block_sum_bps2 = st.v_prev_bps2_per_s = st.sv_mean = st.sv_var = 0.0
    st.sv_cov1 = st.sv_kappa_per_s = st.sv_theta_bps2_per_s = st.sv_xi_bps_per_s = 0.0
    st.sigma_eff_bps_per_sqrt_s = st.blend_w = st.last_r_bps = 0.0


@njit(cache=True)
def sample(st, cfg, t_ns, mid):
    """Offer the mid at event time t_ns; returns True when a return was sampled."""
    if st.last_ts_ns == 0:
        st.last_ts_ns = t_ns
        st.last_mid_px = mid
        st.block_start_ts_ns = t_ns
        return False
    dt_ns = t_ns - st.last_ts_ns
    if dt_ns < cfg[C_SAMPLE_NS]:
        return False
    dt_s = dt_ns * 1e-9
    r = math.log(mid / st.last_mid_px) * 1e4
    rv = r * r / dt_s
    n = st.n_samples
    if n == 0:
        st.rv_fast_bps2_per_s = st.bv_fast_bps2_per_s = st.rv_bps2_per_s = rv
        st.bv_bps2_per_s = st.rv_slow_bps2_per_s = st.bv_slow_bps2_per_s = rv
        st.z2 = 1.0
        st.z4 = 3.0
    else:
        bv = (math.pi / 2.0) * abs(r) * st.last_abs_r_bps / dt_s
        sd = math.sqrt(max(st.bv_bps2_per_s, 1e-12) * dt_s)
        if n >= cfg[C_WARMUP] and abs(r) > cfg[C_JUMP_K] * sd:
            st.jump_ts_ns = t_ns
            st.jump_dir = 1 if r > 0.0 else -1
            st.jump_bps = r
            st.n_jumps += 1
            st.jump_rate_per_s += math.log(2.0) / cfg[C_HL]
        st.jump_rate_per_s *= decay(dt_s, cfg[C_HL])
        # Running means until the EWMAs have n > 1/a samples: a first return that
        # happens to be 0 must not leave every variance near 0 for a half-life.
        a_n = 1.0 / (n + 1.0)
        a_f = max(1.0 - decay(dt_s, cfg[C_HL_FAST]), a_n)
        a_m = max(1.0 - decay(dt_s, cfg[C_HL]), a_n)
        a_s = max(1.0 - decay(dt_s, cfg[C_HL_SLOW]), a_n)
        st.rv_fast_bps2_per_s += a_f * (rv - st.rv_fast_bps2_per_s)
        st.bv_fast_bps2_per_s += a_f * (bv - st.bv_fast_bps2_per_s)
        st.rv_bps2_per_s += a_m * (rv - st.rv_bps2_per_s)
        st.bv_bps2_per_s += a_m * (bv - st.bv_bps2_per_s)
        st.rv_slow_bps2_per_s += a_s * (rv - st.rv_slow_bps2_per_s)
        st.bv_slow_bps2_per_s += a_s * (bv - st.bv_slow_bps2_per_s)
        z = r / sd
        z2 = min(z * z, 400.0)  # one absurd print must not own the fourth moment
        a_k = 1.0 - decay(dt_s, cfg[C_KURT_HL])
        st.z2 += a_k * (z2 - st.z2)
        st.z4 += a_k * (z2 * z2 - st.z4)
    _sv_block(st, cfg, t_ns, r)
    st.last_r_bps = r
    st.last_abs_r_bps = abs(r)
    st.n_samples = n + 1
    st.last_ts_ns = t_ns
    st.last_mid_px = mid
    return True


@njit(cache=True)
def _sv_block(st, cfg, t_ns, r):
    st.block_sum_bps2 += r * r
    st.block_n += 1
    blk_s = (t_ns - st.block_start_ts_ns) * 1e-9
    if blk_s < cfg[C_BLOCK_S]:
        return
    v = st.block_sum_bps2 / blk_s
    m = st.block_n
    st.block_sum_bps2 = 0.0
    st.block_n = 0
    st.block_start_ts_ns = t_ns
    if st.sv_n == 0:
        st.sv_mean = v
    else:
        a = 1.0 - decay(1.0, cfg[C_SV_HL])
        mean_prev = st.sv_mean
        st.sv_mean += a * (v - mean_prev)
        dv = v - st.sv_mean
        st.sv_var += a * (dv * (v - mean_prev) - st.sv_var)
        st.sv_cov1 += a * ((v - st.sv_mean) * (st.v_prev_bps2_per_s - st.sv_mean) - st.sv_cov1)
    st.v_prev_bps2_per_s = v
    st.sv_n += 1
    # Fit (cheap; once a block).
    theta = st.sv_mean
    if st.sv_n >= 10.0 and theta > 0.0:
        var_true = max(st.sv_var - 2.0 * theta * theta / max(m, 1.0), 1e-3 * theta * theta)
        rho = clamp(st.sv_cov1 / max(st.sv_var, 1e-300), 0.01, 0.999)
        kappa = -math.log(rho) / cfg[C_BLOCK_S]
        st.sv_kappa_per_s = kappa
        st.sv_theta_bps2_per_s = theta
        st.sv_xi_bps_per_s = math.sqrt(2.0 * kappa * var_true / theta)


@njit(cache=True)
def blend(st, cfg, t_ns, regime, toxicity):
    """Recompute sigma_eff from the regime (0..3) and toxicity in [0, 1] (warm tier)."""
    rv = st.rv_bps2_per_s
    bv = st.bv_bps2_per_s
    if cfg[C_BLEND_ON] == 0.0:
        s = 0.5 * (math.sqrt(rv) + math.sqrt(bv))
        st.sigma_eff_bps_per_sqrt_s = s
        st.blend_w = 0.5
        return
    w = cfg[C_W0 + int(clamp(regime, 0, 3))] + cfg[C_W_TOX] * clamp(toxicity, 0.0, 1.0)
    if st.jump_dir < 0 and (t_ns - st.jump_ts_ns) * 1e-9 < cfg[C_CRASH_MEM_S]:
        w += cfg[C_W_CRASH]  # crashes: weigh the jumps more than after rallies
    w = clamp(w, 0.0, 1.0)
    ratio = term_ratio(st)
    st.sigma_eff_bps_per_sqrt_s = math.sqrt(w * rv + (1.0 - w) * bv) * max(1.0, ratio) ** cfg[C_NU]
    st.blend_w = w


@njit(cache=True)
def term_ratio(st):
    slow = st.rv_slow_bps2_per_s
    return math.sqrt(st.rv_fast_bps2_per_s / slow) if slow > 1e-12 else 1.0


@njit(cache=True)
def excess_kurtosis(st):
    z2 = st.z2
    return st.z4 / (z2 * z2) - 3.0 if z2 > 1e-12 else 0.0


@njit(cache=True)
def sigma_clean(st):
    return math.sqrt(st.bv_bps2_per_s)


@njit(cache=True)
def sigma_total(st):
    return math.sqrt(st.rv_bps2_per_s)


@njit(cache=True)
def sigma_clean_fast(st):
    return math.sqrt(st.bv_fast_bps2_per_s)


@njit(cache=True)
def sampled_at(st, t_ns):
    """True when the last sample was taken at event time t_ns (an event at the same time
    after it took none: the sampling interval is positive)."""
    return st.n_samples > 0 and float(st.last_ts_ns) == t_ns


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Offer the mid of every book."""
    sample(state.vol, cfg.vol, t, mid_px(state))


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """The blend, from the regime and the toxicity of the previous warm run (toxicity's
    warm hook runs after this one). The regime is read as its field: regime imports vol."""
    h = state.header
    blend(state.vol, cfg.vol, t, state.regime.regime, max(h.toxicity_bid, h.toxicity_ask))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Volatility's MarketParams fields (warming until ``tiers.warmup_samples``)."""
    ready = st.n_samples >= tiers.warmup_samples
    out.vol_status = status(True, ready, float(st.last_ts_ns), t, stale)
    out.sigma_clean_bps_per_sqrt_s = sigma_clean(st)
    out.sigma_total_bps_per_sqrt_s = sigma_total(st)
    eff = st.sigma_eff_bps_per_sqrt_s
    out.sigma_effective_bps_per_sqrt_s = eff if eff > 0.0 else sigma_clean(st)
    out.sigma_blend_weight = st.blend_w
    out.sigma_30s_bps_per_sqrt_s = math.sqrt(st.rv_fast_bps2_per_s)
    out.sigma_300s_bps_per_sqrt_s = math.sqrt(st.rv_slow_bps2_per_s)
    out.vol_term_ratio = term_ratio(st)
    k = excess_kurtosis(st)
    out.excess_kurtosis = k
    out.as_ratio_adjustment = 1.0 + tiers.kurtosis_tail_k * max(k, 0.0)
    bv = st.bv_bps2_per_s
    out.jump_ratio = st.rv_bps2_per_s / bv if bv > 1e-12 else 1.0
    out.last_jump_bps = st.jump_bps
    out.last_jump_age_s = (t - st.jump_ts_ns) * 1e-9 if st.jump_ts_ns > 0 else -1.0
    out.jump_rate_per_s = st.jump_rate_per_s
    out.sv_kappa_per_s = st.sv_kappa_per_s
    out.sv_theta_bps2_per_s = st.sv_theta_bps2_per_s
    out.sv_xi_bps_per_s = st.sv_xi_bps_per_s
