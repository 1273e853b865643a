"""Cross-coin estimators of the kernel: correlation, basis and lead-lag (several coins)."""
# ruff: noqa: F405  (the layout's offsets come by star import: compile-time constants)

from numba import njit

from shm_layout.constants import EV_BBO, EV_BOOK

from . import correlation
from .kernel_base import mid_px
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)


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
    mid = mid_px(states[c])
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
