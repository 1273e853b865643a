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
(used once a side has ``min_events``; n capped below 1 for stationarity). Before that
each side uses its priors: ``mu/alpha/beta_prior_per_s`` for buys, the
``*_sell_prior_per_s`` keys for sells (0 = the buy side's; ``mmctl calibrate`` fits both).
Outputs: intensities now (lambda decayed to the current event time), imbalance
(l_b - l_s) / (l_b + l_s), excess intensity lambda - mu per side, and the seed 003
phase 8 drift observation z = excess_buy - excess_sell, R = 1.5^2 / lambda_total.
"""

import math

from numba import njit

from .emath import LN2, clamp, status

C_ENABLED = 0
C_MU0 = 1
C_ALPHA0 = 2
C_BETA0 = 3
C_MIN_EVENTS = 4
C_FORGET = 5
C_MAX_BRANCH = 6
C_SELL = 7  # the sell side's mu, alpha, beta priors (3 words)
N_CONFIG_HAWKES = 10


def config_values(est) -> list[float]:
    c = est.hawkes
    return [1.0 if c.enabled else 0.0, c.mu_prior_per_s, c.alpha_prior_per_s, c.beta_prior_per_s,
            c.min_events, math.exp(-LN2 / c.forget_halflife_events), c.max_branching,
            c.mu_sell_prior_per_s or c.mu_prior_per_s, c.alpha_sell_prior_per_s or c.alpha_prior_per_s,
            c.beta_sell_prior_per_s or c.beta_prior_per_s]


@njit(cache=True)
def _init_side(sd, cfg, at):
    sd.last_ts_ns = sd.n_events = 0
    sd.r = sd.s = 0.0
    sd.a0 = sd.a1 = sd.a2 = sd.n = sd.t_s = 0.0
    sd.mu_per_s = cfg[at]
    sd.alpha_per_s = cfg[at + 1]
    sd.beta_per_s = cfg[at + 2]


@njit(cache=True)
def init(st, cfg):
    _init_side(st.buy, cfg, C_MU0)
    _init_side(st.sell, cfg, C_SELL)


@njit(cache=True)
def on_event(st, cfg, t_ns, side):
    """One trade event of ``side`` (+1 buy aggressor, -1 sell) at event time t_ns."""
    if side > 0:
        _on_side_event(st.buy, cfg, t_ns)
    else:
        _on_side_event(st.sell, cfg, t_ns)


@njit(cache=True)
def _on_side_event(sd, cfg, t_ns):
    last = sd.last_ts_ns
    if last > 0 and t_ns <= last:
        return  # same instant: the same order sweeping levels, one event
    mu, alpha, beta = sd.mu_per_s, sd.alpha_per_s, sd.beta_per_s
    if last == 0:
        r = 0.0
        s = 0.0
        dt = 0.0
    else:
        dt = (t_ns - last) * 1e-9
        e = math.exp(-beta * dt)
        r_prev = sd.r + 1.0
        r = e * r_prev
        s = e * (sd.s + dt * r_prev)
    sd.r = r
    sd.s = s
    sd.last_ts_ns = t_ns
    lam = mu + alpha * r
    f = cfg[C_FORGET]
    sd.a0 = f * sd.a0 + mu / lam
    sd.a1 = f * sd.a1 + alpha * r / lam
    sd.a2 = f * sd.a2 + alpha * s / lam
    sd.n = f * sd.n + 1.0
    sd.t_s = f * sd.t_s + dt
    sd.n_events += 1
    if sd.n_events >= cfg[C_MIN_EVENTS] and sd.t_s > 0.0 and sd.a2 > 0.0:
        sd.mu_per_s = max(sd.a0 / sd.t_s, 1e-6)
        nb = clamp(sd.a1 / sd.n, 0.0, cfg[C_MAX_BRANCH])
        b = clamp(sd.a1 / sd.a2, 1e-3, 1e4)
        sd.beta_per_s = b
        sd.alpha_per_s = nb * b


@njit(cache=True)
def intensity(sd, t_ns):
    """lambda of one side at event time t_ns (1/s)."""
    last = sd.last_ts_ns
    if last == 0:
        return sd.mu_per_s
    dt = max(t_ns - last, 0.0) * 1e-9
    return sd.mu_per_s + sd.alpha_per_s * (sd.r + 1.0) * math.exp(-sd.beta_per_s * dt)


@njit(cache=True)
def outputs(st, t_ns):
    """(lambda_buy, lambda_sell, imbalance, excess_buy, excess_sell), intensities in 1/s."""
    lb = intensity(st.buy, t_ns)
    ls = intensity(st.sell, t_ns)
    imb = (lb - ls) / (lb + ls) if lb + ls > 0.0 else 0.0
    return lb, ls, imb, lb - st.buy.mu_per_s, ls - st.sell.mu_per_s


@njit(cache=True)
def drift_observation(st, cfg, t_ns):
    """(z, R): net excess buying is bullish; R shrinks as total intensity grows."""
    lb, ls, _, eb, es = outputs(st, t_ns)
    return eb - es, 1.5 * 1.5 / max(lb + ls, 0.1)


@njit(cache=True)
def warmed_up(st, cfg):
    return min(st.buy.n_events, st.sell.n_events) >= cfg[C_MIN_EVENTS]


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_trade(state, cfg, ev, t):
    on_event(state.hawkes, cfg.hawkes, t, ev.side)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The Hawkes process's MarketParams fields."""
    out.hawkes_status = status(cfg[C_ENABLED] != 0.0, warmed_up(st, cfg), float(h.last_trade_ts_ns), t, stale)
    lb, ls, imb, eb, es = outputs(st, t)
    out.hawkes_buy_intensity_per_s = lb
    out.hawkes_sell_intensity_per_s = ls
    out.hawkes_imbalance = imb
    out.hawkes_buy_excess_per_s = eb
    out.hawkes_sell_excess_per_s = es
    out.hawkes_mu_buy_per_s = st.buy.mu_per_s
    out.hawkes_mu_sell_per_s = st.sell.mu_per_s
    out.hawkes_alpha_buy_per_s = st.buy.alpha_per_s
    out.hawkes_alpha_sell_per_s = st.sell.alpha_per_s
    out.hawkes_beta_buy_per_s = st.buy.beta_per_s
    out.hawkes_beta_sell_per_s = st.sell.beta_per_s
