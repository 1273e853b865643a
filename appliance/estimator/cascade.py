"""Liquidation cascade detector (seed 000 gap 3): severity, should_pull_quotes and a
tail-risk multiplier, from what a public feed shows of a cascade.

Every warm tick, three excesses, each 0 in normal trading:
    e_rate = max(0, ln(rate_1s / rate_300s / rate_ratio_ref))   volume burst
    e_move = max(0, |move over window| / (sigma sqrt(window)) - move_sigmas_ref)
    e_oi   = max(0, (OI drop over window, bps of OI) / oi_drop_ref_bps - 1)
(liquidations close positions: open interest falls while price runs)
    score = w_rate e_rate + w_move e_move + w_oi e_oi,  severity = 1 - exp(-score)
should_pull_quotes turns on at severity >= pull_enter and off once severity < pull_exit
and ``pull_hold_s`` have passed since it last was >= pull_enter (hysteresis).
tail_risk_multiplier = 1 + (tail_max_mult - 1) severity.
"""

import math

from numba import njit

S_PULL = 0
S_SEVERITY = 1
S_LAST_HOT_NS = 2  # last time severity was >= pull_enter
S_RING_POS = 3
S_N_PULLS = 4
S_MAX_SEVERITY = 5
S_RING = 8  # (t_ns, mid, oi) of recent warm ticks
RING = 32
N_STATE_CASCADE = S_RING + 3 * RING

C_ENABLED = 0
C_WINDOW_NS = 1
C_RATE_REF = 2
C_MOVE_REF = 3
C_OI_REF = 4
C_W_RATE = 5
C_W_MOVE = 6
C_W_OI = 7
C_ENTER = 8
C_EXIT = 9
C_HOLD_NS = 10
C_TAIL_MAX = 11
N_CONFIG_CASCADE = 12


def config_values(est) -> list[float]:
    c = est.cascade
    return [1.0 if c.enabled else 0.0, c.window_ms * 1e6, c.rate_ratio_ref, c.move_sigmas_ref,
            c.oi_drop_ref_bps, c.w_rate, c.w_move, c.w_oi, c.pull_enter, c.pull_exit,
            c.pull_hold_s * 1e9, c.tail_max_mult]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_CASCADE] = 0.0


@njit(cache=True)
def severity_of(cfg, rate_ratio, move_sigmas, oi_drop_bps):
    e_rate = max(0.0, math.log(max(rate_ratio, 1e-9) / cfg[C_RATE_REF]))
    e_move = max(0.0, move_sigmas - cfg[C_MOVE_REF])
    e_oi = max(0.0, oi_drop_bps / cfg[C_OI_REF] - 1.0)
    score = cfg[C_W_RATE] * e_rate + cfg[C_W_MOVE] * e_move + cfg[C_W_OI] * e_oi
    return 1.0 - math.exp(-score)


@njit(cache=True)
def warm(st, cfg, t_ns, mid, oi, rate_1s, rate_300s, sigma_bps_per_sqrt_s):
    if cfg[C_ENABLED] == 0.0:
        return
    # The oldest ring entry at least a window old is the reference point.
    ref_mid = 0.0
    ref_oi = 0.0
    ref_t = 0.0
    for k in range(RING):
        j = S_RING + 3 * k
        tk = st[j]
        if tk > 0.0 and t_ns - tk >= cfg[C_WINDOW_NS] and tk > ref_t:
            ref_t, ref_mid, ref_oi = tk, st[j + 1], st[j + 2]
    pos = int(st[S_RING_POS])
    j = S_RING + 3 * pos
    st[j], st[j + 1], st[j + 2] = t_ns, mid, oi
    st[S_RING_POS] = (pos + 1) % RING
    ratio = rate_1s / rate_300s if rate_300s > 0.0 else 0.0
    move = 0.0
    oi_drop = 0.0
    if ref_t > 0.0 and ref_mid > 0.0:
        w_s = (t_ns - ref_t) * 1e-9
        move_bps = abs(math.log(mid / ref_mid)) * 1e4
        move = move_bps / max(sigma_bps_per_sqrt_s * math.sqrt(w_s), 1e-6)
        if ref_oi > 0.0 and oi > 0.0:
            oi_drop = (ref_oi - oi) / ref_oi * 1e4
    sev = severity_of(cfg, ratio, move, oi_drop)
    update(st, cfg, t_ns, sev)


@njit(cache=True)
def update(st, cfg, t_ns, sev):
    """Apply a severity in [0, 1]: hysteresis of should_pull_quotes."""
    st[S_SEVERITY] = sev
    st[S_MAX_SEVERITY] = max(st[S_MAX_SEVERITY], sev)
    if sev >= cfg[C_ENTER]:
        st[S_LAST_HOT_NS] = t_ns
        if st[S_PULL] == 0.0:
            st[S_PULL] = 1.0
            st[S_N_PULLS] += 1.0
    elif st[S_PULL] != 0.0 and sev < cfg[C_EXIT] and t_ns - st[S_LAST_HOT_NS] >= cfg[C_HOLD_NS]:
        st[S_PULL] = 0.0


@njit(cache=True)
def tail_multiplier(st, cfg):
    return 1.0 + (cfg[C_TAIL_MAX] - 1.0) * st[S_SEVERITY]
