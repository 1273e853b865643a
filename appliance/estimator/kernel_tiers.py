"""The estimator kernel's warm and cold tiers (event-time timers run by ``on_event``).

warm, every ``tiers.warm_interval_ms``: sigma blend, kappa publish (flow multipliers),
  microprice regression, spread process, cascade, toxicity now, Kalman warm
  observations (Hawkes excess, fill-size shift, basis).
cold, every ``tiers.cold_interval_ms``: kappa K-S test and model choice, Kalman cold
  observations (cross-asset lead, funding).
"""
# ruff: noqa: F405  (the layout's offsets come by star import: compile-time constants)

from numba import njit

from . import (
    cascade,
    drift_kalman,
    fill_size,
    flow,
    funding,
    hawkes,
    kappa,
    microprice,
    regime,
    spread,
    toxicity,
    vol,
)
from .kernel_base import flow_intensity, mid_px, top_imbalance
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)


@njit(cache=True)
def warm_tier(state, cfg, t_ns):
    mid = mid_px(state)
    st_v = state[OS_VOL:OE_VOL]  # noqa: F405
    st_r = state[OS_REG:OE_REG]  # noqa: F405
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    c_fl = cfg[CS_FLOW:CE_FLOW]  # noqa: F405
    reg = regime.regime(st_r)
    tox = max(state[H_TOX_BID], state[H_TOX_ASK])
    vol.blend(st_v, cfg[CS_VOL:CE_VOL], t_ns, reg, tox)  # noqa: F405
    c_k = cfg[CS_KAP:CE_KAP]  # noqa: F405
    h = flow.horizon_index(c_fl, c_k[kappa.C_HORIZON])
    kappa.publish(state[OS_KAP:OE_KAP], c_k, flow.imbalance(st_fl, h))  # noqa: F405
    if mid > 0.0:
        spr = (state[H_ASK] - state[H_BID]) / mid * 1e4
        microprice.warm(state[OS_MIC:OE_MIC], cfg[CS_MIC:CE_MIC], t_ns, mid,  # noqa: F405
                        top_imbalance(state), flow.imbalance(st_fl, 0), reg)
        spread.warm(state[OS_SPR:OE_SPR], cfg[CS_SPR:CE_SPR], t_ns, spr)  # noqa: F405
        _toxicity_now(state, cfg, t_ns, spr, reg)
        # A cold sigma makes every move look like many sigmas: judge cascades once
        # the volatility is warm (its status reads warming until then).
        if st_v[vol.S_N] >= cfg[K_WARMUP_SAMPLES]:  # noqa: F405
            cascade.warm(state[OS_CAS:OE_CAS], cfg[CS_CAS:CE_CAS], t_ns, mid,  # noqa: F405
                         state[OS_FUND + funding.S_OI],  # noqa: F405
                         flow.buy_rate(st_fl, c_fl, t_ns, 1) + flow.sell_rate(st_fl, c_fl, t_ns, 1),  # 5 s
                         flow.buy_rate(st_fl, c_fl, t_ns, 2) + flow.sell_rate(st_fl, c_fl, t_ns, 2),  # 30 s
                         st_v[vol.S_RV_SLOW] ** 0.5)  # sigma_300s, bps/sqrt(s)
    st_fs = state[OS_FS:OE_FS]  # noqa: F405
    lb, ls, _, eb, es = hawkes.outputs(state[OS_HK:OE_HK], t_ns)  # noqa: F405
    drift_kalman.warm_tier(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR], t_ns, eb, es, lb + ls,  # noqa: F405
                           fill_size.zscore(st_fs, 1), fill_size.zscore(st_fs, -1),
                           state[H_CROSS + X_D_BASIS])  # noqa: F405


@njit(cache=True)
def _toxicity_now(state, cfg, t_ns, spr, reg):
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    fair = state[OS_SPR + spread.S_FAIR]  # noqa: F405
    dr = state[OS_DR:OE_DR]  # noqa: F405
    dstd = drift_kalman.drift_std_bps_per_s(dr)
    dz = drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0
    fz = funding.zscore(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND])  # noqa: F405
    bim = top_imbalance(state)
    fi = flow.imbalance(st_fl, 1)
    inten = flow_intensity(state, cfg, t_ns)
    sev = state[OS_CAS + cascade.S_SEVERITY]  # noqa: F405
    ratio = spr / fair if fair > 0.0 else 1.0
    st_t = state[OS_TOX:OE_TOX]  # noqa: F405
    c_t = cfg[CS_TOX:CE_TOX]  # noqa: F405
    state[H_TOX_BID] = toxicity.p_toxic(st_t, c_t, 1, bim, fi, inten, reg, sev, fz, ratio, dz)
    state[H_TOX_ASK] = toxicity.p_toxic(st_t, c_t, -1, bim, fi, inten, reg, sev, fz, ratio, dz)


@njit(cache=True)
def cold_tier(state, cfg, t_ns):
    kappa.cold(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP])  # noqa: F405
    st_f = state[OS_FUND:OE_FUND]  # noqa: F405
    drift_kalman.cold_tier(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR], t_ns,  # noqa: F405
                           state[H_CROSS + X_LEAD], state[H_CROSS + X_LEAD_CONF],  # noqa: F405
                           funding.zscore(st_f, cfg[CS_FUND:CE_FUND]), st_f[funding.S_N_OBS])  # noqa: F405
