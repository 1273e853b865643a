"""The estimator kernel's hot tier: one md event (and the fills queued before it).

Every event: book (mid, tick), volatility sampling (regime per sample), trade flow,
Hawkes, kappa distances, volume clock, book microstructure, queue, funding, markouts
(adverse selection, toxicity labels), Kalman predict + book composite; then the warm
and cold timers (``kernel_tiers``). ``state`` is one coin's ``ESTIMATOR_STATE`` record,
``cfg`` the ``KERNEL_CONFIG`` record (``kernel_config``).
"""

import math

from numba import njit

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.estimators.header import FILL_QUEUE_LEN

from . import (
    adverse_selection,
    book_micro,
    drift_kalman,
    fill_size,
    flow,
    funding,
    hawkes,
    kappa,
    queue_position,
    regime,
    toxicity,
    vol,
    volclock,
)
from .kernel_readers import flow_intensity, mid_px, top_imbalance
from .kernel_tiers import cold_tier, warm_tier


@njit(cache=True)
def on_fill(state, fill):
    """Queue one of our fills (a ``FILL_EVENT`` record); folded at the next event."""
    h = state.header
    n = h.n_fills_queued
    if n >= FILL_QUEUE_LEN:
        return  # a burst beyond the queue: the fill misses the markout sample
    q = h.fills_queued[n]
    q.ts_ns = fill.ts_ns
    q.side = fill.side
    q.px = fill.px
    q.sz = fill.sz
    q.mid_px = fill.mid_px
    q.position_sz = fill.position_sz
    h.n_fills_queued = n + 1


@njit(cache=True)
def _fold_fills(state, cfg, t_ns):
    h = state.header
    mid = mid_px(state)
    for k in range(h.n_fills_queued):
        q = h.fills_queued[k]
        ts, side, px, mid0 = float(q.ts_ns), float(q.side), q.px, q.mid_px
        if mid0 <= 0.0:
            mid0 = mid
        h.position_sz = q.position_sz
        fill_size.on_fill(state.fill_size, side, q.sz)
        h.n_fills += 1
        adverse_selection.on_fill(state.adverse_selection, cfg.adverse_selection, ts, side, px, mid0)
        fair = state.spread.fair_bps
        spr = (h.ask_px - h.bid_px) / mid * 1e4 if mid > 0.0 else 0.0
        dr = state.drift
        dstd = drift_kalman.drift_std_bps_per_s(dr)
        toxicity.on_fill(state.toxicity, cfg.toxicity, ts, side, px, mid0,
                         top_imbalance(state), flow.imbalance(state.flow, 1),
                         flow_intensity(state, cfg, t_ns), regime.regime(state.regime),
                         state.cascade.severity,
                         funding.zscore(state.funding, cfg.funding),
                         spr / fair if fair > 0.0 else 1.0,
                         drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0)
        if mid0 > 0.0:
            drift_kalman.obs_fill(dr, cfg.drift, ts, side, px, mid0, vol.sigma_clean(state.vol))
    h.n_fills_queued = 0


@njit(cache=True)
def on_event(state, cfg, ev):
    """Fold one md event (a record of ``MD_EVENT``) into one coin's state."""
    h = state.header
    t_ns = ev.exch_ts_ns
    if t_ns < h.last_event_ts_ns:
        t_ns = h.last_event_ts_ns  # never let time run backwards
    h.last_event_ts_ns = t_ns
    h.n_events += 1
    h.src_pub_mono_ns = ev.pub_mono_ns
    h.exch_ts_ns = ev.exch_ts_ns
    t = float(t_ns)  # estimator kernels take event time as f8 (their records keep int64)
    if h.n_fills_queued > 0:
        _fold_fills(state, cfg, t)
    kind = ev.kind
    if kind == EV_BOOK or kind == EV_BBO:
        _on_book(state, cfg, ev, t, kind == EV_BOOK)
    elif kind == EV_TRADE:
        _on_trade(state, cfg, ev, t)
    elif kind == EV_ASSET_CTX:
        h.last_ctx_ts_ns = t_ns
        funding.on_ctx(state.funding, cfg.funding, t, ev.aux0, ev.px, ev.aux1, ev.sz)
    if t_ns - h.warm_ts_ns >= cfg.tiers.warm_ns:
        h.warm_ts_ns = t_ns
        h.n_warm += 1
        warm_tier(state, cfg, t)
    if t_ns - h.cold_ts_ns >= cfg.tiers.cold_ns:
        h.cold_ts_ns = t_ns
        h.n_cold += 1
        cold_tier(state, cfg, t)


@njit(cache=True)
def _on_book(state, cfg, ev, t_ns, full):
    if ev.n_bids < 1 or ev.n_asks < 1:
        return
    bid = ev.bid_px[0]
    ask = ev.ask_px[0]
    if not (bid > 0.0 and ask > bid and math.isfinite(ask)):
        return  # crossed or empty: keep the last good book
    h = state.header
    h.bid_px = bid
    h.ask_px = ask
    h.bid_sz = ev.bid_sz[0]
    h.ask_sz = ev.ask_sz[0]
    h.last_book_ts_ns = h.last_event_ts_ns
    for i in range(1, ev.n_bids):
        step = ev.bid_px[i - 1] - ev.bid_px[i]
        if 0.0 < step < h.tick_px:
            h.tick_px = step
    step = ask - bid
    if 0.0 < step < h.tick_px:
        h.tick_px = step
    mid = 0.5 * (bid + ask)
    st_v = state.vol
    if vol.sample(st_v, cfg.vol, t_ns, mid):
        regime.update(state.regime, cfg.regime, t_ns, st_v.bv_fast_bps2_per_s, st_v.bv_bps2_per_s)
    adverse_selection.on_mid(state.adverse_selection, cfg.adverse_selection, t_ns, mid)
    toxicity.on_mid(state.toxicity, cfg.toxicity, t_ns, mid)
    st_b = state.book
    c_b = cfg.book
    if full:
        book_micro.on_book(st_b, c_b, t_ns, ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz,
                           ev.n_bids, ev.n_asks)
        queue_position.on_book(state.queue, cfg.queue, t_ns, ev.bid_px, ev.bid_sz,
                               ev.bid_n, ev.ask_px, ev.ask_sz, ev.ask_n, ev.n_bids, ev.n_asks)
        kappa.on_book(state.kappa, cfg.kappa, mid, ev.bid_px, ev.bid_sz,
                      ev.ask_px, ev.ask_sz, ev.n_bids, ev.n_asks)
    # Kalman hot tier: predict, one precision-weighted book composite, flow.
    zb = h.book_z
    rb = h.book_r
    pos = h.position_sz
    n = book_micro.drift_observations(st_b, c_b, t_ns, 1.0 if pos > 0 else (-1.0 if pos < 0 else 0.0),
                                      zb, rb)
    drift_kalman.hot_tier(state.drift, cfg.drift, t_ns, zb, rb, n,
                          flow.imbalance(state.flow, 1), state.kappa.kappa_per_bps)


@njit(cache=True)
def _on_trade(state, cfg, ev, t_ns):
    sz = ev.sz
    px = ev.px
    if not (sz > 0.0 and math.isfinite(sz) and px > 0.0):
        return
    side = ev.side
    state.header.last_trade_ts_ns = state.header.last_event_ts_ns
    st_fl = state.flow
    c_fl = cfg.flow
    flow.on_trade(st_fl, c_fl, t_ns, side, sz)
    hawkes.on_event(state.hawkes, cfg.hawkes, t_ns, side)
    volclock.on_trade(state.volclock, cfg.volclock, t_ns, sz)
    book_micro.on_trade(state.book, cfg.book, t_ns, px, sz, side)
    queue_position.on_trade(state.queue, cfg.queue, t_ns, px, sz, side)
    mid = mid_px(state)
    if mid > 0.0:
        kappa.on_trade(state.kappa, cfg.kappa, t_ns, side, px, mid,
                       flow.trade_rate(st_fl, c_fl, t_ns, 4))
