"""Funding: predicted rate, its spread and z-score, cost over a holding time, premium
from mark and oracle, and a warm-up rule (seed 000 gap 5, seed 003 phase 6).

Input: asset-context events (rate per hour, mark px, oracle px).
Observations of the rate are taken once per ``sample_s`` of event time into EWMAs
(half-life ``halflife_obs`` observations) of mean m and variance v:
    z = (rate - m) / max(sqrt(v), floor)
Premium p = (mark - oracle) / oracle, EWMA p_bar (half-life ``premium_halflife_s``).
Predicted hourly rate, Hyperliquid's formula on the averaged premium:
    f = (p_bar + clamp(I - p_bar, -c, c)) / 8      (I interest per 8 h, c 0.05%)
or the EWMA mean m when no oracle price is known.
Cost of holding a long for H hours: f H 1e4 bps (positive: longs pay).
Warm-up: fewer than ``warmup_obs`` observations -> status warming, z = 0 and no
drift observation. Drift observation (seed 003): z_obs = -scale z (high funding ->
longs capitulate -> bearish), R = sigma^2 / max(|z|, 0.1).
"""

import math

from numba import njit

from .emath import clamp, decay, status

C_ENABLED = 0
C_SAMPLE_NS = 1
C_HL_OBS = 2
C_WARMUP = 3
C_PREM_HL = 4
C_INTEREST = 5
C_CLAMP = 6
C_HOLDING_H = 7
C_STD_FLOOR = 8
N_CONFIG_FUNDING = 9


def config_values(est) -> list[float]:
    c = est.funding
    return [1.0 if c.enabled else 0.0, c.sample_s * 1e9, c.halflife_obs, c.warmup_obs,
            c.premium_halflife_s, c.interest_per_8h, c.premium_clamp, c.holding_h,
            c.std_floor_per_h]


@njit(cache=True)
def init(st, cfg):
    st.last_ctx_ts_ns = st.last_obs_ts_ns = st.n_obs = st.n_premium = 0
    st.rate_per_h = st.mean_per_h = st.var_per_h2 = st.premium = 0.0
    st.mark_px = st.oracle_px = st.open_interest_sz = st.predicted_per_h = 0.0


@njit(cache=True)
def on_ctx(st, cfg, t_ns, rate_per_h, mark_px, oracle_px, open_interest):
    dt_s = (t_ns - st.last_ctx_ts_ns) * 1e-9 if st.last_ctx_ts_ns > 0 else 0.0
    st.last_ctx_ts_ns = t_ns
    st.mark_px = mark_px
    st.oracle_px = oracle_px
    st.open_interest_sz = open_interest
    if math.isfinite(rate_per_h):
        st.rate_per_h = rate_per_h
    if mark_px > 0.0 and oracle_px > 0.0:
        p = (mark_px - oracle_px) / oracle_px
        if st.n_premium == 0:
            st.premium = p
        else:
            st.premium += (1.0 - decay(dt_s, cfg[C_PREM_HL])) * (p - st.premium)
        st.n_premium += 1
    if not math.isfinite(rate_per_h):
        return
    if st.n_obs > 0 and t_ns - st.last_obs_ts_ns < cfg[C_SAMPLE_NS]:
        return
    st.last_obs_ts_ns = t_ns
    x = rate_per_h
    if st.n_obs == 0:
        st.mean_per_h = x
        st.var_per_h2 = 0.0
    else:
        a = 1.0 - decay(1.0, cfg[C_HL_OBS])
        prev = st.mean_per_h
        st.mean_per_h += a * (x - prev)
        st.var_per_h2 = (1.0 - a) * (st.var_per_h2 + a * (x - prev) * (x - prev))
    st.n_obs += 1


@njit(cache=True)
def warmed_up(st, cfg):
    return st.n_obs >= cfg[C_WARMUP]


@njit(cache=True)
def std(st, cfg):
    return max(math.sqrt(st.var_per_h2), cfg[C_STD_FLOOR])


@njit(cache=True)
def zscore(st, cfg):
    if not warmed_up(st, cfg):
        return 0.0
    return (st.rate_per_h - st.mean_per_h) / std(st, cfg)


@njit(cache=True)
def premium(st):
    return st.premium if st.n_premium > 0 else 0.0


@njit(cache=True)
def predicted(st, cfg):
    """Predicted funding rate per hour."""
    if st.n_premium > 0:
        p = st.premium
        return (p + clamp(cfg[C_INTEREST] - p, -cfg[C_CLAMP], cfg[C_CLAMP])) / 8.0
    return st.mean_per_h if st.n_obs > 0 else st.rate_per_h


@njit(cache=True)
def cost_bps(st, cfg):
    """Funding a long pays over the holding time, bps (negative: it receives)."""
    return predicted(st, cfg) * cfg[C_HOLDING_H] * 1e4


@njit(cache=True)
def drift_observation(st, cfg, scale, sigma):
    """(z, R, ok): no observation before warm-up."""
    if not warmed_up(st, cfg):
        return 0.0, 1e12, False
    z = zscore(st, cfg)
    return -scale * z, sigma * sigma / max(abs(z), 0.1), True


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_ctx(state, cfg, ev, t):
    """An asset context: funding rate per hour (aux0), mark (px), oracle (aux1), open interest (sz)."""
    on_ctx(state.funding, cfg.funding, t, ev.aux0, ev.px, ev.aux1, ev.sz)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Funding's MarketParams fields (hourly funding: stale after an hour without a context)."""
    out.funding_status = status(cfg[C_ENABLED] != 0.0, warmed_up(st, cfg),
                                float(h.last_ctx_ts_ns), t, max(stale, 3600e9))
    out.funding_rate_per_h = st.rate_per_h
    out.funding_predicted_per_h = predicted(st, cfg)
    out.funding_std_per_h = std(st, cfg)
    out.funding_zscore = zscore(st, cfg)
    out.funding_cost_bps = cost_bps(st, cfg)
    out.funding_premium_bps = premium(st) * 1e4
    out.mark_px = st.mark_px
    out.oracle_px = st.oracle_px
    out.open_interest_sz = st.open_interest_sz
    out.funding_n_obs = int(st.n_obs)
