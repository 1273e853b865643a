"""Cross-coin estimators of the kernel: correlation, basis and lead-lag (several coins)."""

from numba import njit

from shm_layout.constants import EV_BBO, EV_BOOK

from . import correlation
from .kernel_readers import mid_px


@njit(cache=True)
def cross_event(states, cfg, ev):
    """Cross-coin estimators for one md event (call after ``on_event``): correlation in
    coin 0's state, basis and lead-lag of each coin against its reference coin. Writes
    each coin's outputs into its own ``header.cross`` (read by ``write_params``)."""
    if not (ev.kind == EV_BOOK or ev.kind == EV_BBO):
        return
    c = int(ev.coin)
    tiers = cfg.tiers
    n_coins = tiers.n_coins
    if c >= n_coins:
        return
    state = states[c]
    t_ns = state.header.last_event_ts_ns
    t = float(t_ns)
    mid = mid_px(state)
    if mid <= 0.0:
        return
    c_c = cfg.correlation
    st_c = states[0].correlation.matrix
    correlation.corr_on_mid(st_c, c_c, t, c, mid)
    for i in range(n_coins):
        ref = tiers.ref_coin[i]
        if ref == c and ref != i:
            correlation.xv_on_mid(states[i].correlation.xv, c_c, t, 1, mid)
    ref = tiers.ref_coin[c]
    if ref >= 0 and ref != c:
        correlation.xv_on_mid(state.correlation.xv, c_c, t, 0, mid)
    x = state.header.cross
    if t_ns - x.ts_ns < tiers.cold_ns:
        return
    x.ts_ns = t_ns
    r = tiers.corr_ref_coin
    x.ref_coin = r
    for s in range(3):
        x.corr[s] = correlation.corr(st_c, s, c, r)
        x.beta[s] = correlation.beta(st_c, s, c, r)
    x.valid = 1 if correlation.corr_valid(st_c, c_c, 0) and r != c else 0
    if ref >= 0 and ref != c:
        xv = state.correlation.xv
        x.basis_bps = correlation.basis_bps(xv)
        x.basis_z = correlation.basis_z(xv)
        x.d_basis_bps = correlation.d_basis_bps(xv)
        x.lag_s = correlation.best_lag(xv) * tiers.leadlag_sample_s
        x.lag_corr = correlation.best_lag_corr(xv)
        x.lead_bps_per_s = correlation.lead_bps_per_s(xv, c_c)
        x.lead_confidence = correlation.lead_confidence(xv, c_c)
        x.xv_valid = 1
