"""The estimator kernel: every estimator module, composed in hot, warm and cold tiers.

Pure numba over one coin's state words (``KERNEL_STATE.words``, in shared memory so
a restarted estimator resumes warm) and one event at a time. Layout of the state and
config vectors: ``layout.py``; each module works on its own slice.

Tiers (event time, so a replay gives the same numbers as live):
  hot, every event: book (mid, tick), volatility sampling (regime per sample), trade
    flow, Hawkes, kappa distances, volume clock, book microstructure, queue, funding,
    markouts (adverse selection, toxicity labels), Kalman predict + book composite.
  warm, every ``tiers.warm_interval_ms``: sigma blend, kappa publish (flow
    multipliers), microprice regression, spread process, cascade, toxicity now,
    Kalman warm observations (Hawkes excess, basis).
  cold, every ``tiers.cold_interval_ms``: kappa K-S test and model choice, Kalman cold
    observations (cross-asset lead, funding).
Entry points: ``init_state(state, cfg)``, ``on_event(state, cfg, ev)``,
``on_fill(state, fill)`` (queued; folded at the next event, which has the config),
``write_params(state, cfg, coin, out, now_mono_ns)``, ``config_vector(est_cfg)``,
and for several coins ``cross_event(states, cfg, ev)`` (correlation, basis, lead-lag).
"""

import math

import numpy as np
from numba import njit

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE, MAX_COINS

from . import (
    adverse_selection,
    book_micro,
    cascade,
    correlation,
    drift_kalman,
    flow,
    funding,
    hawkes,
    kappa,
    microprice,
    queue_position,
    regime,
    spread,
    toxicity,
    vol,
    volclock,
)
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)
from .layout import (
    FQ_LEN,
    FQ_W,
    H_ASK,
    H_ASK_SZ,
    H_BID,
    H_BID_SZ,
    H_BOOK_R,
    H_BOOK_Z,
    H_COLD_NS,
    H_EXCH_NS,
    H_FQ,
    H_FQ_N,
    H_LAST_BOOK_NS,
    H_LAST_CTX_NS,
    H_LAST_EVENT_NS,
    H_LAST_TRADE_NS,
    H_N_COLD,
    H_N_EVENTS,
    H_N_FILLS,
    H_N_WARM,
    H_POSITION,
    H_SRC_PUB_NS,
    H_TICK,
    H_TOX_ASK,
    H_TOX_BID,
    H_WARM_NS,
    K_COLD_NS,
    K_WARM_NS,
    N_CONFIG,
    STATE_WORDS_USED,
)
from .params import write_params  # noqa: E402,F401  (an entry point of this module)

N_STATE = STATE_WORDS_USED
S_N_EVENTS = H_N_EVENTS  # kept for the process's "resuming warm" log


@njit(cache=True)
def init_state(state, cfg):
    state[:N_STATE] = 0.0
    state[H_TICK] = np.inf
    vol.init(state[OS_VOL:OE_VOL], cfg[CS_VOL:CE_VOL])  # noqa: F405
    regime.init(state[OS_REG:OE_REG], cfg[CS_REG:CE_REG])  # noqa: F405
    volclock.init(state[OS_VC:OE_VC], cfg[CS_VC:CE_VC])  # noqa: F405
    kappa.init(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP])  # noqa: F405
    microprice.init(state[OS_MIC:OE_MIC], cfg[CS_MIC:CE_MIC])  # noqa: F405
    flow.init(state[OS_FLOW:OE_FLOW], cfg[CS_FLOW:CE_FLOW])  # noqa: F405
    hawkes.init(state[OS_HK:OE_HK], cfg[CS_HK:CE_HK])  # noqa: F405
    funding.init(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND])  # noqa: F405
    spread.init(state[OS_SPR:OE_SPR], cfg[CS_SPR:CE_SPR])  # noqa: F405
    cascade.init(state[OS_CAS:OE_CAS], cfg[CS_CAS:CE_CAS])  # noqa: F405
    adverse_selection.init(state[OS_AS:OE_AS], cfg[CS_AS:CE_AS])  # noqa: F405
    toxicity.init(state[OS_TOX:OE_TOX], cfg[CS_TOX:CE_TOX])  # noqa: F405
    queue_position.init(state[OS_Q:OE_Q], cfg[CS_Q:CE_Q])  # noqa: F405
    book_micro.init(state[OS_BOOK:OE_BOOK])  # noqa: F405
    drift_kalman.init(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR])  # noqa: F405
    correlation.init_xv(state[OS_XV:OE_XV])  # noqa: F405
    correlation.init_corr(state[OS_CORR:OE_CORR])  # noqa: F405


@njit(cache=True)
def on_fill(state, fill):
    """Queue one of our fills (a ``FILL_EVENT`` record); folded at the next event."""
    n = int(state[H_FQ_N])
    if n >= FQ_LEN:
        return  # a burst beyond the queue: the fill misses the markout sample
    j = H_FQ + n * FQ_W
    state[j] = fill.ts_ns
    state[j + 1] = fill.side
    state[j + 2] = fill.px
    state[j + 3] = fill.sz
    state[j + 4] = fill.mid_px
    state[j + 5] = fill.position_sz
    state[H_FQ_N] = n + 1


@njit(cache=True)
def _mid(state):
    return 0.5 * (state[H_BID] + state[H_ASK]) if state[H_BID] > 0.0 else 0.0


@njit(cache=True)
def _fold_fills(state, cfg, t_ns):
    mid = _mid(state)
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    for k in range(int(state[H_FQ_N])):
        j = H_FQ + k * FQ_W
        ts, side, px, mid0 = state[j], state[j + 1], state[j + 2], state[j + 4]
        if mid0 <= 0.0:
            mid0 = mid
        state[H_POSITION] = state[j + 5]
        state[H_N_FILLS] += 1.0
        adverse_selection.on_fill(state[OS_AS:OE_AS], cfg[CS_AS:CE_AS], ts, side, px, mid0)  # noqa: F405
        fair = state[OS_SPR + spread.S_FAIR]  # noqa: F405
        spr = (state[H_ASK] - state[H_BID]) / mid * 1e4 if mid > 0.0 else 0.0
        dr = state[OS_DR:OE_DR]  # noqa: F405
        dstd = drift_kalman.drift_std_bps_per_s(dr)
        toxicity.on_fill(state[OS_TOX:OE_TOX], cfg[CS_TOX:CE_TOX], ts, side, px, mid0,  # noqa: F405
                         _top_imbalance(state), flow.imbalance(st_fl, 1),
                         _flow_intensity(state, cfg, t_ns), regime.regime(state[OS_REG:OE_REG]),  # noqa: F405
                         state[OS_CAS + cascade.S_SEVERITY],  # noqa: F405
                         funding.zscore(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND]),  # noqa: F405
                         spr / fair if fair > 0.0 else 1.0,
                         drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0)
        if mid0 > 0.0:
            drift_kalman.obs_fill(dr, cfg[CS_DR:CE_DR], ts, side, px, mid0,  # noqa: F405
                                  vol.sigma_clean(state[OS_VOL:OE_VOL]))  # noqa: F405
    state[H_FQ_N] = 0.0


@njit(cache=True)
def _top_imbalance(state):
    b, a = state[H_BID_SZ], state[H_ASK_SZ]
    return (b - a) / (b + a) if b + a > 0.0 else 0.0


@njit(cache=True)
def _flow_intensity(state, cfg, t_ns):
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    c_fl = cfg[CS_FLOW:CE_FLOW]  # noqa: F405
    long = flow.trade_rate(st_fl, c_fl, t_ns, 3)
    return flow.trade_rate(st_fl, c_fl, t_ns, 1) / long if long > 0.0 else 0.0


@njit(cache=True)
def on_event(state, cfg, ev):
    """Fold one md event (a record of ``MD_EVENT``) into one coin's state."""
    t_ns = float(ev.exch_ts_ns)
    if t_ns < state[H_LAST_EVENT_NS]:
        t_ns = state[H_LAST_EVENT_NS]  # never let time run backwards
    state[H_LAST_EVENT_NS] = t_ns
    state[H_N_EVENTS] += 1.0
    state[H_SRC_PUB_NS] = ev.pub_mono_ns
    state[H_EXCH_NS] = ev.exch_ts_ns
    if state[H_FQ_N] > 0.0:
        _fold_fills(state, cfg, t_ns)
    kind = ev.kind
    if kind == EV_BOOK or kind == EV_BBO:
        _on_book(state, cfg, ev, t_ns, kind == EV_BOOK)
    elif kind == EV_TRADE:
        _on_trade(state, cfg, ev, t_ns)
    elif kind == EV_ASSET_CTX:
        state[H_LAST_CTX_NS] = t_ns
        funding.on_ctx(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND], t_ns, ev.aux0,  # noqa: F405
                       ev.px, ev.aux1, ev.sz)
    if t_ns - state[H_WARM_NS] >= cfg[K_WARM_NS]:
        state[H_WARM_NS] = t_ns
        state[H_N_WARM] += 1.0
        warm_tier(state, cfg, t_ns)
    if t_ns - state[H_COLD_NS] >= cfg[K_COLD_NS]:
        state[H_COLD_NS] = t_ns
        state[H_N_COLD] += 1.0
        cold_tier(state, cfg, t_ns)


@njit(cache=True)
def _on_book(state, cfg, ev, t_ns, full):
    if ev.n_bids < 1 or ev.n_asks < 1:
        return
    bid = ev.bid_px[0]
    ask = ev.ask_px[0]
    if not (bid > 0.0 and ask > bid and math.isfinite(ask)):
        return  # crossed or empty: keep the last good book
    state[H_BID] = bid
    state[H_ASK] = ask
    state[H_BID_SZ] = ev.bid_sz[0]
    state[H_ASK_SZ] = ev.ask_sz[0]
    state[H_LAST_BOOK_NS] = t_ns
    for i in range(1, ev.n_bids):
        step = ev.bid_px[i - 1] - ev.bid_px[i]
        if 0.0 < step < state[H_TICK]:
            state[H_TICK] = step
    step = ask - bid
    if 0.0 < step < state[H_TICK]:
        state[H_TICK] = step
    mid = 0.5 * (bid + ask)
    st_v = state[OS_VOL:OE_VOL]  # noqa: F405
    if vol.sample(st_v, cfg[CS_VOL:CE_VOL], t_ns, mid):  # noqa: F405
        regime.update(state[OS_REG:OE_REG], cfg[CS_REG:CE_REG], t_ns,  # noqa: F405
                      st_v[vol.S_BV_FAST], st_v[vol.S_BV])
    adverse_selection.on_mid(state[OS_AS:OE_AS], cfg[CS_AS:CE_AS], t_ns, mid)  # noqa: F405
    toxicity.on_mid(state[OS_TOX:OE_TOX], cfg[CS_TOX:CE_TOX], t_ns, mid)  # noqa: F405
    st_b = state[OS_BOOK:OE_BOOK]  # noqa: F405
    c_b = cfg[CS_BOOK:CE_BOOK]  # noqa: F405
    if full:
        book_micro.on_book(st_b, c_b, t_ns, ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz,
                           ev.n_bids, ev.n_asks)
        queue_position.on_book(state[OS_Q:OE_Q], cfg[CS_Q:CE_Q], t_ns, ev.bid_px, ev.bid_sz,  # noqa: F405
                               ev.bid_n, ev.ask_px, ev.ask_sz, ev.ask_n, ev.n_bids, ev.n_asks)
        kappa.on_book(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP], mid, ev.bid_px, ev.bid_sz,  # noqa: F405
                      ev.ask_px, ev.ask_sz, ev.n_bids, ev.n_asks)
    # Kalman hot tier: predict, one precision-weighted book composite, flow.
    zb = state[H_BOOK_Z:H_BOOK_Z + 4]
    rb = state[H_BOOK_R:H_BOOK_R + 4]
    pos = state[H_POSITION]
    n = book_micro.drift_observations(st_b, c_b, t_ns, 1.0 if pos > 0 else (-1.0 if pos < 0 else 0.0),
                                      zb, rb)
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    drift_kalman.hot_tier(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR], t_ns, zb, rb, n,  # noqa: F405
                          flow.imbalance(st_fl, 1), state[OS_KAP + kappa.S_KAPPA])  # noqa: F405


@njit(cache=True)
def _on_trade(state, cfg, ev, t_ns):
    sz = ev.sz
    px = ev.px
    if not (sz > 0.0 and math.isfinite(sz) and px > 0.0):
        return
    side = ev.side
    state[H_LAST_TRADE_NS] = t_ns
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    c_fl = cfg[CS_FLOW:CE_FLOW]  # noqa: F405
    flow.on_trade(st_fl, c_fl, t_ns, side, sz)
    hawkes.on_event(state[OS_HK:OE_HK], cfg[CS_HK:CE_HK], t_ns, side)  # noqa: F405
    volclock.on_trade(state[OS_VC:OE_VC], cfg[CS_VC:CE_VC], t_ns, sz)  # noqa: F405
    book_micro.on_trade(state[OS_BOOK:OE_BOOK], cfg[CS_BOOK:CE_BOOK], t_ns, px, sz, side)  # noqa: F405
    queue_position.on_trade(state[OS_Q:OE_Q], cfg[CS_Q:CE_Q], t_ns, px, sz, side)  # noqa: F405
    mid = _mid(state)
    if mid > 0.0:
        kappa.on_trade(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP], t_ns, side, px, mid,  # noqa: F405
                       flow.trade_rate(st_fl, c_fl, t_ns, 4))


@njit(cache=True)
def warm_tier(state, cfg, t_ns):
    mid = _mid(state)
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
                        _top_imbalance(state), flow.imbalance(st_fl, 0), reg)
        spread.warm(state[OS_SPR:OE_SPR], cfg[CS_SPR:CE_SPR], t_ns, spr)  # noqa: F405
        _toxicity_now(state, cfg, t_ns, spr, reg)
        # A cold sigma makes every move look like many sigmas: judge cascades once
        # the volatility is warm (its status reads warming until then).
        if st_v[vol.S_N] >= cfg[K_WARMUP_SAMPLES]:  # noqa: F405
            cascade.warm(state[OS_CAS:OE_CAS], cfg[CS_CAS:CE_CAS], t_ns, mid,  # noqa: F405
                         state[OS_FUND + funding.S_OI],  # noqa: F405
                         flow.buy_rate(st_fl, c_fl, t_ns, 0) + flow.sell_rate(st_fl, c_fl, t_ns, 0),
                         flow.buy_rate(st_fl, c_fl, t_ns, 3) + flow.sell_rate(st_fl, c_fl, t_ns, 3),
                         max(vol.sigma_clean(st_v), 1e-6))
    lb, ls, _, eb, es = hawkes.outputs(state[OS_HK:OE_HK], t_ns)  # noqa: F405
    drift_kalman.warm_tier(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR], t_ns, eb, es, lb + ls,  # noqa: F405
                           0.0, 0.0, state[H_CROSS + X_D_BASIS])  # noqa: F405


@njit(cache=True)
def _toxicity_now(state, cfg, t_ns, spr, reg):
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    fair = state[OS_SPR + spread.S_FAIR]  # noqa: F405
    dr = state[OS_DR:OE_DR]  # noqa: F405
    dstd = drift_kalman.drift_std_bps_per_s(dr)
    dz = drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0
    fz = funding.zscore(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND])  # noqa: F405
    bim = _top_imbalance(state)
    fi = flow.imbalance(st_fl, 1)
    inten = _flow_intensity(state, cfg, t_ns)
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


@njit(cache=True)
def cross_event(states, cfg, ev):
    """Cross-coin estimators for one md event (call after ``on_event``): correlation in
    coin 0's state, basis and lead-lag of each coin against its reference coin. Writes
    each coin's outputs into its own state (read by ``write_params``)."""
    if not (ev.kind == EV_BOOK or ev.kind == EV_BBO):
        return
    c = int(ev.coin)
    n_coins = int(cfg[K_N_COINS])  # noqa: F405
    if c >= n_coins:
        return
    t_ns = states[c, H_LAST_EVENT_NS]
    mid = _mid(states[c])
    if mid <= 0.0:
        return
    c_c = cfg[CS_CORR:CE_CORR]  # noqa: F405
    st_c = states[0, OS_CORR:OE_CORR]  # noqa: F405
    correlation.corr_on_mid(st_c, c_c, t_ns, c, mid)
    for i in range(n_coins):
        ref = int(cfg[K_REF + i])  # noqa: F405
        if ref == c and ref != i:
            correlation.xv_on_mid(states[i, OS_XV:OE_XV], c_c, t_ns, 1, mid)  # noqa: F405
    ref = int(cfg[K_REF + c])  # noqa: F405
    if ref >= 0 and ref != c:
        correlation.xv_on_mid(states[c, OS_XV:OE_XV], c_c, t_ns, 0, mid)  # noqa: F405
    x = states[c, H_CROSS:H_CROSS + N_CROSS]  # noqa: F405
    if t_ns - x[X_T_NS] < cfg[K_COLD_NS]:  # noqa: F405
        return
    x[X_T_NS] = t_ns  # noqa: F405
    r = int(cfg[K_CORR_REF])  # noqa: F405
    x[X_REF] = r  # noqa: F405
    for s in range(3):
        x[X_CORR + s] = correlation.corr(st_c, s, c, r)  # noqa: F405
        x[X_BETA + s] = correlation.beta(st_c, s, c, r)  # noqa: F405
    x[X_VALID] = 1.0 if correlation.corr_valid(st_c, c_c, 0) and r != c else 0.0  # noqa: F405
    if ref >= 0 and ref != c:
        xv = states[c, OS_XV:OE_XV]  # noqa: F405
        x[X_BASIS] = correlation.basis_bps(xv)  # noqa: F405
        x[X_BASIS_Z] = correlation.basis_z(xv)  # noqa: F405
        x[X_D_BASIS] = correlation.d_basis_bps(xv)  # noqa: F405
        x[X_LAG_S] = correlation.best_lag(xv) * cfg[K_LEADLAG_SAMPLE_S]  # noqa: F405
        x[X_LAG_CORR] = correlation.best_lag_corr(xv)  # noqa: F405
        x[X_LEAD] = correlation.lead_bps_per_s(xv, c_c)  # noqa: F405
        x[X_LEAD_CONF] = correlation.lead_confidence(xv, c_c)  # noqa: F405
        x[X_XV_VALID] = 1.0  # noqa: F405


def config_vector(est_cfg, coins: tuple[str, ...] | None = None) -> np.ndarray:
    """The kernel's config from ``appliance.config.EstimatorConfig`` (and the coin names,
    for the reference coins of correlation and basis)."""
    from .params import config_head

    c = np.zeros(N_CONFIG)
    config_head(c, est_cfg, coins)
    blocks = (
        (CS_VOL, vol.config_values(est_cfg)),  # noqa: F405
        (CS_REG, regime.config_values(est_cfg)),  # noqa: F405
        (CS_VC, volclock.config_values(est_cfg)),  # noqa: F405
        (CS_KAP, kappa.config_values(est_cfg)),  # noqa: F405
        (CS_MIC, microprice.config_values(est_cfg)),  # noqa: F405
        (CS_FLOW, flow.config_values(est_cfg)),  # noqa: F405
        (CS_HK, hawkes.config_values(est_cfg)),  # noqa: F405
        (CS_FUND, funding.config_values(est_cfg)),  # noqa: F405
        (CS_SPR, spread.config_values(est_cfg)),  # noqa: F405
        (CS_CAS, cascade.config_values(est_cfg)),  # noqa: F405
        (CS_AS, adverse_selection.config_values(est_cfg.adverse_selection)),  # noqa: F405
        (CS_TOX, toxicity.config_values(est_cfg.toxicity)),  # noqa: F405
        (CS_Q, queue_position.config_values(est_cfg.queue)),  # noqa: F405
        (CS_BOOK, book_micro.config_values(est_cfg.book)),  # noqa: F405
        (CS_DR, drift_kalman.config_values(est_cfg.drift)),  # noqa: F405
        (CS_CORR, correlation.config_values(est_cfg.correlation)),  # noqa: F405
    )
    for off, vals in blocks:
        c[off:off + len(vals)] = vals
    return c


assert MAX_COINS <= 8
