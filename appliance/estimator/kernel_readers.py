"""Readers of one coin's state shared by several estimators' hooks (mid, spread,
top-of-book imbalance, trade intensity, the mid of one of our fills)."""

from numba import njit

from . import flow


@njit(cache=True)
def mid_px(state):
    h = state.header
    return 0.5 * (h.bid_px + h.ask_px) if h.bid_px > 0.0 else 0.0


@njit(cache=True)
def spread_bps(state):
    """The quoted spread in bps of the mid (0 without a book)."""
    h = state.header
    mid = mid_px(state)
    return (h.ask_px - h.bid_px) / mid * 1e4 if mid > 0.0 else 0.0


@njit(cache=True)
def top_imbalance(state):
    b, a = state.header.bid_sz, state.header.ask_sz
    return (b - a) / (b + a) if b + a > 0.0 else 0.0


@njit(cache=True)
def flow_intensity(state, cfg, t_ns):
    """Trade rate over the last 5 s relative to the 300 s one."""
    long = flow.trade_rate(state.flow, cfg.flow, t_ns, 3)
    return flow.trade_rate(state.flow, cfg.flow, t_ns, 1) / long if long > 0.0 else 0.0


@njit(cache=True)
def fill_mid(state, q):
    """The mid at one of our fills (a ``QUEUED_FILL``): its own, or the current one when
    it came without (0)."""
    return mid_px(state) if q.mid_px <= 0.0 else q.mid_px
