"""Microprice: online ridge regression of the forward mid move (seed 001 §1.4).

Every warm tick a sample (t, mid, x = [book_imb, flow_imb], regime) is queued; once
it is ``horizon_ms`` old it is labelled with y = (mid_now / mid_t - 1) 1e4 bps and
folded into exponentially forgotten sums (half-life ``halflife_s`` of event time) of
its regime's group and of the pooled group:
    A = sum w x x',  c = sum w x y,  n = sum w
    beta = (A + lambda n I)^-1 c                    (ridge: stable when book and
                                                     flow imbalance are collinear)
Before the update, the sample is predicted with the current beta, and the
out-of-sample (prequential) R^2 = 1 - EWMA[(y - y_hat)^2] / EWMA[y^2] is tracked.
Published: microprice = mid (1 + clamp(beta . x, +-max_adj) 1e-4) with the regime's
beta when that group has ``min_samples`` and R^2 >= ``min_r2``, else the pooled
group's under the same rule, else the mid (fallback). On pure noise R^2 <= 0: mid.
"""

from numba import njit

from shm_layout.estimators import microprice as declared

from . import flow
from .emath import clamp, decay, status
from .kernel_readers import mid_px, top_imbalance
from .regime import regime as current_regime

N_GROUPS = declared.N_GROUPS  # pooled + four regimes
Q_LEN = declared.QUEUE_LEN

C_ENABLED = 0
C_HORIZON_NS = 1
C_HL = 2
C_LAMBDA = 3
C_MIN_R2 = 4
C_MIN_N = 5
C_MAX_ADJ = 6
C_REGIME_COND = 7
C_SAMPLE_NS = 8
N_CONFIG_MICRO = 9


def config_values(est) -> list[float]:
    c = est.microprice
    return [1.0 if c.enabled else 0.0, c.horizon_ms * 1e6, c.halflife_s, c.ridge_lambda,
            c.min_r2, c.min_samples, c.max_adj_bps, 1.0 if c.regime_conditional else 0.0,
            max(est.tiers.warm_interval_ms, 1) * 1e6]


@njit(cache=True)
def init(st, cfg):
    st.last_ts_ns = st.head = st.count = st.n_labelled = 0
    st.used_group = -1
    st.adj_bps = st.r2 = st.b1_book_bps = st.b2_flow_bps = 0.0
    for g in range(N_GROUPS):
        gr = st.groups[g]
        gr.a11 = gr.a12 = gr.a22 = gr.c1 = gr.c2 = gr.n = 0.0
        gr.sse = gr.sst = gr.b1 = gr.b2 = 0.0
        gr.n_obs = 0
    for k in range(Q_LEN):
        q = st.queue[k]
        q.ts_ns = q.regime = 0
        q.mid_px = q.book_imb = q.flow_imb = 0.0


@njit(cache=True)
def _fold(st, cfg, g, x1, x2, y, dt_s):
    gr = st.groups[g]
    d = decay(dt_s, cfg[C_HL])
    # Prequential error first: the sample was not used to fit the beta it tests.
    yh = gr.b1 * x1 + gr.b2 * x2
    a = 1.0 - d
    if gr.n_obs == 0:
        gr.sse = (y - yh) ** 2
        gr.sst = y * y
    else:
        gr.sse += a * ((y - yh) ** 2 - gr.sse)
        gr.sst += a * (y * y - gr.sst)
    gr.a11 = d * gr.a11 + x1 * x1
    gr.a12 = d * gr.a12 + x1 * x2
    gr.a22 = d * gr.a22 + x2 * x2
    gr.c1 = d * gr.c1 + x1 * y
    gr.c2 = d * gr.c2 + x2 * y
    gr.n = d * gr.n + 1.0
    gr.n_obs += 1
    lam = cfg[C_LAMBDA] * gr.n
    a11 = gr.a11 + lam
    a22 = gr.a22 + lam
    a12 = gr.a12
    det = a11 * a22 - a12 * a12
    if det > 1e-12:
        gr.b1 = (a22 * gr.c1 - a12 * gr.c2) / det
        gr.b2 = (a11 * gr.c2 - a12 * gr.c1) / det


@njit(cache=True)
def r2(st, g):
    gr = st.groups[g]
    sst = gr.sst
    return 1.0 - gr.sse / sst if sst > 1e-300 else 0.0


@njit(cache=True)
def warm(st, cfg, t_ns, mid, book_imb, flow_imb, regime):
    """Label matured samples, queue a new one, choose the beta (warm tier)."""
    if cfg[C_ENABLED] == 0.0 or mid <= 0.0:
        st.used_group = -1
        st.adj_bps = 0.0
        return
    dt_s = (t_ns - st.last_ts_ns) * 1e-9 if st.last_ts_ns > 0 else 0.0
    st.last_ts_ns = t_ns
    # Label every queued sample that has reached the horizon (oldest first).
    while st.count > 0:
        q = st.queue[st.head]
        if t_ns - q.ts_ns < cfg[C_HORIZON_NS]:
            break
        y = (mid / q.mid_px - 1.0) * 1e4
        x1, x2 = q.book_imb, q.flow_imb
        _fold(st, cfg, 0, x1, x2, y, dt_s)
        if cfg[C_REGIME_COND] != 0.0:
            _fold(st, cfg, 1 + q.regime, x1, x2, y, dt_s)
        st.n_labelled += 1
        st.head = (st.head + 1) % Q_LEN
        st.count -= 1
        dt_s = 0.0  # one decay step per tick
    if st.count < Q_LEN:
        q = st.queue[(st.head + st.count) % Q_LEN]
        q.ts_ns = t_ns
        q.mid_px = mid
        q.book_imb = book_imb
        q.flow_imb = flow_imb
        q.regime = regime
        st.count += 1
    # Choose: the regime's group, else pooled, else the mid.
    g = -1
    if cfg[C_REGIME_COND] != 0.0:
        rg = 1 + int(regime)
        if st.groups[rg].n_obs >= cfg[C_MIN_N] and r2(st, rg) >= cfg[C_MIN_R2]:
            g = rg
    if g < 0 and st.groups[0].n_obs >= cfg[C_MIN_N] and r2(st, 0) >= cfg[C_MIN_R2]:
        g = 0
    st.used_group = g
    if g < 0:
        st.adj_bps = 0.0
        st.r2 = r2(st, 0)
        st.b1_book_bps = st.groups[0].b1
        st.b2_flow_bps = st.groups[0].b2
        return
    st.r2 = r2(st, g)
    st.b1_book_bps = st.groups[g].b1
    st.b2_flow_bps = st.groups[g].b2
    st.adj_bps = clamp(st.b1_book_bps * book_imb + st.b2_flow_bps * flow_imb, -cfg[C_MAX_ADJ], cfg[C_MAX_ADJ])


@njit(cache=True)
def price(st, mid):
    return mid * (1.0 + st.adj_bps * 1e-4)


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """One regression sample: top-of-book imbalance, flow's 1 s imbalance, the regime."""
    mid = mid_px(state)
    if mid > 0.0:
        warm(state.microprice, cfg.microprice, t, mid, top_imbalance(state), flow.imbalance(state.flow, 0),
             current_regime(state.regime))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The microprice's MarketParams fields (around ``out.mid_px``, already written)."""
    used = st.used_group >= 0
    out.microprice_status = status(cfg[C_ENABLED] != 0.0, used, float(st.last_ts_ns), t, stale)
    out.microprice_fallback = 0 if used else 1
    out.microprice_px = price(st, out.mid_px)
    out.microprice_adj_bps = st.adj_bps
    out.microprice_beta_book_bps = st.b1_book_bps
    out.microprice_beta_flow_bps = st.b2_flow_bps
    out.microprice_r2 = st.r2
