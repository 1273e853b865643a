"""Small readers of the kernel's header words shared by the hot and warm tiers."""
# ruff: noqa: F405  (the layout's offsets come by star import: compile-time constants)

from numba import njit

from . import flow
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)


@njit(cache=True)
def mid_px(state):
    return 0.5 * (state[H_BID] + state[H_ASK]) if state[H_BID] > 0.0 else 0.0


@njit(cache=True)
def top_imbalance(state):
    b, a = state[H_BID_SZ], state[H_ASK_SZ]
    return (b - a) / (b + a) if b + a > 0.0 else 0.0


@njit(cache=True)
def flow_intensity(state, cfg, t_ns):
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    c_fl = cfg[CS_FLOW:CE_FLOW]  # noqa: F405
    long = flow.trade_rate(st_fl, c_fl, t_ns, 3)
    return flow.trade_rate(st_fl, c_fl, t_ns, 1) / long if long > 0.0 else 0.0
