"""Adverse selection of our fills (seed 000 gap 1, seed 002 part 3): markouts at six
horizons, realized AS per horizon, the depth-decay model AS(delta) = AS0 exp(-delta /
delta_char) fitted online, the spread adjustment and the predicted alpha.

Wiring (for the estimator kernel):
  state: its own f8 slice of N_STATE_AS words; ``init(st, cfg)`` once.
  per own fill (FILL_EVENT): ``on_fill(st, cfg, fill.ts_ns, fill.side, fill.px, fill.mid_px)``.
  per book/BBO event of that coin: ``on_mid(st, cfg, t_ns, mid_px)`` (resolves markouts).
  outputs: ``as_bps(st, h)`` and ``markout_bps(st, h)`` for horizon h = 0..5;
    ``spread_adjustment_bps(st, cfg)``; ``predicted_alpha(st)`` (share of informed fills);
    ``as0_bps(st)``, ``delta_char_bps(st)``, ``as_at_depth_bps(st, depth_bps)``;
    ``n_marked(st)``; for the drift filter's adaptation ``last_realized_drift_bps_per_s(st)``
    with ``n_realized(st)`` (call ``drift_kalman.adapt`` when it grows).

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

N_HORIZONS = 6
N_PEND = 16  # fills awaiting markouts; when full the oldest is dropped
N_BUCKETS = 8

# --- state words ------------------------------------------------------------------
S_MID = 0
S_T_NS = 1
S_N_FILLS = 2
S_N_MARKED = 3  # fills whose reference horizon is resolved
S_ALPHA = 4
S_AS0 = 5
S_DCHAR = 6
S_FIT_OK = 7
S_LAST_DRIFT = 8  # bps/s over the reference horizon
S_N_DRIFT = 9
S_H = 10  # per horizon: (as mean, as var, markout mean, n)
H_WORDS = 4
S_BK = S_H + N_HORIZONS * H_WORDS  # per bucket: (w, w*depth, w*as)
S_PEND = S_BK + 3 * N_BUCKETS  # per pending fill: (t_ns, px, side, mid0, next horizon)
P_WORDS = 5
N_STATE_AS = S_PEND + N_PEND * P_WORDS
assert declared.STATE.itemsize == N_STATE_AS * 8, 'size declared in shm_layout/estimators'

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
N_CONFIG_AS = 17


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
    return v


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_AS] = 0.0
    st[S_AS0] = cfg[C_AS0_PRIOR]
    st[S_DCHAR] = cfg[C_DCHAR_PRIOR]


@njit(cache=True)
def on_fill(st, cfg, t_ns, side, px, mid0):
    """Queue a fill for its markouts (mid0 = mid at the fill; the last mid if 0)."""
    if mid0 <= 0.0:
        mid0 = st[S_MID]
    if mid0 <= 0.0 or px <= 0.0:
        return
    st[S_N_FILLS] += 1.0
    slot = -1
    oldest = math.inf
    for k in range(N_PEND):
        j = S_PEND + k * P_WORDS
        if st[j] == 0.0:
            slot = k
            break
        if st[j] < oldest:
            oldest = st[j]
            slot = k
    j = S_PEND + slot * P_WORDS
    st[j] = t_ns
    st[j + 1] = px
    st[j + 2] = side
    st[j + 3] = mid0
    st[j + 4] = 0.0


@njit(cache=True)
def _record(st, cfg, h, side, px, mid0, mid_h):
    as_h = -side * (mid_h - mid0) / mid0 * 1e4
    mo = side * (mid_h - px) / px * 1e4
    j = S_H + h * H_WORDS
    a = max(1.0 / (st[j + 3] + 1.0), cfg[C_EWMA_A])  # running mean at first: no start bias
    if st[j + 3] == 0.0:
        st[j] = as_h
        st[j + 1] = 0.0
        st[j + 2] = mo
    else:
        d = as_h - st[j]
        st[j] += a * d
        st[j + 1] = (1.0 - a) * (st[j + 1] + a * d * d)
        st[j + 2] += a * (mo - st[j + 2])
    st[j + 3] += 1.0
    if h == int(cfg[C_REF]):
        st[S_N_MARKED] += 1.0
        informed = 1.0 if as_h > cfg[C_INFORMED] else 0.0
        st[S_ALPHA] = informed if st[S_N_MARKED] == 1.0 else st[S_ALPHA] + a * (informed - st[S_ALPHA])
        st[S_LAST_DRIFT] = (mid_h - mid0) / mid0 * 1e4 / (cfg[C_H_NS + h] * 1e-9)
        st[S_N_DRIFT] += 1.0
        _add_to_buckets(st, cfg, side * (mid0 - px) / mid0 * 1e4, as_h)


@njit(cache=True)
def _resolve(st, cfg, t_ns, mid, strict):
    """Mark out every pending horizon that ended before t_ns (strict) or at it."""
    for k in range(N_PEND):
        j = S_PEND + k * P_WORDS
        if st[j] == 0.0:
            continue
        h = int(st[j + 4])
        while h < N_HORIZONS:
            end = st[j] + cfg[C_H_NS + h]
            if end < t_ns or (not strict and end == t_ns):
                _record(st, cfg, h, st[j + 2], st[j + 1], st[j + 3], mid)
                h += 1
            else:
                break
        st[j + 4] = h
        if h >= N_HORIZONS:
            st[j] = 0.0


@njit(cache=True)
def on_mid(st, cfg, t_ns, mid):
    """A new mid at t_ns: horizons that ended before t_ns saw the previous mid."""
    if mid <= 0.0:
        return
    if st[S_MID] > 0.0:
        _resolve(st, cfg, t_ns, st[S_MID], True)
    st[S_MID] = mid
    st[S_T_NS] = t_ns
    _resolve(st, cfg, t_ns, mid, False)


# --- depth-decay model ---------------------------------------------------------------


@njit(cache=True)
def _add_to_buckets(st, cfg, depth_bps, as_bps):
    f = cfg[C_FORGET]
    for b in range(N_BUCKETS):
        j = S_BK + 3 * b
        st[j] *= f
        st[j + 1] *= f
        st[j + 2] *= f
    b = int(max(depth_bps, 0.0) / cfg[C_BUCKET_BPS])
    b = min(b, N_BUCKETS - 1)
    j = S_BK + 3 * b
    st[j] += 1.0
    st[j + 1] += depth_bps
    st[j + 2] += as_bps
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
        j = S_BK + 3 * b
        w = st[j]
        if w < cfg[C_MIN_BUCKET]:
            continue
        pool_w += w
        pool_d += st[j + 1]
        pool_as += st[j + 2]
        m_as = st[j + 2] / w
        if m_as <= 0.0:
            continue
        x = st[j + 1] / w
        y = math.log(m_as)
        sw += w
        sx += w * x
        sy += w * y
        sxx += w * x * x
        sxy += w * x * y
        npts += 1
    if npts < 2:
        st[S_FIT_OK] = 0.0
        if pool_w > 0.0:
            st[S_AS0] = max(pool_as / pool_w, 0.0) * math.exp(pool_d / pool_w / st[S_DCHAR])
        return
    den = sw * sxx - sx * sx
    if den <= 0.0:
        return
    slope = (sw * sxy - sx * sy) / den
    if slope >= 0.0:
        st[S_FIT_OK] = 0.0  # AS not decaying with depth: keep the last fit
        return
    st[S_AS0] = math.exp((sy - slope * sx) / sw)
    st[S_DCHAR] = -1.0 / slope
    st[S_FIT_OK] = 1.0


# --- outputs --------------------------------------------------------------------------


@njit(cache=True)
def as_bps(st, h):
    return st[S_H + h * H_WORDS]


@njit(cache=True)
def markout_bps(st, h):
    return st[S_H + h * H_WORDS + 2]


@njit(cache=True)
def n_at_horizon(st, h):
    return st[S_H + h * H_WORDS + 3]


@njit(cache=True)
def spread_adjustment_bps(st, cfg):
    """max(0, AS_ref + z * standard error); 0 before any markout."""
    j = S_H + int(cfg[C_REF]) * H_WORDS
    n = st[j + 3]
    if n == 0.0:
        return 0.0
    n_eff = min(n, 1.4427 * cfg[C_HALFLIFE])  # an EWMA remembers ~ half-life / ln2 samples
    return max(0.0, st[j] + cfg[C_Z] * math.sqrt(st[j + 1] / n_eff))


@njit(cache=True)
def predicted_alpha(st):
    return st[S_ALPHA]


@njit(cache=True)
def as0_bps(st):
    return st[S_AS0]


@njit(cache=True)
def delta_char_bps(st):
    return st[S_DCHAR]


@njit(cache=True)
def fit_valid(st):
    return st[S_FIT_OK]


@njit(cache=True)
def as_at_depth_bps(st, depth_bps):
    return st[S_AS0] * math.exp(-max(depth_bps, 0.0) / st[S_DCHAR])


@njit(cache=True)
def n_marked(st):
    return st[S_N_MARKED]


@njit(cache=True)
def last_realized_drift_bps_per_s(st):
    return st[S_LAST_DRIFT]


@njit(cache=True)
def n_realized(st):
    return st[S_N_DRIFT]
