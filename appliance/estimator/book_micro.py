"""Book microstructure (seed 003 phase 7): imbalance at three depths, its rate of
change, the pressure gradient, depth thinning, and a sweep detector.

Wiring (for the estimator kernel):
  state: the record ``shm_layout/estimators/book_micro.py`` declares; ``init(st)`` once.
  per EV_BOOK event: ``on_book(st, cfg, t_ns, bid_px, bid_sz, ask_px, ask_sz, n_bids, n_asks)``
    with the MD_EVENT's 20-level arrays (ev.lv.bid_px ... as they are, no copy).
  per EV_TRADE event: ``on_trade(st, cfg, t_ns, px, sz, side)`` (side = aggressor).
  outputs (getters on the state): ``bim(st, k)`` k = 0, 1, 2 for depth1..3 (default
    10/25/50 bps), in [-1, 1], + = more bid size; ``dbim_per_s(st, k)``;
    ``pressure_gradient(st)`` = BIM(10) - BIM(50); ``thinning_per_s(st)`` = bid minus ask
    depth log-change rate (negative = bids thinning); ``sweep_score(st, cfg, t_ns, side)``
    (side +1 = buyers sweeping asks) and ``sweep_detected``; for the Kalman drift filter
    ``drift_observations(st, cfg, t_ns, position_sign, z_out, r_out) -> n`` (4 pairs).

Formulas (mid m, level i at px_i, size s_i):
  BIM(d)   = (sum_{bid px >= m(1-d/1e4)} s - sum_{ask px <= m(1+d/1e4)} s) / (their sum)
             (depth1 < depth2 < depth3; one pass a side; depth2 also gives the thinning)
  dBIM/dt  = EWMA over event time (half-life delta_halflife_s) of the change of BIM per
             second; each change enters with weight ln2/half-life (stable for tiny dt)
  BPG      = BIM(depth1) - BIM(depth3); > 0 = support near the touch only (fragile)
  sweep    = a burst of same-side aggressor trades, each within sweep_window of the
             burst start, walking through >= sweep_min_levels distinct prices; its
             score = levels walked, decaying with half-life sweep_window.
"""

import math

from numba import njit

from shm_layout.estimators import EstimatorConfig

from .emath import status

LN2 = math.log(2.0)


# --- config vector --------------------------------------------------------------
C_ENABLED = 0
C_D1 = 1
C_D2 = 2
C_D3 = 3
C_DELTA_HL_S = 4
C_SWEEP_NS = 5
C_SWEEP_MIN_LEVELS = 6
C_A_BIM = 7
C_A_DBIM = 8
C_A_BPG = 9
C_A_SWEEP = 10
C_SIG_BIM = 11
C_SIG_DBIM = 12
C_R_BPG = 13
C_SIG_SWEEP = 14
N_CONFIG_BOOK = 15


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.book
    return [
        1.0 if c.enabled else 0.0,
        c.depth1_bps,
        c.depth2_bps,
        c.depth3_bps,
        c.delta_halflife_s,
        c.sweep_window_ms * 1e6,
        float(c.sweep_min_levels),
        c.alpha_bim,
        c.alpha_dbim,
        c.alpha_bpg,
        c.alpha_sweep,
        c.sigma_bim,
        c.sigma_dbim,
        c.r_bpg,
        c.sigma_sweep,
    ]


@njit(cache=True)
def init(st, cfg):
    # cfg: every estimator's init takes (state, config); the book starts from none.
    st.last_ts_ns = st.n_books = 0
    st.mid_px = st.bid_depth_sz = st.ask_depth_sz = st.bid_rate_per_s = st.ask_rate_per_s = 0.0
    st.bim[:] = 0.0
    st.dbim_per_s[:] = 0.0
    for k in range(2):
        b = st.bursts[k]
        b.start_ts_ns = b.levels = b.score_ts_ns = b.n_sweeps = 0
        b.extreme_px = b.volume_sz = b.score = 0.0


@njit(cache=True)
def _side_size_within(px, sz, n, limit_px, is_bid):
    total = 0.0
    for i in range(n):
        p = px[i]
        if (is_bid and p < limit_px) or (not is_bid and p > limit_px):
            break  # levels are sorted away from the touch
        total += sz[i]
    return total


@njit(cache=True)
def imbalance_within(bid_px, bid_sz, ask_px, ask_sz, n_bids, n_asks, mid, depth_bps):
    """BIM within depth_bps of mid (a pure function; 0 when both sides are empty)."""
    b = _side_size_within(bid_px, bid_sz, n_bids, mid * (1.0 - depth_bps * 1e-4), True)
    a = _side_size_within(ask_px, ask_sz, n_asks, mid * (1.0 + depth_bps * 1e-4), False)
    s = b + a
    return (b - a) / s if s > 0.0 else 0.0


@njit(cache=True)
def _sizes_within3(px, sz, n, mid, d1_bps, d2_bps, d3_bps, is_bid):
    """Cumulative size within three ascending depths, in one pass over the side."""
    sgn = -1.0 if is_bid else 1.0
    l1 = mid * (1.0 + sgn * d1_bps * 1e-4)
    l2 = mid * (1.0 + sgn * d2_bps * 1e-4)
    l3 = mid * (1.0 + sgn * d3_bps * 1e-4)
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for i in range(n):
        p = px[i]
        if (is_bid and p < l3) or (not is_bid and p > l3):
            break
        s3 += sz[i]
        if (is_bid and p >= l2) or (not is_bid and p <= l2):
            s2 += sz[i]
            if (is_bid and p >= l1) or (not is_bid and p <= l1):
                s1 += sz[i]
    return s1, s2, s3


@njit(cache=True, inline="always")
def _imb(b, a):
    s = b + a
    return (b - a) / s if s > 0.0 else 0.0


@njit(cache=True)
def on_book(st, cfg, t_ns, bid_px, bid_sz, ask_px, ask_sz, n_bids, n_asks):
    if n_bids < 1 or n_asks < 1 or not (0.0 < bid_px[0] < ask_px[0]):
        return
    mid = 0.5 * (bid_px[0] + ask_px[0])
    seen = st.n_books > 0
    dt_s = (t_ns - st.last_ts_ns) * 1e-9 if seen else 0.0
    decay = math.exp(-LN2 * dt_s / cfg[C_DELTA_HL_S]) if dt_s > 0.0 else 1.0
    gain = LN2 / cfg[C_DELTA_HL_S]  # weight of one change in the smoothed rate
    b1, b2, b3 = _sizes_within3(bid_px, bid_sz, n_bids, mid, cfg[C_D1], cfg[C_D2], cfg[C_D3], True)
    a1, a2, a3 = _sizes_within3(ask_px, ask_sz, n_asks, mid, cfg[C_D1], cfg[C_D2], cfg[C_D3], False)
    x0, x1, x2 = _imb(b1, a1), _imb(b2, a2), _imb(b3, a3)
    if seen:
        st.dbim_per_s[0] = st.dbim_per_s[0] * decay + gain * (x0 - st.bim[0])
        st.dbim_per_s[1] = st.dbim_per_s[1] * decay + gain * (x1 - st.bim[1])
        st.dbim_per_s[2] = st.dbim_per_s[2] * decay + gain * (x2 - st.bim[2])
    st.bim[0], st.bim[1], st.bim[2] = x0, x1, x2
    if seen and b2 > 0.0 and a2 > 0.0 and st.bid_depth_sz > 0.0 and st.ask_depth_sz > 0.0:
        st.bid_rate_per_s = st.bid_rate_per_s * decay + gain * math.log(b2 / st.bid_depth_sz)
        st.ask_rate_per_s = st.ask_rate_per_s * decay + gain * math.log(a2 / st.ask_depth_sz)
    st.bid_depth_sz = b2
    st.ask_depth_sz = a2
    st.mid_px = mid
    st.last_ts_ns = t_ns
    st.n_books += 1


@njit(cache=True)
def on_trade(st, cfg, t_ns, px, sz, side):
    """Track aggressor bursts; a burst through >= min levels within the window is a sweep."""
    b = st.bursts[0 if side > 0 else 1]
    more_aggressive = (px > b.extreme_px) if side > 0 else (px < b.extreme_px)
    if b.start_ts_ns == 0 or t_ns - b.start_ts_ns > cfg[C_SWEEP_NS]:
        b.start_ts_ns = t_ns
        b.extreme_px = px
        b.levels = 1
        b.volume_sz = sz
        return
    b.volume_sz += sz
    if more_aggressive:
        b.extreme_px = px
        b.levels += 1
        if b.levels >= cfg[C_SWEEP_MIN_LEVELS]:
            if b.levels == cfg[C_SWEEP_MIN_LEVELS]:
                b.n_sweeps += 1
            cur = _decayed_score(b, cfg, t_ns)
            b.score = max(cur, float(b.levels))
            b.score_ts_ns = t_ns


@njit(cache=True)
def _decayed_score(b, cfg, t_ns):
    if b.score == 0.0:
        return 0.0
    dt_ns = max(t_ns - b.score_ts_ns, 0.0)
    return b.score * math.exp(-LN2 * dt_ns / cfg[C_SWEEP_NS])


# --- outputs ---------------------------------------------------------------------


@njit(cache=True)
def bim(st, k):
    return st.bim[k]


@njit(cache=True)
def dbim_per_s(st, k):
    return st.dbim_per_s[k]


@njit(cache=True)
def pressure_gradient(st):
    return st.bim[0] - st.bim[2]


@njit(cache=True)
def thinning_per_s(st):
    return st.bid_rate_per_s - st.ask_rate_per_s


@njit(cache=True)
def sweep_score(st, cfg, t_ns, side):
    """Decayed sweep score of aggressor side (+1 buyers lifting asks, -1 sellers hitting bids)."""
    return _decayed_score(st.bursts[0 if side > 0 else 1], cfg, t_ns)


@njit(cache=True)
def sweep_detected(st, cfg, t_ns, side):
    return 1.0 if sweep_score(st, cfg, t_ns, side) >= 0.5 * cfg[C_SWEEP_MIN_LEVELS] else 0.0


@njit(cache=True)
def drift_observations(st, cfg, t_ns, position_sign, z_out, r_out):
    """The four hot-tier (z, R) pairs for ``drift_kalman.composite_update``; R = inf skips.
    BIM: z = a*BIM(d1), R = s^2; dBIM: z = a*dBIM(d1)/dt, R = s^2;
    BPG: z = -a*BPG*sign(position), R = r_bpg (only with a position);
    sweep: z = a*(buy sweep - sell sweep), R = s^2 (only while a sweep score is alive)."""
    z_out[0] = cfg[C_A_BIM] * st.bim[0]
    r_out[0] = cfg[C_SIG_BIM] ** 2 if cfg[C_A_BIM] != 0.0 else math.inf
    z_out[1] = cfg[C_A_DBIM] * st.dbim_per_s[0]
    r_out[1] = cfg[C_SIG_DBIM] ** 2 if cfg[C_A_DBIM] != 0.0 else math.inf
    z_out[2] = -cfg[C_A_BPG] * pressure_gradient(st) * position_sign
    r_out[2] = cfg[C_R_BPG] if (cfg[C_A_BPG] != 0.0 and position_sign != 0.0) else math.inf
    up = sweep_score(st, cfg, t_ns, 1)
    down = sweep_score(st, cfg, t_ns, -1)
    z_out[3] = cfg[C_A_SWEEP] * (up - down)
    r_out[3] = cfg[C_SIG_SWEEP] ** 2 if (cfg[C_A_SWEEP] != 0.0 and up + down > 0.1) else math.inf
    return 4


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Depth imbalances, pressure gradient and thinning from each full book."""
    if full:
        lv = ev.lv
        on_book(state.book, cfg.book, t, lv.bid_px, lv.bid_sz, lv.ask_px, lv.ask_sz, ev.n_bids, ev.n_asks)


@njit(cache=True, inline="always")
def hook_trade(state, cfg, ev, t):
    on_trade(state.book, cfg.book, t, ev.px, ev.sz, ev.side)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Book microstructure's MarketParams fields."""
    out.book_status = status(cfg[C_ENABLED] != 0.0, h.last_book_ts_ns > 0, float(h.last_book_ts_ns), t, stale)
    out.bim_10bps = bim(st, 0)
    out.bim_25bps = bim(st, 1)
    out.bim_50bps = bim(st, 2)
    out.bim_delta_per_s = dbim_per_s(st, 0)
    out.book_pressure_gradient = pressure_gradient(st)
    out.book_thinning_per_s = thinning_per_s(st)
    out.sweep_score_buy = sweep_score(st, cfg, t, 1)
    out.sweep_score_sell = sweep_score(st, cfg, t, -1)
