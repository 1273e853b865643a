"""Kappa, the decay per bps of fill intensity with depth (seed 001 §1.1, seed 003 phase 3).

Fill-rate kappa: d = |trade px - mid| / mid in bps, the distance of each trade from
the mid before it. If d ~ Exp(kappa), the MLE is kappa = 1 / E[d]; E[d] is an EWMA
(``kappa_halflife_s``) started at the prior mean, so the prior weighs like a few trades.
Per side: buy-aggressor trades lift asks (kappa_ask), sell-aggressor trades hit bids
(kappa_bid).
Book kappa (fallback below ``min_trades``): 1 / size-weighted mean distance of the
resting levels from the mid.
Kolmogorov-Smirnov (cold tier), on the last ``sample_size`` distances sorted:
    D = max |F_n(x) - (1 - exp(-x / mean))|,
rejected at 5% when (D - 0.2 / n)(sqrt n + 0.26 + 0.5 / sqrt n) > ``ks_critical``
(Stephens' test for an exponential with fitted mean). Then the power-law (Lomax)
alternative P(D > d) = (1 + d/s)^-a is fitted by maximum likelihood (a closed form
given s, s on a log grid); if it fits better (smaller D), kappa is its local
log-slope at the mean distance, kappa = a / (s + mean d).
Confidence interval: kappa (1 -+ 1.96 / sqrt n).
Priors: ``kappa_prior_per_bps`` starts the pooled EWMA; ``[estimator.kappa]
prior_bid_per_bps`` / ``prior_ask_per_bps`` start each side's (0 = the pooled prior)
and stand for kappa_bid / kappa_ask below ``min_trades`` without a book estimate.
Directional multipliers from the flow imbalance (flow.kappa_multipliers) scale
kappa_bid and kappa_ask.
"""

import math

import numpy as np
from numba import njit

from shm_layout.estimators.kappa import RING_LEN as RING

from . import flow
from .emath import decay, status
from .kernel_readers import mid_px
from .sorted_sample import sort_sample

C_HL = 0
C_PRIOR = 1
C_MIN_TRADES = 2
C_SAMPLE = 3
C_KS_ON = 4
C_KS_CRIT = 5
C_BOOK_LEVELS = 6
C_SENS = 7
C_HORIZON = 8
C_MULT_LO = 9
C_MULT_HI = 10
C_PRIOR_BID = 11  # each side's prior (the pooled prior when 0)
C_PRIOR_ASK = 12
N_CONFIG_KAPPA = 13

N_GRID = 25


def config_values(est) -> list[float]:
    c = est.kappa
    return [est.kappa_halflife_s, est.kappa_prior_per_bps, c.min_trades,
            min(max(c.sample_size, 16), RING), 1.0 if c.ks_enabled else 0.0, c.ks_critical,
            c.book_levels, c.flow_sensitivity, c.flow_horizon_s, c.mult_min, c.mult_max,
            c.prior_bid_per_bps or est.kappa_prior_per_bps,
            c.prior_ask_per_bps or est.kappa_prior_per_bps]


@njit(cache=True)
def init(st, cfg):
    st.n_trades = st.n_bid_trades = st.n_ask_trades = st.ring_pos = st.ring_n = 0
    st.ks_reject = st.model = st.last_ts_ns = st.ks_at_n_trades = 0
    st.ks_d = st.ks_stat = st.lomax_alpha = st.lomax_scale_bps = st.ks_d_powerlaw = 0.0
    st.kappa_book_per_bps = st.kappa_lo_per_bps = st.kappa_hi_per_bps = 0.0
    st.ring_bps[:] = 0.0
    st.scratch_bps[:] = 0.0
    st.mean_d_bps = 1.0 / cfg[C_PRIOR]
    st.mean_d_bid_bps = 1.0 / cfg[C_PRIOR_BID]
    st.mean_d_ask_bps = 1.0 / cfg[C_PRIOR_ASK]
    st.kappa_per_bps = cfg[C_PRIOR]
    st.kappa_fill_per_bps = cfg[C_PRIOR]
    st.kappa_bid_per_bps = cfg[C_PRIOR_BID]
    st.kappa_ask_per_bps = cfg[C_PRIOR_ASK]
    st.mult_bid = 1.0
    st.mult_ask = 1.0
    st.model_scale = 1.0


@njit(cache=True)
def on_trade(st, cfg, t_ns, side, px, mid, trade_rate_per_s):
    """One trade at px with the mid before it; trade_rate sets the EWMA step."""
    d = abs(px - mid) / mid * 1e4
    a = 1.0 - decay(1.0 / max(trade_rate_per_s, 1e-3), cfg[C_HL])
    st.mean_d_bps += a * (d - st.mean_d_bps)
    if side > 0:
        st.mean_d_ask_bps += a * (d - st.mean_d_ask_bps)
        st.n_ask_trades += 1
    else:
        st.mean_d_bid_bps += a * (d - st.mean_d_bid_bps)
        st.n_bid_trades += 1
    st.n_trades += 1
    st.last_ts_ns = t_ns
    n_ring = int(cfg[C_SAMPLE])
    pos = int(st.ring_pos)
    st.ring_bps[pos] = d
    st.ring_pos = (pos + 1) % n_ring
    if st.ring_n < n_ring:
        st.ring_n += 1


@njit(cache=True)
def on_book(st, cfg, mid, bid_px, bid_sz, ask_px, ask_sz, n_bids, n_asks):
    """Book kappa from the resting levels of one snapshot (warm tier)."""
    m = int(cfg[C_BOOK_LEVELS])
    wd = 0.0
    w = 0.0
    for i in range(min(m, n_bids)):
        wd += bid_sz[i] * (mid - bid_px[i])
        w += bid_sz[i]
    for i in range(min(m, n_asks)):
        wd += ask_sz[i] * (ask_px[i] - mid)
        w += ask_sz[i]
    if w > 0.0 and wd > 0.0:
        st.kappa_book_per_bps = 1.0 / (wd / w / mid * 1e4)


@njit(cache=True)
def ks_exponential(x, n):
    """D of sorted x[:n] against the exponential with the sample mean; (D, mean)."""
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    if mean <= 0.0:
        return 1.0, 0.0
    d = 0.0
    f = 0.0
    for i in range(n):
        if i == 0 or x[i] != x[i - 1]:  # a run of equal values shares its exp (sorted_sample)
            f = 1.0 - math.exp(-x[i] / mean)
        d = max(d, (i + 1) / n - f, f - i / n)
    return d, mean


@njit(cache=True)
def _lomax_ll(x, n, mean, g):
    """Profile log-likelihood of the Lomax fit at grid point g (a given): (ll, a, s)."""
    s = mean * 10.0 ** (-2.0 + 4.0 * g / (N_GRID - 1))
    sl = 0.0
    lg = 0.0
    for i in range(n):
        if i == 0 or x[i] != x[i - 1]:  # a run of equal values shares its log1p
            lg = math.log1p(x[i] / s)
        sl += lg
    if sl <= 0.0:
        return -1e300, 0.0, s
    a = n / sl
    return n * math.log(a) - n * math.log(s) - (a + 1.0) * sl, a, s


@njit(cache=True)
def _lomax_at(x, n, mean, g, memo, done):
    """``_lomax_ll`` at grid point g, computed once per fit: the search and the final
    scan revisit points (12 evaluations of 7-10 distinct points); a stored float64
    comes back with the same bits, so the fit is unchanged."""
    if not done[g]:
        ll, a, s = _lomax_ll(x, n, mean, g)
        memo[g, 0] = ll
        memo[g, 1] = a
        memo[g, 2] = s
        done[g] = True
    return memo[g, 0], memo[g, 1], memo[g, 2]


@njit(cache=True)
def lomax_fit(x, n, mean):
    """ML fit of P(D > d) = (1 + d/s)^-a on sorted x[:n]; returns (a, s, D).
    The profile likelihood in s is unimodal on the log grid, so a ternary search
    finds the grid's best point in ~10 evaluations instead of N_GRID (cold tier cost)."""
    memo = np.empty((N_GRID, 3))
    done = np.zeros(N_GRID, np.bool_)
    lo = 0
    hi = N_GRID - 1
    while hi - lo > 2:
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        f1 = _lomax_at(x, n, mean, m1, memo, done)[0]
        f2 = _lomax_at(x, n, mean, m2, memo, done)[0]
        if f1 < f2:
            lo = m1 + 1
        elif f1 > f2:
            hi = m2 - 1
        else:
            lo, hi = m1, m2
    best_ll = -1e300
    best_a = 0.0
    best_s = 0.0
    for g in range(lo, hi + 1):
        ll, a, s = _lomax_at(x, n, mean, g, memo, done)
        if a > 0.0 and ll > best_ll:
            best_ll, best_a, best_s = ll, a, s
    d = 0.0
    if best_s > 0.0:
        f = 0.0
        for i in range(n):
            if i == 0 or x[i] != x[i - 1]:  # a run of equal values shares its pow
                f = 1.0 - (1.0 + x[i] / best_s) ** (-best_a)
            d = max(d, (i + 1) / n - f, f - i / n)
    else:
        d = 1.0
    return best_a, best_s, d


def lomax_fit_grid(x, n, mean):
    """The exhaustive grid fit (reference for tests of ``lomax_fit``)."""
    best = (-1e300, 0.0, 0.0)
    for g in range(N_GRID):
        ll, a, s = _lomax_ll(x, n, mean, g)
        if a > 0.0 and ll > best[0]:
            best = (ll, a, s)
    return best[1], best[2]


@njit(cache=True)
def ks_modified(d, n):
    rn = math.sqrt(n)
    return (d - 0.2 / n) * (rn + 0.26 + 0.5 / rn)


@njit(cache=True)
def cold(st, cfg):
    """K-S test and model choice over the distance sample (cold tier)."""
    n = int(st.ring_n)
    exp_kappa = 1.0 / max(st.mean_d_bps, 1e-9)
    if cfg[C_KS_ON] != 0.0 and n >= 16 and st.ks_at_n_trades == st.n_trades and st.n_trades > 0:
        st.kappa_fill_per_bps = exp_kappa * st.model_scale  # same sample: same verdict
        return
    st.ks_at_n_trades = st.n_trades
    st.model = 0
    st.model_scale = 1.0
    if cfg[C_KS_ON] != 0.0 and n >= 16:
        x = st.scratch_bps[:n]
        x[:] = st.ring_bps[:n]
        sort_sample(x, n)  # a merge sort: numba's quicksort is slow on the many ties
        d, mean = ks_exponential(x, n)
        st.ks_d = d
        st.ks_stat = ks_modified(d, n)
        reject = st.ks_stat > cfg[C_KS_CRIT]
        st.ks_reject = 1 if reject else 0
        if reject and mean > 0.0:
            a, s, dp = lomax_fit(x, n, mean)
            st.lomax_alpha = a
            st.lomax_scale_bps = s
            st.ks_d_powerlaw = dp
            if dp < d and s > 0.0:
                st.model = 1
                st.model_scale = (a / (s + mean)) * mean
    st.kappa_fill_per_bps = exp_kappa * st.model_scale


@njit(cache=True)
def warm(st, cfg, flow_imb):
    """Choose the source, apply the flow multipliers (warm tier)."""
    n = st.n_trades
    if n >= cfg[C_MIN_TRADES]:
        k = st.kappa_fill_per_bps
        k_bid = st.model_scale / max(st.mean_d_bid_bps, 1e-9) if st.n_bid_trades >= 1.0 else k
        k_ask = st.model_scale / max(st.mean_d_ask_bps, 1e-9) if st.n_ask_trades >= 1.0 else k
        half = 1.96 / math.sqrt(max(min(st.ring_n, n), 1.0))
    else:
        if st.kappa_book_per_bps > 0.0:
            k = k_bid = k_ask = st.kappa_book_per_bps
        else:
            k = cfg[C_PRIOR]
            k_bid = cfg[C_PRIOR_BID]
            k_ask = cfg[C_PRIOR_ASK]
        half = 1.96 / math.sqrt(max(n, 1.0))
    st.kappa_per_bps = k
    st.kappa_lo_per_bps = k * max(1.0 - half, 0.0)
    st.kappa_hi_per_bps = k * (1.0 + half)
    s = cfg[C_SENS]
    lo, hi = cfg[C_MULT_LO], cfg[C_MULT_HI]
    bm = min(max(1.0 + s * flow_imb, lo), hi)  # sell pressure: lower kappa_bid, wider bid
    am = min(max(1.0 - s * flow_imb, lo), hi)
    st.mult_bid = bm
    st.mult_ask = am
    st.kappa_bid_per_bps = k_bid * bm
    st.kappa_ask_per_bps = k_ask * am


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Depth distances of a full book."""
    if full:
        on_book(state.kappa, cfg.kappa, mid_px(state), ev.lv.bid_px, ev.lv.bid_sz, ev.lv.ask_px, ev.lv.ask_sz,
                ev.n_bids, ev.n_asks)


@njit(cache=True, inline="always")
def hook_trade(state, cfg, ev, t):
    """A trade's distance from the mid, at flow's trade rate with this trade in it (flow's
    trade hook runs first)."""
    mid = mid_px(state)
    if mid > 0.0:
        on_trade(state.kappa, cfg.kappa, t, ev.side, ev.px, mid, flow.trade_rate(state.flow, cfg.flow, t, 4))


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """Source choice and the flow multipliers, from flow's imbalance at kappa's horizon."""
    c = cfg.kappa
    warm(state.kappa, c, flow.imbalance(state.flow, flow.horizon_index(cfg.flow, c[C_HORIZON])))


@njit(cache=True, inline="always")
def hook_cold(state, cfg, t):
    cold(state.kappa, cfg.kappa)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """Kappa's MarketParams fields (ready on enough trades or a book estimate)."""
    out.kappa_status = status(True, st.n_trades >= cfg[C_MIN_TRADES] or st.kappa_book_per_bps > 0,
                              max(st.last_ts_ns, float(h.last_book_ts_ns)), t, stale)
    out.kappa_per_bps = st.kappa_per_bps
    out.kappa_fill_per_bps = st.kappa_fill_per_bps
    out.kappa_book_per_bps = st.kappa_book_per_bps
    out.kappa_lo_per_bps = st.kappa_lo_per_bps
    out.kappa_hi_per_bps = st.kappa_hi_per_bps
    out.kappa_bid_per_bps = st.kappa_bid_per_bps
    out.kappa_ask_per_bps = st.kappa_ask_per_bps
    out.kappa_mult_bid = st.mult_bid
    out.kappa_mult_ask = st.mult_ask
    out.kappa_ks_stat = st.ks_stat
    out.kappa_ks_reject = int(st.ks_reject)
    out.kappa_model = int(st.model)
    out.kappa_powerlaw_alpha = st.lomax_alpha
    out.kappa_powerlaw_scale_bps = st.lomax_scale_bps
