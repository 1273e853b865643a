"""The drift filter's theta and process noise, by the innovation likelihood.

The estimator's drift (``appliance/estimator/drift_kalman.py``) is an OU process
d mu = -theta mu dt + sigma_mu dW, filtered by a Kalman filter. Here its one direct
observation is used: the mid's return over each ``dt`` (the volatility sampling
interval), z_k = r_k / dt (bps/s), with noise R = sigma^2 / dt (sigma^2 the train
part's realized variance per second). With phi = exp(-theta dt):

    predict  mu- = phi mu,  P- = phi^2 P + q (1 - phi^2) / (2 theta)
    update   S = P- + R,  K = P- / S,  v = z - mu-,  ll += -(ln(2 pi S) + v^2 / S) / 2

(theta, q) maximize the train part's log-likelihood within the bounds the online
adaptation keeps (``theta_min_per_s`` .. ``theta_max_per_s``, ``noise_min`` ..
``noise_max``). Scores: the innovation log-likelihood per observation, and the
one-step forecast mu- dt of the next return (``forecast_score``), train and test.
The live filter also reads book, flow, Hawkes, funding and cross-asset observations
with their own noises; those are not fitted here. Their scales are (issue 16): every
observation is alpha x a signal, so the filtered drift is linear in the alphas, and one
factor c on all of them (``OBS_SCALES``) is fitted so that the drift the filter publishes
forecasts the mid's move over the quote horizon T with calibration slope 1: c = the OLS
slope of the realized move on mu T in a backtest of the train part (the measurement
loop's drift score), clipped to [0, 1], twice (the fills, one of the sources, follow the
quotes the drift moves). No skill (slope <= 0) gives c = 0: the drift stays at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from appliance.backtest.scoring import mid_after
from appliance.measure.scores import forecast_score
from shm_layout.constants import EST_VALID

from .data import MarketSlice

MIN_OBS = 60


def sampled_returns(sl: MarketSlice, dt_s: float) -> np.ndarray:
    """Mid log returns (bps) over consecutive ``dt_s`` steps of venue time."""
    if sl.mid_t_s.size < 2:
        return np.zeros(0)
    grid = np.arange(sl.mid_t_s[0], sl.mid_t_s[-1], dt_s)
    k = np.searchsorted(sl.mid_t_s, grid, side="right") - 1
    m = sl.mid_px[np.maximum(k, 0)]
    return np.diff(np.log(m)) * 1e4


def kalman(r: np.ndarray, dt: float, theta: float, q: float, r_var: float, p0: float
           ) -> tuple[float, np.ndarray]:
    """(log-likelihood, predicted drift mu- before each observation, bps/s)."""
    phi = math.exp(-theta * dt)
    w = q * (1.0 - phi * phi) / (2.0 * theta)
    mu, p = 0.0, p0
    ll = 0.0
    pred = np.empty(r.shape[0])
    for k in range(r.shape[0]):
        mu = phi * mu
        p = phi * phi * p + w
        pred[k] = mu
        s = p + r_var
        v = r[k] / dt - mu
        ll -= 0.5 * (math.log(2.0 * math.pi * s) + v * v / s)
        g = p / s
        mu += g * v
        p *= 1.0 - g
    return ll, pred


@dataclass
class DriftFit:
    dt_s: float
    r_var: float  # observation noise sigma^2 / dt, (bps/s)^2
    default: tuple[float, float]  # (theta, q)
    fitted: tuple[float, float]
    at_bound: bool
    n_train: int
    n_test: int
    ll_train: dict  # per observation: default, fitted
    ll_test: dict
    fc_train: dict  # forecast_score of mu- dt vs the next return
    fc_test: dict


def fit_drift(train: list[np.ndarray], test: list[np.ndarray], dt: float, default: tuple[float, float],
              p0: float, bounds: tuple[tuple[float, float], tuple[float, float]]) -> DriftFit:
    """Fit (theta, q) on the train segments' returns; score both parts."""
    n_tr = sum(x.size for x in train)
    if n_tr < MIN_OBS:
        raise ValueError(f"drift: {n_tr} return samples in the train part, at least {MIN_OBS}")
    all_tr = np.concatenate(train)
    r_var = float(np.mean(all_tr ** 2)) / dt / dt  # Var(r / dt)

    def total(segs: list[np.ndarray], th: float, q: float) -> tuple[float, int]:
        return sum(kalman(x, dt, th, q, r_var, p0)[0] for x in segs), sum(x.size for x in segs)

    lo = np.log([bounds[0][0], bounds[1][0]])
    hi = np.log([bounds[0][1], bounds[1][1]])

    def neg(x: np.ndarray) -> float:
        return -total(train, math.exp(x[0]), math.exp(x[1]))[0] / n_tr

    best = None
    for th0 in (bounds[0][0] * 2, math.sqrt(bounds[0][0] * bounds[0][1]), bounds[0][1] / 2):
        for q0 in (bounds[1][0] * 2, bounds[1][1] / 2):
            r = minimize(neg, np.log([th0, q0]), method="L-BFGS-B", bounds=list(zip(lo, hi, strict=True)))
            if best is None or r.fun < best.fun:
                best = r
    theta, q = float(math.exp(best.x[0])), float(math.exp(best.x[1]))
    at_bound = bool(np.any(np.isclose(best.x, lo, atol=1e-3) | np.isclose(best.x, hi, atol=1e-3)))
    params = {"default": default, "fitted": (theta, q)}

    def per_obs(segs: list[np.ndarray]) -> dict:
        out = {}
        for k, (th, qq) in params.items():
            ll, n = total(segs, th, qq)
            out[k] = ll / n if n else float("nan")
        return out

    def fc(segs: list[np.ndarray]) -> dict:
        out = {}
        for k, (th, qq) in params.items():
            pred = [kalman(x, dt, th, qq, r_var, p0)[1] * dt for x in segs]
            out[k] = forecast_score(np.concatenate(pred), np.concatenate(segs)) if segs else None
        return out

    return DriftFit(dt, r_var, default, (theta, q), at_bound, n_tr, sum(x.size for x in test),
                    per_obs(train), per_obs(test), fc(train), fc(test))


# --- the observation scales, against the drift realized over the quote horizon -----------

# The filter's observation scales: every source's z is alpha x (its signal), so with the
# gains fixed (they depend on the noises R, not on z) the drift mu is linear in them:
# scaling all of them by c scales mu by c. (table, key) pairs of the config.
OBS_SCALES = (
    ("drift", "alpha_fill"), ("drift", "alpha_flow"), ("drift", "alpha_flow_slow"),
    ("drift", "alpha_funding"), ("drift", "alpha_hawkes"), ("drift", "alpha_fill_size"),
    ("drift", "alpha_basis"), ("drift", "alpha_lead"),
    ("book", "alpha_bim"), ("book", "alpha_dbim"), ("book", "alpha_bpg"), ("book", "alpha_sweep"),
)
SCALE_MAX = 1.0  # the fit only shrinks the seed's scales (set before any run)
SCALE_ITERATIONS = 2  # the fills, and so the fill observations, follow the quotes


def drift_pairs(requotes: np.ndarray, horizon_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The measurement loop's drift pairs (``backtest.scoring``): at every valid requote
    with a valid drift, the forecast mu x T and the mid's move over T, bps."""
    ts, mid = requotes["ts_ns"], requotes["mid_px"]
    later = mid_after(ts, mid, ts, int(round(horizon_s * 1e9)))
    with np.errstate(invalid="ignore", divide="ignore"):
        realized = np.where(mid > 0.0, (later / mid - 1.0) * 1e4, np.nan)
    use = (requotes["valid"] == 1) & (requotes["drift_status"] == EST_VALID)
    return requotes["drift_bps_per_s"][use] * horizon_s, realized[use]


def scale_step(forecast: np.ndarray, realized: np.ndarray) -> float | None:
    """The factor that makes the forecast calibrated (OLS slope of realized on forecast,
    the measurement loop's slope), within [0, SCALE_MAX]; None without a forecast."""
    sc = forecast_score(forecast, realized)
    if sc is None or sc.slope is None or not math.isfinite(sc.slope):
        return None
    return min(max(sc.slope, 0.0), SCALE_MAX)


def scaled_values(base: dict[str, dict[str, float]], c: float) -> dict[str, dict[str, float]]:
    """``{table: {key: alpha x c}}`` from the base scales ``{table: {key: alpha}}``."""
    return {t: {k: v * c for k, v in kv.items()} for t, kv in base.items()}
