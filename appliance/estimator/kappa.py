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
Directional multipliers from the flow imbalance (flow.kappa_multipliers) scale
kappa_bid and kappa_ask.
"""

import math

from numba import njit

from shm_layout.estimators import kappa as declared

from .emath import decay

S_MEAN_D = 0
S_MEAN_D_BID = 1
S_MEAN_D_ASK = 2
S_N = 3
S_N_BID = 4
S_N_ASK = 5
S_RING_POS = 6
S_RING_N = 7
S_KS_D = 8
S_KS_STAT = 9  # the modified statistic compared with ks_critical
S_KS_REJECT = 10
S_MODEL = 11  # 0 exponential, 1 power law
S_LOMAX_A = 12
S_LOMAX_S = 13
S_KS_D_POW = 14
S_KAPPA_FILL = 15  # chosen model, both sides
S_KAPPA_BOOK = 16
S_KAPPA = 17  # published (fill, else book, else prior)
S_KAPPA_LO = 18
S_KAPPA_HI = 19
S_KAPPA_BID = 20
S_KAPPA_ASK = 21
S_MULT_BID = 22
S_MULT_ASK = 23
S_LAST_NS = 24
S_MODEL_SCALE = 25  # kappa_fill / (1 / mean d): power-law correction applied per side
S_KS_AT_N = 26  # trade count at the last K-S test: an unchanged sample is not retested
S_RING = 32
RING = 256
S_SCRATCH = S_RING + RING
N_STATE_KAPPA = S_SCRATCH + RING
assert declared.STATE.itemsize == N_STATE_KAPPA * 8, 'size declared in shm_layout/estimators'

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
N_CONFIG_KAPPA = 11

N_GRID = 25


def config_values(est) -> list[float]:
    c = est.kappa
    return [est.kappa_halflife_s, est.kappa_prior_per_bps, c.min_trades,
            min(max(c.sample_size, 16), RING), 1.0 if c.ks_enabled else 0.0, c.ks_critical,
            c.book_levels, c.flow_sensitivity, c.flow_horizon_s, c.mult_min, c.mult_max]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_KAPPA] = 0.0
    m = 1.0 / cfg[C_PRIOR]
    st[S_MEAN_D] = m
    st[S_MEAN_D_BID] = m
    st[S_MEAN_D_ASK] = m
    st[S_KAPPA] = cfg[C_PRIOR]
    st[S_KAPPA_FILL] = cfg[C_PRIOR]
    st[S_KAPPA_BID] = cfg[C_PRIOR]
    st[S_KAPPA_ASK] = cfg[C_PRIOR]
    st[S_MULT_BID] = 1.0
    st[S_MULT_ASK] = 1.0
    st[S_MODEL_SCALE] = 1.0


@njit(cache=True)
def on_trade(st, cfg, t_ns, side, px, mid, trade_rate_per_s):
    """One trade at px with the mid before it; trade_rate sets the EWMA step."""
    d = abs(px - mid) / mid * 1e4
    a = 1.0 - decay(1.0 / max(trade_rate_per_s, 1e-3), cfg[C_HL])
    st[S_MEAN_D] += a * (d - st[S_MEAN_D])
    if side > 0:
        st[S_MEAN_D_ASK] += a * (d - st[S_MEAN_D_ASK])
        st[S_N_ASK] += 1.0
    else:
        st[S_MEAN_D_BID] += a * (d - st[S_MEAN_D_BID])
        st[S_N_BID] += 1.0
    st[S_N] += 1.0
    st[S_LAST_NS] = t_ns
    n_ring = int(cfg[C_SAMPLE])
    pos = int(st[S_RING_POS])
    st[S_RING + pos] = d
    st[S_RING_POS] = (pos + 1) % n_ring
    if st[S_RING_N] < n_ring:
        st[S_RING_N] += 1.0


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
        st[S_KAPPA_BOOK] = 1.0 / (wd / w / mid * 1e4)


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
    for i in range(n):
        f = 1.0 - math.exp(-x[i] / mean)
        d = max(d, (i + 1) / n - f, f - i / n)
    return d, mean


@njit(cache=True)
def _lomax_ll(x, n, mean, g):
    """Profile log-likelihood of the Lomax fit at grid point g (a given): (ll, a, s)."""
    s = mean * 10.0 ** (-2.0 + 4.0 * g / (N_GRID - 1))
    sl = 0.0
    for i in range(n):
        sl += math.log1p(x[i] / s)
    if sl <= 0.0:
        return -1e300, 0.0, s
    a = n / sl
    return n * math.log(a) - n * math.log(s) - (a + 1.0) * sl, a, s


@njit(cache=True)
def lomax_fit(x, n, mean):
    """ML fit of P(D > d) = (1 + d/s)^-a on sorted x[:n]; returns (a, s, D).
    The profile likelihood in s is unimodal on the log grid, so a ternary search
    finds the grid's best point in ~10 evaluations instead of N_GRID (cold tier cost)."""
    lo = 0
    hi = N_GRID - 1
    while hi - lo > 2:
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        f1 = _lomax_ll(x, n, mean, m1)[0]
        f2 = _lomax_ll(x, n, mean, m2)[0]
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
        ll, a, s = _lomax_ll(x, n, mean, g)
        if a > 0.0 and ll > best_ll:
            best_ll, best_a, best_s = ll, a, s
    d = 0.0
    if best_s > 0.0:
        for i in range(n):
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
    n = int(st[S_RING_N])
    exp_kappa = 1.0 / max(st[S_MEAN_D], 1e-9)
    if cfg[C_KS_ON] != 0.0 and n >= 16 and st[S_KS_AT_N] == st[S_N] and st[S_N] > 0.0:
        st[S_KAPPA_FILL] = exp_kappa * st[S_MODEL_SCALE]  # same sample: same verdict
        return
    st[S_KS_AT_N] = st[S_N]
    st[S_MODEL] = 0.0
    st[S_MODEL_SCALE] = 1.0
    if cfg[C_KS_ON] != 0.0 and n >= 16:
        x = st[S_SCRATCH:S_SCRATCH + n]
        x[:] = st[S_RING:S_RING + n]
        x.sort()  # O(n log n); the insertion sort cost ~20 us on 256 random distances
        d, mean = ks_exponential(x, n)
        st[S_KS_D] = d
        st[S_KS_STAT] = ks_modified(d, n)
        reject = st[S_KS_STAT] > cfg[C_KS_CRIT]
        st[S_KS_REJECT] = 1.0 if reject else 0.0
        if reject and mean > 0.0:
            a, s, dp = lomax_fit(x, n, mean)
            st[S_LOMAX_A] = a
            st[S_LOMAX_S] = s
            st[S_KS_D_POW] = dp
            if dp < d and s > 0.0:
                st[S_MODEL] = 1.0
                st[S_MODEL_SCALE] = (a / (s + mean)) * mean
    st[S_KAPPA_FILL] = exp_kappa * st[S_MODEL_SCALE]


@njit(cache=True)
def publish(st, cfg, flow_imb):
    """Choose the source, apply the flow multipliers (warm tier)."""
    n = st[S_N]
    if n >= cfg[C_MIN_TRADES]:
        k = st[S_KAPPA_FILL]
        k_bid = st[S_MODEL_SCALE] / max(st[S_MEAN_D_BID], 1e-9) if st[S_N_BID] >= 1.0 else k
        k_ask = st[S_MODEL_SCALE] / max(st[S_MEAN_D_ASK], 1e-9) if st[S_N_ASK] >= 1.0 else k
        half = 1.96 / math.sqrt(max(min(st[S_RING_N], n), 1.0))
    else:
        k = st[S_KAPPA_BOOK] if st[S_KAPPA_BOOK] > 0.0 else cfg[C_PRIOR]
        k_bid = k
        k_ask = k
        half = 1.96 / math.sqrt(max(n, 1.0))
    st[S_KAPPA] = k
    st[S_KAPPA_LO] = k * max(1.0 - half, 0.0)
    st[S_KAPPA_HI] = k * (1.0 + half)
    s = cfg[C_SENS]
    lo, hi = cfg[C_MULT_LO], cfg[C_MULT_HI]
    bm = min(max(1.0 + s * flow_imb, lo), hi)  # sell pressure: lower kappa_bid, wider bid
    am = min(max(1.0 - s * flow_imb, lo), hi)
    st[S_MULT_BID] = bm
    st[S_MULT_ASK] = am
    st[S_KAPPA_BID] = k_bid * bm
    st[S_KAPPA_ASK] = k_ask * am
