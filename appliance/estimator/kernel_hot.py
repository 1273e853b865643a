"""The estimator kernel's hot tier: one md event (and the fills queued before it).

Every event: book (mid, tick), volatility sampling (regime per sample), trade flow,
Hawkes, kappa distances, volume clock, book microstructure, queue, funding, markouts
(adverse selection, toxicity labels), Kalman predict + book composite; then the warm
and cold timers (``kernel_tiers``).
"""
# ruff: noqa: F405  (the layout's offsets come by star import: compile-time constants)

import math

from numba import njit

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE

from . import (
    adverse_selection,
    book_micro,
    cascade,
    drift_kalman,
    fill_size,
    flow,
    funding,
    hawkes,
    kappa,
    queue_position,
    regime,
    spread,
    toxicity,
    vol,
    volclock,
)
from .kernel_base import flow_intensity, mid_px, top_imbalance
from .kernel_tiers import cold_tier, warm_tier
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)


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
def _fold_fills(state, cfg, t_ns):
    mid = mid_px(state)
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    for k in range(int(state[H_FQ_N])):
        j = H_FQ + k * FQ_W
        ts, side, px, mid0 = state[j], state[j + 1], state[j + 2], state[j + 4]
        if mid0 <= 0.0:
            mid0 = mid
        state[H_POSITION] = state[j + 5]
        fill_size.on_fill(state[OS_FS:OE_FS], side, state[j + 3])  # noqa: F405
        state[H_N_FILLS] += 1.0
        adverse_selection.on_fill(state[OS_AS:OE_AS], cfg[CS_AS:CE_AS], ts, side, px, mid0)  # noqa: F405
        fair = state[OS_SPR + spread.S_FAIR]  # noqa: F405
        spr = (state[H_ASK] - state[H_BID]) / mid * 1e4 if mid > 0.0 else 0.0
        dr = state[OS_DR:OE_DR]  # noqa: F405
        dstd = drift_kalman.drift_std_bps_per_s(dr)
        toxicity.on_fill(state[OS_TOX:OE_TOX], cfg[CS_TOX:CE_TOX], ts, side, px, mid0,  # noqa: F405
                         top_imbalance(state), flow.imbalance(st_fl, 1),
                         flow_intensity(state, cfg, t_ns), regime.regime(state[OS_REG:OE_REG]),  # noqa: F405
                         state[OS_CAS + cascade.S_SEVERITY],  # noqa: F405
                         funding.zscore(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND]),  # noqa: F405
                         spr / fair if fair > 0.0 else 1.0,
                         drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0)
        if mid0 > 0.0:
            drift_kalman.obs_fill(dr, cfg[CS_DR:CE_DR], ts, side, px, mid0,  # noqa: F405
                                  vol.sigma_clean(state[OS_VOL:OE_VOL]))  # noqa: F405
    state[H_FQ_N] = 0.0


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
    mid = mid_px(state)
    if mid > 0.0:
        kappa.on_trade(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP], t_ns, side, px, mid,  # noqa: F405
                       flow.trade_rate(st_fl, c_fl, t_ns, 4))
