"""Scores of a model's predictions against what followed: one set of functions for the
backtest report, the live scorer and ``mmctl calibrate``, so a score means the same
thing everywhere.

Probabilities (fill probability per level, toxicity): the Brier score, its Murphy
decomposition ``brier = reliability - resolution + uncertainty`` over equal-width
bins of the forecast, the reliability curve, and the skill against climatology
(always forecasting the observed base rate, whose Brier score is the uncertainty
term): ``skill = 1 - brier / uncertainty``, > 0 better than climatology.

Magnitudes (adverse selection per fill, drift, microprice and lead-lag forecasts of a
mid move): bias (mean predicted - mean realized), the ratio of the means, the
calibration slope (OLS of realized on predicted: 1 is calibrated, 0 no information,
< 0 backwards), Pearson and Spearman correlation, and the information ratio of
trading on the forecast's sign, ``mean(sign(pred) * realized) / std(...)`` per sample.

Censoring: an order cancelled before its fill horizon ran out is not a miss.
``fill_outcomes`` marks it censored (-1) and ``probability_score`` leaves it out; since
requotes cancel most orders early, the survivors are mostly fills. ``hazard_score``
keeps every order, reading a fill probability over a horizon as a constant hazard:
fills seen against the fills it implies over each order's time at risk (observed /
expected, per forecast bin), and the exponential survival log-likelihood against
climatology's one pooled hazard (its skill): no selection by what ended the orders.

Plain numpy: scores are computed every few minutes over arrays of at most a few hundred
thousand pairs, never on the hot path. The rank correlation is written here (average
ranks for ties, then Pearson, as scipy's ``spearmanr``; a test compares them) because
importing ``scipy.stats`` for it cost the risk watchdog 1.5 s of start-up and tens of MiB.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

import numpy as np

CENSORED = -1
MIN_SAMPLES = 30  # fewer pairs: no score (None), never a misleading one


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (scipy's ``rankdata``, method average)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    edges = np.flatnonzero(xs[1:] != xs[:-1]) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [x.shape[0]]))
    ranks = np.empty(x.shape[0], np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rank correlation of two equal-length finite arrays; None when either is
    constant (no ranking to compare)."""
    rx = average_ranks(np.asarray(x, np.float64))
    ry = average_ranks(np.asarray(y, np.float64))
    dx, dy = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy)))
    return float(np.dot(dx, dy)) / den if den > 0.0 else None


def fill_outcomes(placed_ns: np.ndarray, horizon_ns: int | np.ndarray, first_fill_ns: np.ndarray,
                  ended_ns: np.ndarray) -> np.ndarray:
    """Outcome of each order's fill-probability forecast: 1 filled within the horizon,
    0 resting unfilled through the horizon, CENSORED when it was cancelled (or the
    data ended, ``ended_ns``) before the horizon without a fill. ``first_fill_ns`` and
    ``ended_ns`` are 0 when the event did not happen."""
    placed = np.asarray(placed_ns, np.int64)
    due = placed + np.asarray(horizon_ns, np.int64)
    fill = np.asarray(first_fill_ns, np.int64)
    ended = np.asarray(ended_ns, np.int64)
    filled = (fill > 0) & (fill <= due)
    cut_short = (ended > 0) & (ended < due) & ~filled
    out = np.zeros(placed.shape[0], np.int8)
    out[filled] = 1
    out[cut_short] = CENSORED
    return out


def median_time_at_risk_ns(placed_ns: np.ndarray, horizon_ns: np.ndarray, first_fill_ns: np.ndarray,
                           ended_ns: np.ndarray) -> int:
    """Median over orders of the time until their fill, their end or their horizon
    (0 without orders): a horizon at which about half the orders are still resting."""
    placed = np.asarray(placed_ns, np.int64)
    if placed.shape[0] == 0:
        return 0
    big = np.iinfo(np.int64).max
    fill = np.asarray(first_fill_ns, np.int64)
    ended = np.asarray(ended_ns, np.int64)
    stop = np.minimum(np.minimum(np.where(fill > 0, fill, big), np.where(ended > 0, ended, big)),
                      placed + np.asarray(horizon_ns, np.int64))
    return int(np.median(np.maximum(stop - placed, 0)))


def rescale_fill_prob(p: np.ndarray, h_frac: np.ndarray | float) -> np.ndarray:
    """P(fill within h) from P(fill within H) at a constant hazard, h_frac = h / H."""
    q = np.clip(np.asarray(p, np.float64), 0.0, 1.0)
    return 1.0 - np.power(1.0 - q, h_frac)


@dataclass(frozen=True)
class ProbabilityScore:
    n: int
    base_rate: float  # observed frequency of the event
    mean_forecast: float
    brier: float
    reliability: float  # calibration error (0 = forecasts equal observed frequencies)
    resolution: float  # how far bin frequencies spread from the base rate (more is better)
    uncertainty: float  # base_rate * (1 - base_rate): climatology's Brier score
    skill: float | None  # 1 - brier / uncertainty; None when the outcome never varies
    curve: list[tuple[float, float, int]]  # (mean forecast, observed frequency, count) per bin

    def as_dict(self) -> dict:
        return asdict(self)


def probability_score(forecast: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> ProbabilityScore | None:
    """Brier score and its decomposition for forecasts in [0, 1] of 0/1 outcomes;
    CENSORED outcomes and non-finite forecasts are left out. None below MIN_SAMPLES."""
    p = np.asarray(forecast, np.float64)
    y = np.asarray(outcome)
    keep = (y != CENSORED) & np.isfinite(p)
    p = np.clip(p[keep], 0.0, 1.0)
    y = y[keep].astype(np.float64)
    n = p.shape[0]
    if n < MIN_SAMPLES:
        return None
    base = float(y.mean())
    brier = float(np.mean((p - y) ** 2))
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    used = count > 0
    mean_p = sum_p[used] / count[used]
    freq = sum_y[used] / count[used]
    w = count[used] / n
    reliability = float(np.sum(w * (mean_p - freq) ** 2))
    resolution = float(np.sum(w * (freq - base) ** 2))
    uncertainty = base * (1.0 - base)
    curve = [(float(a), float(b), int(c)) for a, b, c in zip(mean_p, freq, count[used], strict=True)]
    return ProbabilityScore(
        n=n, base_rate=base, mean_forecast=float(p.mean()), brier=brier,
        reliability=reliability, resolution=resolution, uncertainty=uncertainty,
        skill=1.0 - brier / uncertainty if uncertainty > 0.0 else None, curve=curve)


@dataclass(frozen=True)
class ForecastScore:
    n: int
    mean_forecast: float
    mean_realized: float
    bias: float  # mean forecast - mean realized
    ratio: float | None  # mean forecast / mean realized (None when realized ~ 0)
    slope: float | None  # OLS slope of realized on forecast (None when the forecast is constant)
    pearson: float | None
    spearman: float | None
    ir: float | None  # per-sample IR of sign(forecast) * realized
    hit_rate: float | None  # of pairs where forecast and realized are both nonzero: signs agree
    zero_realized_share: float | None = None  # realized exactly 0 (no mid move): not hits, not misses
    spearman_moved: float | None = None  # Spearman over the pairs whose realized value is nonzero

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def forecast_score(forecast: np.ndarray, realized: np.ndarray) -> ForecastScore | None:
    """Scores of a forecast of a real quantity against its realization; pairs with a
    non-finite member are left out. None below MIN_SAMPLES."""
    f = np.asarray(forecast, np.float64)
    r = np.asarray(realized, np.float64)
    keep = np.isfinite(f) & np.isfinite(r)
    f, r = f[keep], r[keep]
    n = f.shape[0]
    if n < MIN_SAMPLES:
        return None
    mf, mr = float(f.mean()), float(r.mean())
    # a constant (to the last bit) has no variance, whatever rounding the mean leaves
    var_f = float(np.mean((f - mf) ** 2)) if np.ptp(f) > 0.0 else 0.0
    var_r = float(np.mean((r - mr) ** 2)) if np.ptp(r) > 0.0 else 0.0
    cov = float(np.mean((f - mf) * (r - mr)))
    slope = cov / var_f if var_f > 0.0 else None
    pearson = cov / math.sqrt(var_f * var_r) if var_f > 0.0 and var_r > 0.0 else None
    spear = _finite(spearman(f, r)) if var_f > 0.0 and var_r > 0.0 else None
    pnl = np.sign(f) * r
    sd = float(pnl.std())
    # a realized 0 (the mid did not move: common at short horizons on a one-tick book) is
    # neither a hit nor a miss of a direction; counted apart, left out of the hit rate
    moved = r != 0.0
    nz = (f != 0.0) & moved
    hit = float(np.mean(np.sign(f[nz]) == np.sign(r[nz]))) if nz.any() else None
    fm, rm = f[moved], r[moved]
    spear_moved = (_finite(spearman(fm, rm))
                   if fm.shape[0] >= 3 and np.ptp(fm) > 0.0 and np.ptp(rm) > 0.0 else None)
    scale = max(abs(mf), abs(mr), 1e-300)
    return ForecastScore(
        n=n, mean_forecast=mf, mean_realized=mr, bias=mf - mr,
        ratio=mf / mr if abs(mr) > 1e-9 * scale and mr != 0.0 else None,
        slope=slope, pearson=pearson, spearman=spear,
        ir=float(pnl.mean()) / sd if sd > 0.0 else None, hit_rate=hit,
        zero_realized_share=float(1.0 - moved.mean()), spearman_moved=spear_moved)


@dataclass(frozen=True)
class HazardScore:
    n: int  # orders with some exposure
    observed: int  # fills within each order's exposure
    expected: float  # fills the forecasts imply over those exposures
    ratio: float | None  # observed / expected: 1 = calibrated in level (None: nothing expected)
    exposure_s: float  # total time at risk (in horizons when given exposures directly)
    loglik_per_order: float  # exponential survival log-likelihood of the forecasts
    climatology_loglik_per_order: float  # ... of one pooled hazard (fills / exposure)
    skill: float | None  # (ll - ll_clim) / |ll_clim|: > 0 better than climatology
    curve: list[tuple[float, int, float, int]]  # (mean forecast, observed, expected, orders) per bin

    def as_dict(self) -> dict:
        return asdict(self)


def hazard_score(forecast: np.ndarray, placed_ns: np.ndarray, horizon_ns: int | np.ndarray,
                 first_fill_ns: np.ndarray, ended_ns: np.ndarray, n_bins: int = 10,
                 p_max: float = 0.999) -> HazardScore | None:
    """Fill probabilities checked on every order, the censored ones included: each
    forecast p of a fill within the horizon H is read as a constant hazard
    ``-ln(1 - p) / H``, and the fills it implies over the order's time at risk (until
    its fill, its end or H, whichever first) are summed against the fills seen. Under
    the forecast, observed - expected is a martingale (no censoring bias, whatever ends
    the orders); ``fill_outcomes`` instead drops the orders cut short, mostly unfilled
    ones, which lifts the censored base rate. Per bin of the forecast, the same sums
    (a reliability curve for censored data). p is capped at ``p_max`` (p = 1: an
    infinite hazard). None below MIN_SAMPLES orders at risk."""
    placed = np.asarray(placed_ns, np.int64)
    h = np.broadcast_to(np.asarray(horizon_ns, np.int64), placed.shape)
    fill = np.asarray(first_fill_ns, np.int64)
    ended = np.asarray(ended_ns, np.int64)
    big = np.iinfo(np.int64).max
    stop = np.minimum(np.minimum(np.where(fill > 0, fill, big), np.where(ended > 0, ended, big)),
                      placed + h)
    expo = np.maximum(stop - placed, 0)
    hit = (fill > 0) & (fill <= stop)
    frac = np.where(h > 0, expo / np.maximum(h, 1), np.nan)
    sc = hazard_score_exposed(forecast, frac, hit, n_bins, p_max)
    if sc is None:
        return None
    keep = ((expo > 0) | hit) & (h > 0) & np.isfinite(np.asarray(forecast, np.float64))
    return dataclasses.replace(sc, exposure_s=float(expo[keep].sum()) / 1e9)


def hazard_score_exposed(forecast: np.ndarray, exposure_h: np.ndarray, filled: np.ndarray,
                         n_bins: int = 10, p_max: float = 0.999) -> HazardScore | None:
    """``hazard_score`` over exposures already measured, in horizons (0..1), and whether
    each order filled within its exposure (the live scorer keeps these per order). An
    order filled by the very event it was placed before has no time at risk but was at
    risk: it counts (expecting ~0 fills); one ended at once does not."""
    p = np.asarray(forecast, np.float64)
    e = np.asarray(exposure_h, np.float64)
    hit = np.asarray(filled, bool)
    keep = ((e > 0) | hit) & np.isfinite(e) & np.isfinite(p)
    n = int(keep.sum())
    if n < MIN_SAMPLES:
        return None
    p = np.clip(p[keep], 0.0, p_max)
    e = e[keep]
    y = hit[keep].astype(np.float64)
    rate = -np.log1p(-p)  # hazard per horizon
    lam = rate * e
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    obs = np.bincount(bins, weights=y, minlength=n_bins)
    exp_ = np.bincount(bins, weights=lam, minlength=n_bins)
    mean_p = np.bincount(bins, weights=p, minlength=n_bins)
    curve = [(float(mean_p[b] / count[b]), int(obs[b]), float(exp_[b]), int(count[b]))
             for b in range(n_bins) if count[b] > 0]
    expected = float(lam.sum())
    fills = float(y.sum())
    # survival log-likelihood; hazards floored so that a zero forecast that filled is finite
    ll = float(np.sum(y * np.log(np.maximum(rate, 1e-12)) - lam)) / n
    rate0 = max(fills / float(e.sum()), 1e-12) if e.sum() > 0 else 1e-12
    ll0 = float(np.sum(y * math.log(rate0) - rate0 * e)) / n
    return HazardScore(n=n, observed=int(fills), expected=expected,
                       ratio=fills / expected if expected > 0.0 else None,
                       exposure_s=float(e.sum()), loglik_per_order=ll,
                       climatology_loglik_per_order=ll0,
                       skill=(ll - ll0) / abs(ll0) if ll0 != 0.0 else None, curve=curve)


def degraded(score: ProbabilityScore | ForecastScore | HazardScore | None,
             ir_floor: float | None = None) -> bool:
    """The model does worse than having no model: a probability worse than
    climatology (skill < 0), or a forecast whose ranking runs backwards (Spearman < 0)
    or, for a directional forecast given ``ir_floor``, whose IR is below it. Too few
    samples (no score) is not degraded."""
    if score is None:
        return False
    if isinstance(score, ProbabilityScore | HazardScore):
        return score.skill is not None and score.skill < 0.0
    if ir_floor is not None and score.ir is not None and score.ir < ir_floor:
        return True
    return score.spearman is not None and score.spearman < 0.0
