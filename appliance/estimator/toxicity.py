"""Pre-fill toxicity classifier (seed 002 part 3): logistic regression over book, flow,
regime, change-point and funding features all sampled at one instant, with weights
learned online from our fills' markouts (SGD with L2), not hard-coded.

Wiring (for the estimator kernel):
  state: the record ``shm_layout/estimators/toxicity.py`` declares; ``init(st, cfg)`` once.
  per own fill: ``on_fill(st, cfg, t_ns, side, px, mid0, <features>)`` with the features
    read at the fill's instant (the same values the kernel holds when it takes the fill).
  per book/BBO event: ``on_mid(st, cfg, t_ns, mid)``; a fill whose label horizon passed
    is labelled toxic when -side (mid_h - mid0)/mid0*1e4 > toxic_threshold_bps and learnt.
  outputs: ``p_toxic(st, cfg, side, <features now>)`` for a hypothetical fill now on side
    (+1 our bid is hit, -1 our ask is lifted); ``gate(st, cfg, p)`` (1.0 = pull that
    side); ``weight(st, i)``; ``n_learned(st)``; ``logloss_ewma(st)``, ``brier_ewma(st)``.
  <features>, in this order (all plain floats, signed so that + = against our side where
    they are directional):
    bim               book imbalance at the touch, + = bid heavy       -> x0 = -side*bim
    flow_imb          trade flow imbalance, + = buying                 -> x1 = -side*flow_imb
    flow_intensity    trade rate / its long-run mean (magnitude)       -> x2 = ln(1 + flow_intensity)
    regime            volatility regime 0..3                           -> x3 = regime / 3
    changepoint_p     change-point probability 0..1                    -> x4 = changepoint_p
    funding_z         funding z-score, + = longs pay (bearish)         -> x5 = side*funding_z
    spread_ratio      spread / fair spread                             -> x6 = spread_ratio
    drift_z           drift / its std, + = up                          -> x7 = -side*drift_z

Model: features standardized online (EWMA mean and variance over fills, half-life
feature_halflife_fills); p = 1 / (1 + exp(-(b + w . x))); per labelled fill
  w <- w - lr ((p - y) x + l2 w),   b <- b - lr (p - y)
starting at w = 0 and b = logit(prior_p_toxic).
"""

import math

from numba import njit

from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import toxicity as declared

from . import drift_kalman, flow, funding
from .emath import status
from .kernel_readers import fill_mid, flow_intensity, mid_px, spread_bps, top_imbalance
from .regime import regime as current_regime

NF = declared.N_FEATURES
N_TPEND = declared.N_PENDING  # fills awaiting their label; when full the oldest is dropped

# --- config vector ------------------------------------------------------------------
C_ENABLED = 0
C_H_NS = 1
C_THRESH = 2
C_LR = 3
C_L2 = 4
C_PRIOR_LOGIT = 5
C_FEAT_A = 6
C_GATE = 7
N_CONFIG_TOX = 8


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.toxicity
    p = min(max(c.prior_p_toxic, 1e-6), 1.0 - 1e-6)
    return [
        1.0 if c.enabled else 0.0,
        c.label_horizon_ms * 1e6,
        c.toxic_threshold_bps,
        c.learning_rate,
        c.l2_per_fill,
        math.log(p / (1.0 - p)),
        1.0 - math.exp(-math.log(2.0) / c.feature_halflife_fills),
        c.gate_p_toxic,
    ]


@njit(cache=True)
def init(st, cfg):
    st.mid_px = st.logloss = st.brier = 0.0
    st.n_learned = st.n_toxic = st.n_feat = 0
    st.bias = cfg[C_PRIOR_LOGIT]
    st.w[:] = 0.0
    st.feat_mean[:] = 0.0
    st.feat_var[:] = 1.0
    st.x_scratch[:] = 0.0
    for k in range(N_TPEND):
        p = st.pending[k]
        p.ts_ns = p.side = 0
        p.mid0_px = 0.0
        p.x[:] = 0.0


@njit(cache=True)
def features(st, side, bim, flow_imb, flow_intensity, regime, changepoint_p, funding_z, spread_ratio,
             drift_z):
    """Write the raw feature vector of a fill on ``side`` into the scratch vector."""
    x = st.x_scratch
    x[0] = -side * bim
    x[1] = -side * flow_imb
    x[2] = math.log1p(max(flow_intensity, 0.0))
    x[3] = regime / 3.0
    x[4] = changepoint_p
    x[5] = side * funding_z
    x[6] = spread_ratio
    x[7] = -side * drift_z


@njit(cache=True)
def _logit_at(st, x):
    s = st.bias
    for i in range(NF):
        s += st.w[i] * (x[i] - st.feat_mean[i]) / math.sqrt(st.feat_var[i] + 1e-12)
    return s


@njit(cache=True, inline="always")
def _sigmoid(s):
    if s >= 0.0:
        return 1.0 / (1.0 + math.exp(-s))
    e = math.exp(s)
    return e / (1.0 + e)


@njit(cache=True)
def predict_scratch(st):
    """P(toxic) of the feature vector in the scratch words."""
    return _sigmoid(_logit_at(st, st.x_scratch))


@njit(cache=True)
def p_toxic(st, cfg, side, bim, flow_imb, flow_intensity, regime, changepoint_p, funding_z, spread_ratio,
            drift_z):
    """P(toxic) for a hypothetical fill now on ``side``; the prior rate when disabled."""
    if cfg[C_ENABLED] == 0.0:
        return _sigmoid(cfg[C_PRIOR_LOGIT])
    features(st, side, bim, flow_imb, flow_intensity, regime, changepoint_p, funding_z, spread_ratio, drift_z)
    return predict_scratch(st)


@njit(cache=True)
def _observe_features(st, cfg, x):
    """Update the standardizer with one fill's raw features."""
    a = max(1.0 / (st.n_feat + 1.0), cfg[C_FEAT_A])  # running mean at first: no start bias
    for i in range(NF):
        d = x[i] - st.feat_mean[i]
        st.feat_mean[i] += a * d
        if st.n_feat > 0:
            st.feat_var[i] = (1.0 - a) * (st.feat_var[i] + a * d * d)
    st.n_feat += 1


@njit(cache=True)
def _learn_at(st, cfg, x, y):
    p = _sigmoid(_logit_at(st, x))
    g = p - y
    lr = cfg[C_LR]
    for i in range(NF):
        xi = (x[i] - st.feat_mean[i]) / math.sqrt(st.feat_var[i] + 1e-12)
        st.w[i] -= lr * (g * xi + cfg[C_L2] * st.w[i])
    st.bias -= lr * g
    pc = min(max(p, 1e-9), 1.0 - 1e-9)
    ll = -(y * math.log(pc) + (1.0 - y) * math.log(1.0 - pc))
    a = 0.02
    if st.n_learned == 0:
        st.logloss = ll
        st.brier = g * g
    else:
        st.logloss += a * (ll - st.logloss)
        st.brier += a * (g * g - st.brier)
    st.n_learned += 1
    if y > 0.0:
        st.n_toxic += 1


@njit(cache=True)
def learn(st, cfg, y):
    """One SGD step on the scratch features with label y (1 = toxic): also standardizes."""
    _observe_features(st, cfg, st.x_scratch)
    _learn_at(st, cfg, st.x_scratch, y)


@njit(cache=True)
def on_fill(st, cfg, t_ns, side, px, mid0, bim, flow_imb, flow_intensity, regime, changepoint_p,
            funding_z, spread_ratio, drift_z):
    """Snapshot a fill's features (sampled now) until its label horizon passes."""
    if cfg[C_ENABLED] == 0.0:
        return
    if mid0 <= 0.0:
        mid0 = st.mid_px
    if mid0 <= 0.0:
        return
    features(st, side, bim, flow_imb, flow_intensity, regime, changepoint_p, funding_z, spread_ratio, drift_z)
    _observe_features(st, cfg, st.x_scratch)
    slot = 0
    oldest = math.inf
    for k in range(N_TPEND):
        ts = st.pending[k].ts_ns
        if ts == 0:
            slot = k
            break
        if ts < oldest:
            oldest = float(ts)
            slot = k
    p = st.pending[slot]
    p.ts_ns = t_ns
    p.side = side
    p.mid0_px = mid0
    p.x[:] = st.x_scratch


@njit(cache=True)
def _resolve(st, cfg, t_ns, mid, strict):
    for k in range(N_TPEND):
        p = st.pending[k]
        if p.ts_ns == 0:
            continue
        end = p.ts_ns + cfg[C_H_NS]
        if end < t_ns or (not strict and end == t_ns):
            as_bps = -p.side * (mid - p.mid0_px) / p.mid0_px * 1e4
            _learn_at(st, cfg, p.x, 1.0 if as_bps > cfg[C_THRESH] else 0.0)
            p.ts_ns = 0


@njit(cache=True)
def on_mid(st, cfg, t_ns, mid):
    if mid <= 0.0 or cfg[C_ENABLED] == 0.0:
        return
    if st.mid_px > 0.0:
        _resolve(st, cfg, t_ns, st.mid_px, True)
    st.mid_px = mid
    _resolve(st, cfg, t_ns, mid, False)


# --- outputs ---------------------------------------------------------------------------


@njit(cache=True)
def gate(st, cfg, p):
    """1.0 when P(toxic) is above the gate: do not quote that side (seed 002 gating)."""
    return 1.0 if p > cfg[C_GATE] else 0.0


@njit(cache=True)
def weight(st, i):
    return st.w[i]


@njit(cache=True)
def bias(st):
    return st.bias


@njit(cache=True)
def n_learned(st):
    return st.n_learned


@njit(cache=True)
def logloss_ewma(st):
    return st.logloss


@njit(cache=True)
def brier_ewma(st):
    return st.brier


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True)
def _drift_z(state):
    dr = state.drift
    dstd = drift_kalman.drift_std_bps_per_s(dr)
    return drift_kalman.drift_bps_per_s(dr) / dstd if dstd > 0.0 else 0.0


@njit(cache=True)
def _spread_ratio(state):
    fair = state.spread.fair_bps
    return spread_bps(state) / fair if fair > 0.0 else 1.0


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Label the pending fills with the mid of every book."""
    on_mid(state.toxicity, cfg.toxicity, t, mid_px(state))


@njit(cache=True, inline="always")
def hook_fill(state, cfg, q, t):
    """Record one of our fills with its context: top-of-book and flow imbalance, trade
    intensity, regime, cascade severity, funding z, spread over fair, and the drift
    before drift_kalman folds this fill (its fill hook runs after this one)."""
    on_fill(state.toxicity, cfg.toxicity, float(q.ts_ns), float(q.side), q.px, fill_mid(state, q),
            top_imbalance(state), flow.imbalance(state.flow, 1), flow_intensity(state, cfg, t),
            current_regime(state.regime), state.cascade.severity, funding.zscore(state.funding, cfg.funding),
            _spread_ratio(state), _drift_z(state))


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """P(toxic) now, per side, into the header (read by vol's blend at the next warm run
    and by ``write_params``): the context of ``hook_fill``, with spread's fair spread of
    this run and the cascade severity and drift of the previous one (spread's warm hook
    runs before this one, cascade's and drift_kalman's after)."""
    if mid_px(state) <= 0.0:
        return
    h = state.header
    bim = top_imbalance(state)
    fi = flow.imbalance(state.flow, 1)
    inten = flow_intensity(state, cfg, t)
    reg = current_regime(state.regime)
    sev = state.cascade.severity
    fz = funding.zscore(state.funding, cfg.funding)
    ratio = _spread_ratio(state)
    dz = _drift_z(state)
    st = state.toxicity
    c = cfg.toxicity
    h.toxicity_bid = p_toxic(st, c, 1, bim, fi, inten, reg, sev, fz, ratio, dz)
    h.toxicity_ask = p_toxic(st, c, -1, bim, fi, inten, reg, sev, fz, ratio, dz)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Toxicity's MarketParams fields (the probabilities the warm tier left in the header)."""
    out.toxicity_status = status(cfg[C_ENABLED] != 0.0, n_learned(st) > 0, t, t, stale)
    out.toxicity_bid = h.toxicity_bid
    out.toxicity_ask = h.toxicity_ask
    out.toxicity_gate_bid = int(gate(st, cfg, h.toxicity_bid))
    out.toxicity_gate_ask = int(gate(st, cfg, h.toxicity_ask))
