"""Hawkes order flow: separate self-exciting buy and sell intensities (seed 000 gap 4,
seed 003 phase 8), each with its parameters estimated online.

Per side, lambda(t) = mu + alpha sum_{t_j < t} exp(-beta (t - t_j))  (1/s).
Trades of one side at the same timestamp are one event (one order swept levels).
Online EM (exponential kernel): at each event i, with
    R_i = sum_j e^{-beta (t_i - t_j)},   S_i = sum_j (t_i - t_j) e^{-beta (t_i - t_j)}
(recursions R_i = e^{-beta D}(R_{i-1} + 1), S_i = e^{-beta D}(S_{i-1} + D (R_{i-1} + 1)),
D = t_i - t_{i-1}), lambda_i = mu + alpha R_i, the E-step responsibilities
    background p0 = mu / lambda_i, offspring p1 = alpha R_i / lambda_i,
    lag moment p2 = alpha S_i / lambda_i
go into forgotten sums A0, A1, A2, N (events), T (time); the M-step is
    mu = A0 / T,  n = alpha / beta = A1 / N,  beta = A1 / A2,  alpha = n beta
(used once a side has ``min_events``; n capped below 1 for stationarity).
Outputs: intensities now (lambda decayed to the current event time), imbalance
(l_b - l_s) / (l_b + l_s), excess intensity lambda - mu per side, and the seed 003
phase 8 drift observation z = excess_buy - excess_sell, R = 1.5^2 / lambda_total.
"""

import math

from numba import njit

from shm_layout.estimators import hawkes as declared

from .emath import LN2, clamp

# per-side block
P_LAST_NS = 0
P_R = 1
P_S = 2
P_MU = 3
P_ALPHA = 4
P_BETA = 5
P_A0 = 6
P_A1 = 7
P_A2 = 8
P_N = 9
P_T = 10
P_EVENTS = 11
P_W = 14
S_BUY = 0
S_SELL = P_W
N_STATE_HAWKES = 2 * P_W + 4
assert declared.STATE.itemsize == N_STATE_HAWKES * 8, 'size declared in shm_layout/estimators'

C_ENABLED = 0
C_MU0 = 1
C_ALPHA0 = 2
C_BETA0 = 3
C_MIN_EVENTS = 4
C_FORGET = 5
C_MAX_BRANCH = 6
N_CONFIG_HAWKES = 7


def config_values(est) -> list[float]:
    c = est.hawkes
    return [1.0 if c.enabled else 0.0, c.mu_prior_per_s, c.alpha_prior_per_s, c.beta_prior_per_s,
            c.min_events, math.exp(-LN2 / c.forget_halflife_events), c.max_branching]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_HAWKES] = 0.0
    for o in (S_BUY, S_SELL):
        st[o + P_MU] = cfg[C_MU0]
        st[o + P_ALPHA] = cfg[C_ALPHA0]
        st[o + P_BETA] = cfg[C_BETA0]


@njit(cache=True)
def on_event(st, cfg, t_ns, side):
    """One trade event of ``side`` (+1 buy aggressor, -1 sell) at event time t_ns."""
    o = S_BUY if side > 0 else S_SELL
    last = st[o + P_LAST_NS]
    if last > 0.0 and t_ns <= last:
        return  # same instant: the same order sweeping levels, one event
    mu, alpha, beta = st[o + P_MU], st[o + P_ALPHA], st[o + P_BETA]
    if last == 0.0:
        r = 0.0
        s = 0.0
        dt = 0.0
    else:
        dt = (t_ns - last) * 1e-9
        e = math.exp(-beta * dt)
        r_prev = st[o + P_R] + 1.0
        r = e * r_prev
        s = e * (st[o + P_S] + dt * r_prev)
    st[o + P_R] = r
    st[o + P_S] = s
    st[o + P_LAST_NS] = t_ns
    lam = mu + alpha * r
    f = cfg[C_FORGET]
    st[o + P_A0] = f * st[o + P_A0] + mu / lam
    st[o + P_A1] = f * st[o + P_A1] + alpha * r / lam
    st[o + P_A2] = f * st[o + P_A2] + alpha * s / lam
    st[o + P_N] = f * st[o + P_N] + 1.0
    st[o + P_T] = f * st[o + P_T] + dt
    st[o + P_EVENTS] += 1.0
    if st[o + P_EVENTS] >= cfg[C_MIN_EVENTS] and st[o + P_T] > 0.0 and st[o + P_A2] > 0.0:
        st[o + P_MU] = max(st[o + P_A0] / st[o + P_T], 1e-6)
        nb = clamp(st[o + P_A1] / st[o + P_N], 0.0, cfg[C_MAX_BRANCH])
        b = clamp(st[o + P_A1] / st[o + P_A2], 1e-3, 1e4)
        st[o + P_BETA] = b
        st[o + P_ALPHA] = nb * b


@njit(cache=True)
def intensity(st, o, t_ns):
    """lambda of the side at offset o at event time t_ns (1/s)."""
    last = st[o + P_LAST_NS]
    if last == 0.0:
        return st[o + P_MU]
    dt = max(t_ns - last, 0.0) * 1e-9
    return st[o + P_MU] + st[o + P_ALPHA] * (st[o + P_R] + 1.0) * math.exp(-st[o + P_BETA] * dt)


@njit(cache=True)
def outputs(st, t_ns):
    """(lambda_buy, lambda_sell, imbalance, excess_buy, excess_sell), intensities in 1/s."""
    lb = intensity(st, S_BUY, t_ns)
    ls = intensity(st, S_SELL, t_ns)
    imb = (lb - ls) / (lb + ls) if lb + ls > 0.0 else 0.0
    return lb, ls, imb, lb - st[S_BUY + P_MU], ls - st[S_SELL + P_MU]


@njit(cache=True)
def drift_observation(st, cfg, t_ns):
    """(z, R): net excess buying is bullish; R shrinks as total intensity grows."""
    lb, ls, _, eb, es = outputs(st, t_ns)
    return eb - es, 1.5 * 1.5 / max(lb + ls, 0.1)


@njit(cache=True)
def warmed_up(st, cfg):
    return min(st[S_BUY + P_EVENTS], st[S_SELL + P_EVENTS]) >= cfg[C_MIN_EVENTS]
