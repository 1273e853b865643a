"""Readers of one coin's state shared by the hot and warm tiers (mid, top-of-book
imbalance, trade intensity)."""

from numba import njit

from . import flow


@njit(cache=True)
def mid_px(state):
    h = state.header
    return 0.5 * (h.bid_px + h.ask_px) if h.bid_px > 0.0 else 0.0


@njit(cache=True)
def top_imbalance(state):
    b, a = state.header.bid_sz, state.header.ask_sz
    return (b - a) / (b + a) if b + a > 0.0 else 0.0


@njit(cache=True)
def flow_intensity(state, cfg, t_ns):
    """Trade rate over the last 5 s relative to the 300 s one."""
    long = flow.trade_rate(state.flow, cfg.flow, t_ns, 3)
    return flow.trade_rate(state.flow, cfg.flow, t_ns, 1) / long if long > 0.0 else 0.0
