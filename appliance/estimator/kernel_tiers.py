"""The estimator kernel's warm and cold tiers (event-time timers run by ``on_event``).

warm, every ``tiers.warm_interval_ms``: sigma blend, kappa (source choice, flow multipliers),
  microprice regression, spread process, cascade, toxicity now, Kalman warm
  observations (Hawkes excess, fill-size shift, basis).
cold, every ``tiers.cold_interval_ms``: kappa K-S test and model choice, Kalman cold
  observations (cross-asset lead, funding).
"""

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
from .kernel_readers import flow_intensity, mid_px, top_imbalance


@njit(cache=True)
def warm_tier(state, cfg, t_ns):
    h = state.header
    mid = mid_px(state)
    st_v = state.vol
    st_fl = state.flow
    c_fl = cfg.flow
    reg = regime.regime(state.regime)
    tox = max(h.toxicity_bid, h.toxicity_ask)
    vol.blend(st_v, cfg.vol, t_ns, reg, tox)
    c_k = cfg.kappa
    hz = flow.horizon_index(c_fl, c_k[kappa.C_HORIZON])
    kappa.warm(state.kappa, c_k, flow.imbalance(st_fl, hz))
    if mid > 0.0:
        spr = (h.ask_px - h.bid_px) / mid * 1e4
        microprice.warm(state.microprice, cfg.microprice, t_ns, mid,
                        top_imbalance(state), flow.imbalance(st_fl, 0), reg)
        spread.warm(state.spread, cfg.spread, t_ns, spr)
        _toxicity_now(state, cfg, t_ns, spr, reg)
        # A cold sigma makes every move look like many sigmas: judge cascades once
        # the volatility is warm (its status reads warming until then).
        if st_v.n_samples >= cfg.tiers.warmup_samples:
            cascade.warm(state.cascade, cfg.cascade, t_ns, mid,
                         state.funding.open_interest_sz,
                         flow.buy_rate(st_fl, c_fl, t_ns, 1) + flow.sell_rate(st_fl, c_fl, t_ns, 1),  # 5 s
                         flow.buy_rate(st_fl, c_fl, t_ns, 2) + flow.sell_rate(st_fl, c_fl, t_ns, 2),  # 30 s
                         st_v.rv_slow_bps2_per_s ** 0.5)  # sigma_300s, bps/sqrt(s)
    st_fs = state.fill_size
    lb, ls, _, eb, es = hawkes.outputs(state.hawkes, t_ns)
    drift_kalman.warm_tier(state.drift, cfg.drift, t_ns, eb, es, lb + ls,
                           fill_size.zscore(st_fs, 1), fill_size.zscore(st_fs, -1),
                           h.cross.d_basis_bps)


@njit(cache=True)
def _toxicity_now(state, cfg, t_ns, spr, reg):
    h = state.header
    fair = state.spread.fair_bps
    dr = state.drift
    dstd = drift_kalman.drift_std_bps_per_s(dr)
    dz = drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0
    fz = funding.zscore(state.funding, cfg.funding)
    bim = top_imbalance(state)
    fi = flow.imbalance(state.flow, 1)
    inten = flow_intensity(state, cfg, t_ns)
    sev = state.cascade.severity
    ratio = spr / fair if fair > 0.0 else 1.0
    st_t = state.toxicity
    c_t = cfg.toxicity
    h.toxicity_bid = toxicity.p_toxic(st_t, c_t, 1, bim, fi, inten, reg, sev, fz, ratio, dz)
    h.toxicity_ask = toxicity.p_toxic(st_t, c_t, -1, bim, fi, inten, reg, sev, fz, ratio, dz)


@njit(cache=True)
def cold_tier(state, cfg, t_ns):
    kappa.cold(state.kappa, cfg.kappa)
    st_f = state.funding
    x = state.header.cross
    drift_kalman.cold_tier(state.drift, cfg.drift, t_ns, x.lead_bps_per_s, x.lead_confidence,
                           funding.zscore(st_f, cfg.funding), float(st_f.n_obs))
