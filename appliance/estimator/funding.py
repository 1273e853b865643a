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

from shm_layout.estimators import funding as declared

from .emath import clamp, decay

S_LAST_CTX_NS = 0
S_LAST_OBS_NS = 1
S_N_OBS = 2
S_RATE = 3
S_MEAN = 4
S_VAR = 5
S_PREM = 6
S_PREM_N = 7
S_MARK = 8
S_ORACLE = 9
S_OI = 10
S_PREDICTED = 11
N_STATE_FUNDING = 16
assert declared.STATE.itemsize == N_STATE_FUNDING * 8, 'size declared in shm_layout/estimators'

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
    st[:N_STATE_FUNDING] = 0.0


@njit(cache=True)
def on_ctx(st, cfg, t_ns, rate_per_h, mark_px, oracle_px, open_interest):
    dt_s = (t_ns - st[S_LAST_CTX_NS]) * 1e-9 if st[S_LAST_CTX_NS] > 0.0 else 0.0
    st[S_LAST_CTX_NS] = t_ns
    st[S_MARK] = mark_px
    st[S_ORACLE] = oracle_px
    st[S_OI] = open_interest
    if math.isfinite(rate_per_h):
        st[S_RATE] = rate_per_h
    if mark_px > 0.0 and oracle_px > 0.0:
        p = (mark_px - oracle_px) / oracle_px
        if st[S_PREM_N] == 0.0:
            st[S_PREM] = p
        else:
            st[S_PREM] += (1.0 - decay(dt_s, cfg[C_PREM_HL])) * (p - st[S_PREM])
        st[S_PREM_N] += 1.0
    if not math.isfinite(rate_per_h):
        return
    if st[S_N_OBS] > 0.0 and t_ns - st[S_LAST_OBS_NS] < cfg[C_SAMPLE_NS]:
        return
    st[S_LAST_OBS_NS] = t_ns
    x = rate_per_h
    if st[S_N_OBS] == 0.0:
        st[S_MEAN] = x
        st[S_VAR] = 0.0
    else:
        a = 1.0 - decay(1.0, cfg[C_HL_OBS])
        prev = st[S_MEAN]
        st[S_MEAN] += a * (x - prev)
        st[S_VAR] = (1.0 - a) * (st[S_VAR] + a * (x - prev) * (x - prev))
    st[S_N_OBS] += 1.0


@njit(cache=True)
def warmed_up(st, cfg):
    return st[S_N_OBS] >= cfg[C_WARMUP]


@njit(cache=True)
def std(st, cfg):
    return max(math.sqrt(st[S_VAR]), cfg[C_STD_FLOOR])


@njit(cache=True)
def zscore(st, cfg):
    if not warmed_up(st, cfg):
        return 0.0
    return (st[S_RATE] - st[S_MEAN]) / std(st, cfg)


@njit(cache=True)
def premium(st):
    return st[S_PREM] if st[S_PREM_N] > 0.0 else 0.0


@njit(cache=True)
def predicted(st, cfg):
    """Predicted funding rate per hour."""
    if st[S_PREM_N] > 0.0:
        p = st[S_PREM]
        return (p + clamp(cfg[C_INTEREST] - p, -cfg[C_CLAMP], cfg[C_CLAMP])) / 8.0
    return st[S_MEAN] if st[S_N_OBS] > 0.0 else st[S_RATE]


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
