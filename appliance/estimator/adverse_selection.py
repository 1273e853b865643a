"""Adverse selection of our fills (seed 000 gap 1, seed 002 part 3): markouts at six
horizons, realized AS per horizon, the depth-decay model AS(delta) = AS0 exp(-delta /
delta_char) fitted online, the spread adjustment and the predicted alpha.

Wiring (for the estimator kernel):
  state: the record ``shm_layout/estimators/adverse_selection.py`` declares; ``init(st, cfg)``.
  per own fill (FILL_EVENT): ``on_fill(st, cfg, fill.ts_ns, fill.side, fill.px, fill.mid_px)``.
  per book/BBO event of that coin: ``on_mid(st, cfg, t_ns, mid_px)`` (resolves markouts).
  outputs: ``as_bps(st, h)`` and ``markout_bps(st, h)`` for horizon h = 0..5;
    ``spread_adjustment_bps(st, cfg)``; ``predicted_alpha(st)`` (share of informed fills);
    ``as0_bps(st)``, ``delta_char_bps(st)``, ``as_at_depth_bps(st, depth_bps)``;
    ``n_marked(st)``; for the drift filter's adaptation ``last_realized_drift_bps_per_s(st)``
    with ``n_realized(st)`` (call ``drift_kalman.adapt`` when it grows);
    ranking terms (issue 14): ``momentum_bps(st)``, ``log_mult(st, cfg, side)`` (published
    per side as ``as_log_mult_bid/ask``) and ``depth_term(cfg, depth_bps)`` (the quote
    applies it per level from ``as_depth_coef_per_bps`` / ``as_depth_cap_bps``).

Definitions (side = +1 we bought; mid0 = mid at the fill; mid_h = the mid prevailing at
fill time + horizon h, i.e. set by the last event at or before that time):
  depth_bps   = side (mid0 - px) / mid0 * 1e4          (> 0 for a passive fill)
  AS_h        = -side (mid_h - mid0) / mid0 * 1e4       (pure adverse move, bps)
  markout_h   =  side (mid_h - px) / px * 1e4           (edge incl. spread, = depth - AS)
  as_bps(h)   = EWMA of AS_h over fills (half-life halflife_fills; a running mean over the
                first fills), with its variance
  spread adj. = max(0, AS_ref + z * sqrt(var_ref / n_eff))   (a confidence bound)
  alpha       = EWMA of 1{AS_ref > informed_threshold_bps}
Depth fit: fills at the reference horizon go into depth buckets of width depth_bucket_bps
(decayed sums of weight, depth and AS, memory depth_forget_fills); a weighted least
squares line through (mean depth, ln mean AS) of buckets with enough fills and positive
AS gives ln AS0 (intercept) and -1/delta_char (slope).
"""

import math

from numba import njit

from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import adverse_selection as declared

from .emath import status
from .kernel_readers import fill_mid, mid_px

N_HORIZONS = declared.N_HORIZONS
N_PEND = declared.N_PENDING  # fills awaiting markouts; when full the oldest is dropped
N_BUCKETS = declared.N_BUCKETS

# --- config vector ----------------------------------------------------------------
C_ENABLED = 0
C_H_NS = 1  # 6 words, horizons in ns
C_REF = 7  # index of the reference horizon
C_EWMA_A = 8
C_INFORMED = 9
C_Z = 10
C_BUCKET_BPS = 11
C_FORGET = 12  # per-fill decay factor of the buckets
C_AS0_PRIOR = 13
C_DCHAR_PRIOR = 14
C_MIN_BUCKET = 15
C_HALFLIFE = 16
C_DEPTH_COEF = 17  # ranking terms (issue 14)
C_DEPTH_CAP = 18
C_MOM_COEF = 19
C_MOM_TAU_NS = 20
C_MOM_CLIP = 21
N_CONFIG_AS = 22


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.adverse_selection
    if len(c.horizons_ms) != N_HORIZONS or list(c.horizons_ms) != sorted(c.horizons_ms):
        raise ValueError(f"horizons_ms must be {N_HORIZONS} ascending values, got {c.horizons_ms}")
    if c.reference_horizon_ms not in c.horizons_ms:
        raise ValueError(f"reference_horizon_ms {c.reference_horizon_ms} is not one of {c.horizons_ms}")
    v = [0.0] * N_CONFIG_AS
    v[C_ENABLED] = 1.0 if c.enabled else 0.0
    for i, h in enumerate(c.horizons_ms):
        v[C_H_NS + i] = h * 1e6
    v[C_REF] = float(list(c.horizons_ms).index(c.reference_horizon_ms))
    v[C_EWMA_A] = 1.0 - math.exp(-math.log(2.0) / c.halflife_fills)
    v[C_INFORMED] = c.informed_threshold_bps
    v[C_Z] = c.spread_confidence_z
    v[C_BUCKET_BPS] = c.depth_bucket_bps
    v[C_FORGET] = 1.0 - 1.0 / c.depth_forget_fills
    v[C_AS0_PRIOR] = c.as0_prior_bps
    v[C_DCHAR_PRIOR] = c.delta_char_prior_bps
    v[C_MIN_BUCKET] = c.min_fills_per_bucket
    v[C_HALFLIFE] = c.halflife_fills
    if c.momentum_tau_ms <= 0.0 or c.momentum_clip_bps < 0.0 or c.depth_cap_bps < 0.0:
        raise ValueError("momentum_tau_ms must be > 0, momentum_clip_bps and depth_cap_bps >= 0")
    v[C_DEPTH_COEF] = c.depth_coef_per_bps
    v[C_DEPTH_CAP] = c.depth_cap_bps
    v[C_MOM_COEF] = c.momentum_coef
    v[C_MOM_TAU_NS] = c.momentum_tau_ms * 1e6
    v[C_MOM_CLIP] = c.momentum_clip_bps
    return v


@njit(cache=True)
def init(st, cfg):
    st.mid_px = st.alpha = st.last_drift_bps_per_s = 0.0
    st.last_ts_ns = st.n_fills = st.n_marked = st.fit_ok = st.n_drift = 0
    st.mom_ema_px = 0.0
    st.mom_ts_ns = 0
    st.as0_bps = cfg[C_AS0_PRIOR]
    st.delta_char_bps = cfg[C_DCHAR_PRIOR]
    for h in range(N_HORIZONS):
        m = st.horizons[h]
        m.as_mean_bps = m.as_var_bps2 = m.markout_mean_bps = 0.0
        m.n = 0
    for b in range(N_BUCKETS):
        bk = st.buckets[b]
        bk.w = bk.w_depth_bps = bk.w_as_bps = 0.0
    for k in range(N_PEND):
        p = st.pending[k]
        p.ts_ns = p.side = p.next_horizon = 0
        p.px = p.mid0_px = 0.0


@njit(cache=True)
def on_fill(st, cfg, t_ns, side, px, mid0):
    """Queue a fill for its markouts (mid0 = mid at the fill; the last mid if 0)."""
    if mid0 <= 0.0:
        mid0 = st.mid_px
    if mid0 <= 0.0 or px <= 0.0:
        return
    st.n_fills += 1
    slot = -1
    oldest = math.inf
    for k in range(N_PEND):
        ts = st.pending[k].ts_ns
        if ts == 0:
            slot = k
            break
        if ts < oldest:
            oldest = float(ts)
            slot = k
    p = st.pending[slot]
    p.ts_ns = t_ns
    p.px = px
    p.side = side
    p.mid0_px = mid0
    p.next_horizon = 0


@njit(cache=True)
def _record(st, cfg, h, side, px, mid0, mid_h):
    as_h = -side * (mid_h - mid0) / mid0 * 1e4
    mo = side * (mid_h - px) / px * 1e4
    m = st.horizons[h]
    a = max(1.0 / (m.n + 1.0), cfg[C_EWMA_A])  # running mean at first: no start bias
    if m.n == 0:
        m.as_mean_bps = as_h
        m.as_var_bps2 = 0.0
        m.markout_mean_bps = mo
    else:
        d = as_h - m.as_mean_bps
        m.as_mean_bps += a * d
        m.as_var_bps2 = (1.0 - a) * (m.as_var_bps2 + a * d * d)
        m.markout_mean_bps += a * (mo - m.markout_mean_bps)
    m.n += 1
    if h == int(cfg[C_REF]):
        st.n_marked += 1
        informed = 1.0 if as_h > cfg[C_INFORMED] else 0.0
        st.alpha = informed if st.n_marked == 1 else st.alpha + a * (informed - st.alpha)
        st.last_drift_bps_per_s = (mid_h - mid0) / mid0 * 1e4 / (cfg[C_H_NS + h] * 1e-9)
        st.n_drift += 1
        _add_to_buckets(st, cfg, side * (mid0 - px) / mid0 * 1e4, as_h)


@njit(cache=True)
def _resolve(st, cfg, t_ns, mid, strict):
    """Mark out every pending horizon that ended before t_ns (strict) or at it."""
    for k in range(N_PEND):
        p = st.pending[k]
        if p.ts_ns == 0:
            continue
        h = p.next_horizon
        while h < N_HORIZONS:
            end = p.ts_ns + cfg[C_H_NS + h]
            if end < t_ns or (not strict and end == t_ns):
                _record(st, cfg, h, float(p.side), p.px, p.mid0_px, mid)
                h += 1
            else:
                break
        p.next_horizon = h
        if h >= N_HORIZONS:
            p.ts_ns = 0


@njit(cache=True)
def on_mid(st, cfg, t_ns, mid):
    """A new mid at t_ns: horizons that ended before t_ns saw the previous mid."""
    if mid <= 0.0:
        return
    if st.mid_px > 0.0:
        _resolve(st, cfg, t_ns, st.mid_px, True)
    _momentum_update(st, cfg, t_ns, mid)
    st.mid_px = mid
    st.last_ts_ns = t_ns
    _resolve(st, cfg, t_ns, mid, False)


# --- ranking terms: momentum and depth growth (issue 14) --------------------------------


@njit(cache=True)
def _momentum_update(st, cfg, t_ns, mid):
    """EWMA of the mid over momentum_tau: decays toward the previous mid over the time
    since it was set (``calibrate/as_features.py`` is the same recursion in numpy)."""
    if st.mom_ema_px <= 0.0 or st.mid_px <= 0.0:
        st.mom_ema_px = mid
    else:
        dt = max(float(t_ns - st.mom_ts_ns), 0.0)
        st.mom_ema_px = st.mid_px + (st.mom_ema_px - st.mid_px) * math.exp(-dt / cfg[C_MOM_TAU_NS])
    st.mom_ts_ns = t_ns


@njit(cache=True)
def momentum_bps(st):
    """(mid - EWMA mid) / mid in bps: > 0 after the mid rose."""
    if st.mid_px <= 0.0 or st.mom_ema_px <= 0.0:
        return 0.0
    return (st.mid_px - st.mom_ema_px) / st.mid_px * 1e4


@njit(cache=True)
def log_mult(st, cfg, side):
    """Momentum term of a fill on our ``side`` (+1 bid: the aggressor sold, -1)."""
    c = cfg[C_MOM_CLIP]
    m = max(-c, min(c, -side * momentum_bps(st)))
    return cfg[C_MOM_COEF] * m


@njit(cache=True)
def depth_term(cfg, depth_bps):
    """exp(depth_coef min(d, cap)): the growth of AS with depth (sweeps)."""
    return math.exp(cfg[C_DEPTH_COEF] * min(max(depth_bps, 0.0), cfg[C_DEPTH_CAP]))


# --- depth-decay model ---------------------------------------------------------------


@njit(cache=True)
def _add_to_buckets(st, cfg, depth_bps, as_bps):
    f = cfg[C_FORGET]
    for b in range(N_BUCKETS):
        bk = st.buckets[b]
        bk.w *= f
        bk.w_depth_bps *= f
        bk.w_as_bps *= f
    as_bps = as_bps / depth_term(cfg, depth_bps)  # the decay fit sees AS net of the growth term
    b = int(max(depth_bps, 0.0) / cfg[C_BUCKET_BPS])
    bk = st.buckets[min(b, N_BUCKETS - 1)]
    bk.w += 1.0
    bk.w_depth_bps += depth_bps
    bk.w_as_bps += as_bps
    _fit(st, cfg)


@njit(cache=True)
def _fit(st, cfg):
    """Refit AS0 and delta_char from the buckets. With two or more buckets of positive
    mean AS: the log-linear depth fit. Otherwise, once any bucket holds enough fills,
    AS0 follows the pooled mean AS (floored at 0) at the prior decay, so the touch's
    AS is learned even when every fill comes at one depth (a one-tick market)."""
    sw = 0.0
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    sxy = 0.0
    npts = 0
    pool_w = 0.0
    pool_d = 0.0
    pool_as = 0.0
    for b in range(N_BUCKETS):
        bk = st.buckets[b]
        w = bk.w
        if w < cfg[C_MIN_BUCKET]:
            continue
        pool_w += w
        pool_d += bk.w_depth_bps
        pool_as += bk.w_as_bps
        m_as = bk.w_as_bps / w
        if m_as <= 0.0:
            continue
        x = bk.w_depth_bps / w
        y = math.log(m_as)
        sw += w
        sx += w * x
        sy += w * y
        sxx += w * x * x
        sxy += w * x * y
        npts += 1
    if npts < 2:
        st.fit_ok = 0
        if pool_w > 0.0:
            st.as0_bps = max(pool_as / pool_w, 0.0) * math.exp(pool_d / pool_w / st.delta_char_bps)
        return
    den = sw * sxx - sx * sx
    if den <= 0.0:
        return
    slope = (sw * sxy - sx * sy) / den
    if slope >= 0.0:
        st.fit_ok = 0  # AS not decaying with depth: keep the last fit
        return
    st.as0_bps = math.exp((sy - slope * sx) / sw)
    st.delta_char_bps = -1.0 / slope
    st.fit_ok = 1


# --- outputs --------------------------------------------------------------------------


@njit(cache=True)
def as_bps(st, h):
    return st.horizons[h].as_mean_bps


@njit(cache=True)
def markout_bps(st, h):
    return st.horizons[h].markout_mean_bps


@njit(cache=True)
def n_at_horizon(st, h):
    return st.horizons[h].n


@njit(cache=True)
def spread_adjustment_bps(st, cfg):
    """max(0, AS_ref + z * standard error); 0 before any markout."""
    m = st.horizons[int(cfg[C_REF])]
    n = float(m.n)
    if n == 0.0:
        return 0.0
    n_eff = min(n, 1.4427 * cfg[C_HALFLIFE])  # an EWMA remembers ~ half-life / ln2 samples
    return max(0.0, m.as_mean_bps + cfg[C_Z] * math.sqrt(m.as_var_bps2 / n_eff))


@njit(cache=True)
def predicted_alpha(st):
    return st.alpha


@njit(cache=True)
def as0_bps(st):
    return st.as0_bps


@njit(cache=True)
def delta_char_bps(st):
    return st.delta_char_bps


@njit(cache=True)
def fit_valid(st):
    return float(st.fit_ok)


@njit(cache=True)
def as_at_depth_bps(st, depth_bps):
    """The decay part only (the quote adds the growth and momentum terms it is published)."""
    return st.as0_bps * math.exp(-max(depth_bps, 0.0) / st.delta_char_bps)


@njit(cache=True)
def n_marked(st):
    return float(st.n_marked)


@njit(cache=True)
def last_realized_drift_bps_per_s(st):
    return st.last_drift_bps_per_s


@njit(cache=True)
def n_realized(st):
    return float(st.n_drift)


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Mark the pending markouts to the mid of every book."""
    on_mid(state.adverse_selection, cfg.adverse_selection, t, mid_px(state))


@njit(cache=True, inline="always")
def hook_fill(state, cfg, q, t):
    on_fill(state.adverse_selection, cfg.adverse_selection, float(q.ts_ns), float(q.side), q.px,
            fill_mid(state, q))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Adverse selection's MarketParams fields, per markout horizon."""
    n = n_marked(st)
    out.as_status = status(cfg[C_ENABLED] != 0.0, n > 0, t, t, stale)
    out.adverse_selection_bps = as_bps(st, 1)
    out.n_fills_marked = int(n)
    for i in range(6):
        out.as_bps_by_horizon[i] = as_bps(st, i)
        out.markout_bps_by_horizon[i] = markout_bps(st, i)
    out.as_spread_adjustment_bps = spread_adjustment_bps(st, cfg)
    out.predicted_alpha = predicted_alpha(st)
    out.as0_bps = as0_bps(st)
    out.as_delta_char_bps = delta_char_bps(st)
    out.as_depth_coef_per_bps = cfg[C_DEPTH_COEF]
    out.as_depth_cap_bps = cfg[C_DEPTH_CAP]
    out.as_momentum_bps = momentum_bps(st)
    out.as_log_mult_bid = log_mult(st, cfg, 1.0)
    out.as_log_mult_ask = log_mult(st, cfg, -1.0)
