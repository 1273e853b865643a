"""Hawkes buy/sell order flow: maximum likelihood of (mu, alpha, beta), exponential kernel.

Per side, lambda(t) = mu + alpha sum_{t_j < t} exp(-beta (t - t_j))  (1/s), the
estimator's model (``appliance/estimator/hawkes.py``); trades of one side at the same
venue timestamp are one event, as there. The exact log-likelihood over [0, T] with the
recursion A_1 = 0, A_i = exp(-beta (t_i - t_{i-1})) (1 + A_{i-1}) (Ozaki 1979):

    ll = sum_i ln(mu + alpha A_i) - mu T - (alpha / beta) sum_i (1 - exp(-beta (T - t_i)))

and its gradient (with B_i = sum_j (t_i - t_j) e^{-beta (t_i - t_j)}, B_i = e^{-beta D}
(B_{i-1} + D (1 + A_{i-1}))) in one pass (numba), maximized by L-BFGS-B over the
logs of the parameters, with alpha / beta < ``MAX_BRANCHING`` (stationary).
The baseline is a Poisson process (mu = n / T, its MLE). Scores are the
log-likelihood per event on the train and on the test part (the test part's own
clock starts at its first event, its history empty), and the forecast of the number
of trades in the next second (``forecast_score``: the expected count from the fitted
intensity against the realized count).

``simulate`` draws a Hawkes process by Ogata's thinning (the tests' known truth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import minimize

from appliance.measure.scores import ForecastScore, forecast_score

MAX_BRANCHING = 0.99
MIN_EVENTS = 50  # per side, in the train part: fewer and the fit is refused


@njit(cache=True)
def loglik_grad(t, T, mu, alpha, beta):
    """(ll, d ll / d mu, d ll / d alpha, d ll / d beta) of event times t (s, sorted,
    from 0) observed over [0, T]."""
    n = t.shape[0]
    ll = 0.0
    g_mu = 0.0
    g_a = 0.0
    g_b = 0.0
    a = 0.0
    b = 0.0
    for i in range(n):
        if i > 0:
            d = t[i] - t[i - 1]
            e = math.exp(-beta * d)
            b = e * (b + d * (1.0 + a))
            a = e * (1.0 + a)
        lam = mu + alpha * a
        if lam <= 0.0:
            return -np.inf, 0.0, 0.0, 0.0
        ll += math.log(lam)
        g_mu += 1.0 / lam
        g_a += a / lam
        g_b -= alpha * b / lam
        r = T - t[i]
        er = math.exp(-beta * r)
        comp = (1.0 - er) / beta
        ll -= alpha * comp
        g_a -= comp
        g_b += alpha * ((1.0 - er) / (beta * beta) - r * er / beta)
    ll -= mu * T
    g_mu -= T
    return ll, g_mu, g_a, g_b


@njit(cache=True)
def intensity_before(t, grid, mu, alpha, beta):
    """lambda(s) just before each time in ``grid`` (sorted), events ``t`` (sorted)."""
    out = np.empty(grid.shape[0])
    a = 0.0  # sum over events up to the last one seen, at that event's time
    last = 0.0
    j = 0
    n = t.shape[0]
    for k in range(grid.shape[0]):
        s = grid[k]
        while j < n and t[j] < s:
            a = a * math.exp(-beta * (t[j] - last)) + 1.0 if j > 0 else 1.0
            last = t[j]
            j += 1
        out[k] = mu + (alpha * a * math.exp(-beta * (s - last)) if j > 0 else 0.0)
    return out


@dataclass(frozen=True)
class HawkesParams:
    mu: float  # 1/s
    alpha: float  # 1/s
    beta: float  # 1/s

    @property
    def branching(self) -> float:
        return self.alpha / self.beta


def event_times(t_s: np.ndarray, origin_s: float) -> np.ndarray:
    """Distinct event times (same-instant trades are one event), from ``origin_s`` (the
    start of the observation window)."""
    return np.unique(np.asarray(t_s, np.float64)) - origin_s


Segments = list[tuple[np.ndarray, float]]  # (event times from 0, span T) per stretch of data


def loglik(t: np.ndarray, T: float, p: HawkesParams) -> float:
    return float(loglik_grad(np.ascontiguousarray(t, np.float64), float(T), p.mu, p.alpha, p.beta)[0])


def poisson_loglik(n: int, T: float, rate: float) -> float:
    return n * math.log(rate) - rate * T if n and rate > 0 else 0.0


def fit(segments: Segments, max_branching: float = MAX_BRANCHING) -> HawkesParams:
    """Maximum-likelihood (mu, alpha, beta) over independent segments (the likelihood
    restarts on each), branching ratio below ``max_branching``."""
    segs = [(np.ascontiguousarray(t, np.float64), float(T)) for t, T in segments if T > 0]
    n = sum(t.shape[0] for t, _ in segs)
    rate = n / sum(T for _, T in segs)
    cap = max_branching

    def unpack(x: np.ndarray) -> tuple[float, float, float, float]:
        s = 1.0 / (1.0 + math.exp(-x[1]))
        beta = math.exp(x[2])
        return math.exp(x[0]), beta * cap * s, beta, s

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        mu, alpha, beta, s = unpack(x)
        ll = gm = ga = gb = 0.0
        for t, T in segs:
            a, b, c, d = loglik_grad(t, T, mu, alpha, beta)
            ll, gm, ga, gb = ll + a, gm + b, ga + c, gb + d
        if not math.isfinite(ll):
            return 1e300, np.zeros(3)
        # chain rule: d alpha / d x1 = alpha (1 - s); d alpha / d x2 = alpha
        g = np.array([gm * mu, ga * alpha * (1.0 - s), gb * beta + ga * alpha])
        return -ll / n, -g / n

    best = None
    for b0 in (0.5, 5.0, 50.0):
        x0 = np.array([math.log(0.5 * rate), 0.0, math.log(b0)])
        r = minimize(neg, x0, jac=True, method="L-BFGS-B",
                     bounds=[(-20.0, 12.0), (-15.0, 15.0), (-9.0, 12.0)])
        if best is None or r.fun < best.fun:
            best = r
    mu, alpha, beta, _ = unpack(best.x)
    return HawkesParams(mu, alpha, beta)


def count_forecast(t: np.ndarray, T: float, p: HawkesParams, step_s: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(expected trades in each next ``step_s`` window given the past, realized trades
    in it). The conditional mean intensity relaxes to the stationary mu / (1 - n) at
    rate beta - alpha (offspring inside the window included):
    E[N] = m h + (lambda(s) - m) (1 - exp(-(beta - alpha) h)) / (beta - alpha)."""
    grid = np.arange(0.0, T - step_s, step_s)
    if grid.size == 0:
        return np.zeros(0), np.zeros(0)
    lam = intensity_before(np.ascontiguousarray(t, np.float64), grid, p.mu, p.alpha, p.beta)
    r = p.beta - p.alpha
    m = p.mu / (1.0 - p.branching)
    decay = (1.0 - math.exp(-r * step_s)) / r
    expected = m * step_s + (lam - m) * decay
    realized = np.histogram(t, bins=np.append(grid, grid[-1] + step_s))[0].astype(np.float64)
    return expected, realized


def rescaled_gaps(t: np.ndarray, p: HawkesParams) -> np.ndarray:
    """Compensator increments between events: Exp(1) under the true model (the
    time-rescaling theorem), the residuals the plots compare."""
    out = np.empty(max(t.shape[0] - 1, 0))
    a = 0.0
    for i in range(1, t.shape[0]):
        d = t[i] - t[i - 1]
        e = math.exp(-p.beta * d)
        out[i - 1] = p.mu * d + p.alpha / p.beta * (1.0 + a) * (1.0 - e)
        a = e * (1.0 + a)
    return out


@dataclass
class SideFit:
    side: str
    default: HawkesParams
    fitted: HawkesParams
    n_train: int
    n_test: int
    ll_train: dict  # per event: {"default", "fitted", "poisson"}
    ll_test: dict
    count_train: dict  # {"default", "fitted"}: ForecastScore | None
    count_test: dict
    train: Segments


def _per_event_ll(segs: Segments, p: dict[str, HawkesParams], pois_rate: float) -> dict:
    n = max(sum(t.shape[0] for t, _ in segs), 1)
    out = {k: sum(loglik(t, T, v) for t, T in segs) / n for k, v in p.items()}
    out["poisson"] = sum(poisson_loglik(t.shape[0], T, pois_rate) for t, T in segs) / n
    return out


def _count_score(segs: Segments, p: HawkesParams) -> ForecastScore | None:
    pairs = [count_forecast(t, T, p) for t, T in segs]
    if not pairs:
        return None
    return forecast_score(np.concatenate([e for e, _ in pairs]), np.concatenate([r for _, r in pairs]))


def fit_side(side: str, train: Segments, test: Segments, default: HawkesParams,
             max_branching: float = MAX_BRANCHING) -> SideFit:
    """Fit one side on the train segments; score default and fitted on both parts. The
    Poisson baseline's rate is the train part's (no peeking at the test part)."""
    n_tr = sum(t.shape[0] for t, _ in train)
    if n_tr < MIN_EVENTS:
        raise ValueError(f"{n_tr} distinct trade times in the train part, at least {MIN_EVENTS} are needed")
    fitted = fit(train, max_branching)
    rate = n_tr / sum(T for _, T in train)
    ps = {"default": default, "fitted": fitted}
    return SideFit(side, default, fitted, n_tr, sum(t.shape[0] for t, _ in test),
                   _per_event_ll(train, ps, rate), _per_event_ll(test, ps, rate),
                   {k: _count_score(train, v) for k, v in ps.items()},
                   {k: _count_score(test, v) for k, v in ps.items()}, train)


def simulate(p: HawkesParams, T: float, seed: int = 0) -> np.ndarray:
    """Event times of a Hawkes process on [0, T] by Ogata's thinning."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    t = 0.0
    excess = 0.0  # alpha sum exp(-beta (t - t_j)) at time t
    while True:
        lam_bar = p.mu + excess  # the intensity only decays until the next event
        w = rng.exponential(1.0 / lam_bar)
        t += w
        if t > T:
            break
        excess *= math.exp(-p.beta * w)
        if rng.uniform() * lam_bar <= p.mu + excess:
            out.append(t)
            excess += p.alpha
    return np.asarray(out)
