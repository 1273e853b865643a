"""The backtest loop's stage profile (``mmctl bench backtest``): CPU cycles per stage
(``BT_STATE.prof_cycles``, stages ``PROF_*``) and event kind, read from the cycle
counter only when ``BT_STATE.profile`` is set; otherwise one predictable branch."""

from numba import njit

from appliance.ipc.atomics import cycle_counter
from shm_layout.backtest_records import N_PROF_KINDS
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE


@njit(cache=True)
def prof_kind(kind):
    if kind == EV_BOOK:
        return 0
    if kind == EV_BBO:
        return 1
    if kind == EV_TRADE:
        return 2
    return 3


@njit(cache=True, inline="always")
def lap(st, stage, kind, c0):
    """The stage profile: add the cycles since ``c0`` to ``stage`` x ``kind``; returns
    the counter now (0 when profiling is off: one predictable branch per stage)."""
    if st.profile == 0:
        return 0
    c = cycle_counter()
    if c0 != 0:
        st.prof_cycles[stage * N_PROF_KINDS + kind] += c - c0
    return c
