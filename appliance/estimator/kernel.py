"""First estimator kernel: mid, microprice, jump-robust volatility, trade flow, kappa.

Pure numba over one coin's state words (``KERNEL_STATE.words``, kept in shared
memory so a restarted estimator resumes warm) and one event at a time.

Volatility samples the mid every ``vol_sample_ms`` of event time. With r the
sample return in bps and dt its length in seconds, per-second variances are
EWMAs of
    realized  r_t^2 / dt                     (sees jumps)
    bipower   (pi/2) |r_t| |r_t-1| / dt      (a lone jump enters once, times a
                                              normal neighbour: mostly ignored)
Adverse selection: each of our fills is marked out 1 s of event time later,
markout = side * (mid_later - fill_px) / fill_px in bps; AS is an EWMA of -markout.
Trade flow and kappa are EWMAs in event time with half-lives from the config.
kappa: trade distances d from mid (bps) taken as exponential, so the MLE is
1 / mean(d); the prior mean 1/kappa_prior weighs like ten trades.
"""

import math

import numpy as np
from numba import njit

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE

# --- config vector indices ------------------------------------------------------
C_VOL_SAMPLE_NS = 0
C_VOL_HALFLIFE_S = 1
C_FLOW_HALFLIFE_S = 2
C_KAPPA_HALFLIFE_S = 3
C_KAPPA_PRIOR_PER_BPS = 4
C_WARMUP_SAMPLES = 5
N_CONFIG = 6

# --- state word indices (per coin) ----------------------------------------------
S_BID = 0
S_ASK = 1
S_BID_SZ = 2
S_ASK_SZ = 3
S_LAST_EVENT_NS = 4
S_VOL_SAMPLE_NS = 5  # time of the last volatility sample
S_VOL_SAMPLE_MID = 6
S_LAST_ABS_R = 7  # |r| of the previous sample, for bipower
S_RV_PER_S = 8  # realized variance per second, bps^2/s
S_BV_PER_S = 9  # bipower variance per second
S_N_SAMPLES = 10
S_FLOW_SIGNED = 11  # EWMA signed volume
S_FLOW_TOTAL = 12
S_FLOW_NS = 13  # time the flow EWMAs were last decayed to
S_TRADE_RATE = 14  # EWMA trades per second
S_KAPPA_MEAN_D = 15  # EWMA mean trade distance from mid, bps
S_TICK = 16
S_N_EVENTS = 17
S_FUNDING = 18
S_SRC_PUB_NS = 19
S_EXCH_NS = 20
S_AS_BPS = 21  # EWMA of -(1 s markout) of our fills
S_N_MARKED = 22
S_PEND = 32  # pending fills awaiting their markout: (ts_ns, px, side) triples
N_PEND = 16
N_STATE = S_PEND + 3 * N_PEND

MARKOUT_NS = 1_000_000_000
AS_ALPHA = 0.1

LN2 = math.log(2.0)


@njit(cache=True)
def init_state(state, cfg):
    state[:N_STATE] = 0.0
    state[S_KAPPA_MEAN_D] = 1.0 / cfg[C_KAPPA_PRIOR_PER_BPS]
    state[S_TICK] = np.inf


@njit(cache=True, inline="always")
def _decay(dt_s, halflife_s):
    if dt_s <= 0.0:
        return 1.0
    return math.exp(-LN2 * dt_s / halflife_s)


@njit(cache=True)
def _sample_vol(state, cfg, t_ns, mid):
    if state[S_VOL_SAMPLE_NS] == 0.0:
        state[S_VOL_SAMPLE_NS] = t_ns
        state[S_VOL_SAMPLE_MID] = mid
        return
    dt_ns = t_ns - state[S_VOL_SAMPLE_NS]
    if dt_ns < cfg[C_VOL_SAMPLE_NS]:
        return
    dt_s = dt_ns * 1e-9
    r = math.log(mid / state[S_VOL_SAMPLE_MID]) * 1e4
    a = 1.0 - _decay(dt_s, cfg[C_VOL_HALFLIFE_S])
    rv = r * r / dt_s
    if state[S_N_SAMPLES] == 0.0:
        state[S_RV_PER_S] = rv
        state[S_BV_PER_S] = rv
    else:
        bv = (math.pi / 2.0) * abs(r) * state[S_LAST_ABS_R] / dt_s
        state[S_RV_PER_S] += a * (rv - state[S_RV_PER_S])
        state[S_BV_PER_S] += a * (bv - state[S_BV_PER_S])
    state[S_LAST_ABS_R] = abs(r)
    state[S_N_SAMPLES] += 1.0
    state[S_VOL_SAMPLE_NS] = t_ns
    state[S_VOL_SAMPLE_MID] = mid


@njit(cache=True)
def _decay_flow(state, cfg, t_ns):
    if state[S_FLOW_NS] == 0.0:
        state[S_FLOW_NS] = t_ns
        return
    dt_s = (t_ns - state[S_FLOW_NS]) * 1e-9
    if dt_s <= 0.0:
        return
    d = _decay(dt_s, cfg[C_FLOW_HALFLIFE_S])
    state[S_FLOW_SIGNED] *= d
    state[S_FLOW_TOTAL] *= d
    state[S_TRADE_RATE] *= d
    state[S_FLOW_NS] = t_ns


@njit(cache=True)
def on_event(state, cfg, ev):
    """Fold one md event (a record of ``MD_EVENT``) into one coin's state."""
    t_ns = float(ev.exch_ts_ns)
    if t_ns < state[S_LAST_EVENT_NS]:
        t_ns = state[S_LAST_EVENT_NS]  # never let time run backwards
    state[S_LAST_EVENT_NS] = t_ns
    state[S_N_EVENTS] += 1.0
    state[S_SRC_PUB_NS] = ev.pub_mono_ns
    state[S_EXCH_NS] = ev.exch_ts_ns
    kind = ev.kind
    if kind == EV_BOOK or kind == EV_BBO:
        if ev.n_bids < 1 or ev.n_asks < 1:
            return
        bid = ev.bid_px[0]
        ask = ev.ask_px[0]
        if not (bid > 0.0 and ask > bid and math.isfinite(ask)):
            return  # crossed or empty: keep the last good book
        state[S_BID] = bid
        state[S_ASK] = ask
        state[S_BID_SZ] = ev.bid_sz[0]
        state[S_ASK_SZ] = ev.ask_sz[0]
        for i in range(1, ev.n_bids):
            step = ev.bid_px[i - 1] - ev.bid_px[i]
            if 0.0 < step < state[S_TICK]:
                state[S_TICK] = step
        step = ask - bid
        if 0.0 < step < state[S_TICK]:
            state[S_TICK] = step
        _sample_vol(state, cfg, t_ns, 0.5 * (bid + ask))
        _mark_out(state, t_ns, 0.5 * (bid + ask))
    elif kind == EV_TRADE:
        _decay_flow(state, cfg, t_ns)
        sz = ev.sz
        if not (sz > 0.0 and math.isfinite(sz)):
            return
        state[S_FLOW_SIGNED] += ev.side * sz
        state[S_FLOW_TOTAL] += sz
        state[S_TRADE_RATE] += LN2 / cfg[C_FLOW_HALFLIFE_S]  # each trade adds rate mass
        if state[S_BID] > 0.0:
            mid = 0.5 * (state[S_BID] + state[S_ASK])
            d_bps = abs(ev.px - mid) / mid * 1e4
            a = 1.0 - _decay(1.0 / max(state[S_TRADE_RATE], 1e-3), cfg[C_KAPPA_HALFLIFE_S])
            state[S_KAPPA_MEAN_D] += a * (d_bps - state[S_KAPPA_MEAN_D])
    elif kind == EV_ASSET_CTX:
        state[S_FUNDING] = ev.aux0


@njit(cache=True)
def on_fill(state, fill):
    """Queue one of our fills (a ``FILL_EVENT`` record) for its markout."""
    for k in range(N_PEND):
        j = S_PEND + 3 * k
        if state[j] == 0.0:
            state[j] = fill.ts_ns
            state[j + 1] = fill.px
            state[j + 2] = fill.side
            return
    # All slots busy: the oldest fill is dropped from the markout sample.


@njit(cache=True)
def _mark_out(state, t_ns, mid):
    for k in range(N_PEND):
        j = S_PEND + 3 * k
        ts = state[j]
        if ts != 0.0 and t_ns - ts >= MARKOUT_NS:
            markout_bps = state[j + 2] * (mid - state[j + 1]) / state[j + 1] * 1e4
            if state[S_N_MARKED] == 0.0:
                state[S_AS_BPS] = -markout_bps
            else:
                state[S_AS_BPS] += AS_ALPHA * (-markout_bps - state[S_AS_BPS])
            state[S_N_MARKED] += 1.0
            state[j] = 0.0


@njit(cache=True)
def write_params(state, cfg, coin, out, now_mono_ns):
    """Fill one MarketParams record from a coin's state."""
    bid = state[S_BID]
    ask = state[S_ASK]
    out.coin = coin
    out.n_events = int(state[S_N_EVENTS])
    out.event_ts_ns = int(state[S_EXCH_NS])
    out.src_pub_mono_ns = int(state[S_SRC_PUB_NS])
    out.update_mono_ns = now_mono_ns
    out.funding_rate_per_h = state[S_FUNDING]
    out.adverse_selection_bps = state[S_AS_BPS]
    out.n_fills_marked = int(state[S_N_MARKED])
    if bid <= 0.0:
        out.valid = 0
        return
    mid = 0.5 * (bid + ask)
    bsz = state[S_BID_SZ]
    asz = state[S_ASK_SZ]
    out.mid_px = mid
    out.best_bid_px = bid
    out.best_ask_px = ask
    out.spread_bps = (ask - bid) / mid * 1e4
    if bsz + asz > 0.0:
        out.microprice_px = (bid * asz + ask * bsz) / (bsz + asz)
        out.book_imbalance = (bsz - asz) / (bsz + asz)
    else:
        out.microprice_px = mid
        out.book_imbalance = 0.0
    out.sigma_total_bps_per_sqrt_s = math.sqrt(state[S_RV_PER_S])
    out.sigma_clean_bps_per_sqrt_s = math.sqrt(state[S_BV_PER_S])
    out.kappa_per_bps = 1.0 / max(state[S_KAPPA_MEAN_D], 1e-6)
    total = state[S_FLOW_TOTAL]
    out.trade_flow_imbalance = state[S_FLOW_SIGNED] / total if total > 0.0 else 0.0
    out.trade_rate_per_s = state[S_TRADE_RATE]
    out.tick_size_px = state[S_TICK] if math.isfinite(state[S_TICK]) else 0.0
    out.valid = 1 if state[S_N_SAMPLES] >= cfg[C_WARMUP_SAMPLES] else 0


def config_vector(est_cfg) -> np.ndarray:
    """The kernel's config, from ``appliance.config.EstimatorConfig``."""
    c = np.zeros(N_CONFIG)
    c[C_VOL_SAMPLE_NS] = est_cfg.vol_sample_ms * 1e6
    c[C_VOL_HALFLIFE_S] = est_cfg.vol_halflife_s
    c[C_FLOW_HALFLIFE_S] = est_cfg.flow_halflife_s
    c[C_KAPPA_HALFLIFE_S] = est_cfg.kappa_halflife_s
    c[C_KAPPA_PRIOR_PER_BPS] = est_cfg.kappa_prior_per_bps
    c[C_WARMUP_SAMPLES] = est_cfg.warmup_samples
    return c
