"""The estimator kernel's hot tier: one md event (and the fills queued before it).

The kernel's own work on every event: event clocks, the book top and tick in the
header, the checks that a book or trade is usable, the queue of our fills; then the
estimators' hooks for that event (``kernel_tiers``: ``hook_fill`` for each queued fill,
then ``hook_book``, ``hook_trade`` or ``hook_ctx``), then the warm and cold timers.
``state`` is one coin's ``ESTIMATOR_STATE`` record, ``cfg`` the ``KERNEL_CONFIG`` record
(``kernel_config``).
"""

import math

from numba import njit

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.estimators.header import FILL_QUEUE_LEN

from .kernel_tiers import cold_tier, hook_books, hook_ctxs, hook_fills, hook_trades, warm_tier


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
def _fold_fills(state, cfg, t):
    h = state.header
    for k in range(h.n_fills_queued):
        q = h.fills_queued[k]
        h.position_sz = q.position_sz
        h.n_fills += 1
        hook_fills(state, cfg, q, t)
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
        hook_ctxs(state, cfg, ev, t)
    if t_ns - h.warm_ts_ns >= cfg.tiers.warm_ns:
        h.warm_ts_ns = t_ns
        h.n_warm += 1
        warm_tier(state, cfg, t)
    if t_ns - h.cold_ts_ns >= cfg.tiers.cold_ns:
        h.cold_ts_ns = t_ns
        h.n_cold += 1
        cold_tier(state, cfg, t)


@njit(cache=True)
def _on_book(state, cfg, ev, t, full):
    if ev.n_bids < 1 or ev.n_asks < 1:
        return
    bid = ev.lv.bid_px[0]
    ask = ev.lv.ask_px[0]
    if not (bid > 0.0 and ask > bid and math.isfinite(ask)):
        return  # crossed or empty: keep the last good book
    h = state.header
    h.bid_px = bid
    h.ask_px = ask
    h.bid_sz = ev.lv.bid_sz[0]
    h.ask_sz = ev.lv.ask_sz[0]
    h.last_book_ts_ns = h.last_event_ts_ns
    for i in range(1, ev.n_bids):
        step = ev.lv.bid_px[i - 1] - ev.lv.bid_px[i]
        if 0.0 < step < h.tick_px:
            h.tick_px = step
    step = ask - bid
    if 0.0 < step < h.tick_px:
        h.tick_px = step
    hook_books(state, cfg, ev, t, full)


@njit(cache=True)
def _on_trade(state, cfg, ev, t):
    sz = ev.sz
    px = ev.px
    if not (sz > 0.0 and math.isfinite(sz) and px > 0.0):
        return
    state.header.last_trade_ts_ns = state.header.last_event_ts_ns
    hook_trades(state, cfg, ev, t)
