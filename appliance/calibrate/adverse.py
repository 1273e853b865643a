"""The adverse-selection model: AS0 and delta_char by depth, the reference horizon and
the kurtosis tail term, from realized markouts.

The model the quote kernel prices every level with (``appliance/quote/epnl.py``):

    pred_as_bps(d) = AS0 exp(-d / delta_char) x (1 + k max(excess kurtosis, 0)) x tox
                     x exp(b_d min(d, cap)) x exp(b_m clip(m, +-clip))   (ranking terms)

AS0 and delta_char start at ``[estimator.adverse_selection] as0_prior_bps`` and
``delta_char_prior_bps`` and are refitted online from our own fills' markouts at
``reference_horizon_ms``; k is ``[estimator.vol] kurtosis_as_k``; tox is the quote's
toxicity weight (not fitted here).

Market markouts. Every trade is a passive fill of someone's resting order: side
s = -aggressor, mid0 = the mid before it, depth d = s (mid0 - px) / mid0 (bps; trades
priced through a stale mid, d < 0, are left out: no resting order of ours is there),
AS_h = -s (mid(t + h) - mid0) / mid0, the estimator's definition. Thousands of them
per capture, where a backtest of ours gets tens of fills.

Fits (train part only):
  * horizon: the mean AS per configured horizon (the term structure); the reference
    horizon is the shortest one whose mean AS reaches ``HORIZON_SHARE`` of the largest
    mean AS up to ``GOAL_HORIZON_S`` (the adverse move is then complete, and the
    online fit learns from markouts that resolve soonest);
  * depth: AS at the reference horizon against depth, in depth quantile bins, the
    curve AS0 exp(-d / delta_char) by count-weighted least squares over the bin means
    (delta_char capped at ``MAX_DELTA_CHAR_BPS``: no decay seen = flat);
  * tail: k by least squares of realized AS on base x (1 + k max(kurtosis, 0)), k >= 0,
    with the kurtosis the estimator published at each trade (``replay_params``);
    then AS0, delta_char and k together by least squares over the fills;
  * ranking (``as_rank``): the depth growth b_d (capped), the momentum term b_m and a
    level correction of AS0, by Poisson quasi-likelihood with the model above as offset.
Score: ``forecast_score`` of predicted against realized AS at ``GOAL_HORIZON_S`` (10 s:
the issue's criterion) on market fills, train and test, defaults and calibrated; and
the same on our own fills of backtests (``own_fills``) where there are enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import curve_fit

from appliance.measure.scores import ForecastScore, forecast_score

from .as_features import market_features
from .as_rank import fit_rank
from .data import MarketSlice

GOAL_HORIZON_S = 10.0
HORIZON_SHARE = 0.9
MAX_DELTA_CHAR_BPS = 1000.0
N_DEPTH_BINS = 8
MIN_TRADES = 200  # market fills in the train part


@dataclass
class Markouts:
    t_s: np.ndarray
    depth_bps: np.ndarray
    as_bps: np.ndarray  # [fills, horizons], NaN where the horizon runs past the data
    horizons_s: tuple[float, ...]
    kurtosis: np.ndarray = field(default_factory=lambda: np.zeros(0))  # at each fill
    mom_adv_bps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # momentum x aggressor


def market_markouts(sl: MarketSlice, horizons_s: tuple[float, ...]) -> Markouts:
    """Markouts of the passive side of every trade at depth >= 0."""
    ok = np.isfinite(sl.trade_mid) & (sl.trade_mid > 0)
    t, px, m0 = sl.trade_t_s[ok], sl.trade_px[ok], sl.trade_mid[ok]
    s = -sl.trade_side[ok].astype(np.float64)
    depth = s * (m0 - px) / m0 * 1e4
    keep = depth >= 0.0
    t, m0, s, depth = t[keep], m0[keep], s[keep], depth[keep]
    out = np.full((t.shape[0], len(horizons_s)), np.nan)
    for j, h in enumerate(horizons_s):
        k = np.searchsorted(sl.mid_t_s, t + h, side="right") - 1
        mh = sl.mid_px[np.maximum(k, 0)]
        done = (t + h <= sl.t1_s) & (k >= 0)
        out[done, j] = -s[done] * (mh[done] - m0[done]) / m0[done] * 1e4
    mom = market_features(sl, sl.events, horizons_s[0])["mom_adv"]  # the same fills, in order
    return Markouts(t, depth, out, tuple(horizons_s), np.zeros(t.shape[0]), mom)


def term_structure(m: Markouts) -> np.ndarray:
    return np.array([np.nanmean(m.as_bps[:, j]) if np.isfinite(m.as_bps[:, j]).any() else np.nan
                     for j in range(len(m.horizons_s))])


def pick_horizon(horizons_s: tuple[float, ...], mean_as: np.ndarray) -> float:
    usable = [j for j, h in enumerate(horizons_s) if h <= GOAL_HORIZON_S and np.isfinite(mean_as[j])]
    if not usable:
        return GOAL_HORIZON_S
    top = max(mean_as[j] for j in usable)
    if top <= 0.0:
        return GOAL_HORIZON_S
    for j in usable:
        if mean_as[j] >= HORIZON_SHARE * top:
            return horizons_s[j]
    return GOAL_HORIZON_S  # pragma: no cover


def _decay(d: np.ndarray, as0: float, dchar: float) -> np.ndarray:
    return as0 * np.exp(-d / dchar)


def depth_bins(depth: np.ndarray, as_bps: np.ndarray, n_bins: int = N_DEPTH_BINS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean depth, mean AS, count) per depth quantile bin (ties kept together)."""
    ok = np.isfinite(as_bps)
    d, a = depth[ok], as_bps[ok]
    edges = np.unique(np.quantile(d, np.linspace(0.0, 1.0, n_bins + 1)))
    if edges.size < 2:
        return np.array([d.mean()]), np.array([a.mean()]), np.array([d.size])
    b = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, edges.size - 2)
    cnt = np.bincount(b, minlength=edges.size - 1).astype(np.float64)
    used = cnt > 0
    md = np.bincount(b, weights=d, minlength=edges.size - 1)[used] / cnt[used]
    ma = np.bincount(b, weights=a, minlength=edges.size - 1)[used] / cnt[used]
    return md, ma, cnt[used]


def fit_depth_decay(depth: np.ndarray, as_bps: np.ndarray) -> tuple[float, float, bool]:
    """(AS0, delta_char, decays): AS0 exp(-d / delta_char) through the depth bins'
    mean AS; without a decay in the data, the pooled mean at delta_char = the cap."""
    md, ma, cnt = depth_bins(depth, as_bps)
    ok = np.isfinite(as_bps)
    pooled = max(float(np.mean(as_bps[ok])), 0.0)
    flat = (pooled * math.exp(float(np.mean(depth[ok])) / MAX_DELTA_CHAR_BPS), MAX_DELTA_CHAR_BPS, False)
    if md.size < 2 or np.ptp(md) <= 0.0 or np.max(ma) <= 0.0:
        return flat
    try:
        (a0, dc), _ = curve_fit(_decay, md, ma, p0=(max(ma[0], 1e-3), max(np.ptp(md), 0.1)),
                                sigma=1.0 / np.sqrt(cnt), bounds=([0.0, 0.05], [1e4, MAX_DELTA_CHAR_BPS]),
                                maxfev=10_000)
    except (RuntimeError, ValueError):
        return flat
    if dc >= MAX_DELTA_CHAR_BPS * 0.999:
        return flat
    return float(a0), float(dc), True


def fit_tail(base: np.ndarray, kurt: np.ndarray, realized: np.ndarray) -> float:
    """k >= 0 minimizing sum (realized - base (1 + k max(kurt, 0)))^2."""
    x = base * np.maximum(kurt, 0.0)
    ok = np.isfinite(x) & np.isfinite(realized) & np.isfinite(base)
    x, r, b = x[ok], realized[ok], base[ok]
    den = float(np.dot(x, x))
    if den <= 0.0:
        return 0.0
    return max(0.0, float(np.dot(x, r - b)) / den)


def fit_joint(depth: np.ndarray, kurt: np.ndarray, as_bps: np.ndarray, as0: float, dchar: float,
              k: float, decays: bool) -> tuple[float, float, float]:
    """AS0, delta_char and k together, least squares over the fills, from the separate
    fits (which let the depth curve absorb the mean tail factor); delta_char held at
    the cap when the depth fit found no decay. The separate fits when it fails."""
    ku = np.maximum(np.nan_to_num(kurt), 0.0)
    ok = np.isfinite(as_bps)
    d, ku, y = depth[ok], ku[ok], as_bps[ok]
    a0 = as0 / (1.0 + k * float(ku.mean())) if ku.size else as0
    try:
        if decays:
            (a, dc, kk), _ = curve_fit(lambda x, a, dc, kk: a * np.exp(-x[0] / dc) * (1.0 + kk * x[1]),
                                       np.vstack([d, ku]), y, p0=(max(a0, 1e-3), dchar, k),
                                       bounds=([0.0, 0.05, 0.0], [1e4, MAX_DELTA_CHAR_BPS, 1e3]),
                                       maxfev=10_000)
            return float(a), float(dc), float(kk)
        w = np.exp(-d / dchar)
        (a, kk), _ = curve_fit(lambda x, a, kk: a * x[0] * (1.0 + kk * x[1]), np.vstack([w, ku]), y,
                               p0=(max(a0, 1e-3), k), bounds=([0.0, 0.0], [1e4, 1e3]), maxfev=10_000)
        return float(a), dchar, float(kk)
    except (RuntimeError, ValueError):
        return as0, dchar, k


@dataclass(frozen=True)
class ASParams:
    as0_bps: float
    delta_char_bps: float
    kurtosis_k: float
    reference_horizon_s: float
    depth_coef_per_bps: float = 0.0
    depth_cap_bps: float = 0.0
    momentum_coef: float = 0.0
    momentum_clip_bps: float = 1.0

    def predict(self, depth_bps: np.ndarray, kurt: np.ndarray, mom_adv_bps: np.ndarray | None = None
                ) -> np.ndarray:
        d = np.maximum(depth_bps, 0.0)
        rank = self.depth_coef_per_bps * np.minimum(d, self.depth_cap_bps)
        if mom_adv_bps is not None and mom_adv_bps.shape == d.shape:
            rank = rank + self.momentum_coef * np.clip(np.nan_to_num(mom_adv_bps), -self.momentum_clip_bps,
                                                       self.momentum_clip_bps)
        return (self.as0_bps * np.exp(-d / self.delta_char_bps + rank)
                * (1.0 + self.kurtosis_k * np.maximum(np.nan_to_num(kurt), 0.0)))


@dataclass
class ASFit:
    default: ASParams
    fitted: ASParams
    decays: bool  # the depth fit found AS falling with depth
    n_train: int
    n_test: int
    term_train: np.ndarray  # mean AS per horizon
    term_test: np.ndarray
    horizons_s: tuple[float, ...]
    bins_train: tuple[np.ndarray, np.ndarray, np.ndarray]  # at the reference horizon
    scores: dict  # (which, part) -> ForecastScore | None, at GOAL_HORIZON_S
    goal_pairs: dict  # (which, part) -> (predicted, realized) arrays, for the plots
    goal_t_s: dict = field(default_factory=dict)  # part -> fill times (block bootstraps)


def _col(m: Markouts, h: float) -> np.ndarray:
    return m.as_bps[:, list(m.horizons_s).index(h)]


def fit_as(train: Markouts, test: Markouts, default: ASParams) -> ASFit:
    """Fit on ``train`` (kurtosis filled in), score both parts at the goal horizon."""
    n_ok = int(np.isfinite(train.as_bps[:, 0]).sum())
    if n_ok < MIN_TRADES:
        raise ValueError(f"{n_ok} market fills with markouts in the train part, "
                         f"at least {MIN_TRADES} are needed")
    term_tr, term_te = term_structure(train), term_structure(test)
    ref = pick_horizon(train.horizons_s, term_tr)
    as_ref = _col(train, ref)
    as0, dchar, decays = fit_depth_decay(train.depth_bps, as_ref)
    base = ASParams(as0, dchar, 0.0, ref).predict(train.depth_bps, train.kurtosis)
    k = fit_tail(base, train.kurtosis, as_ref)
    as0, dchar, k = fit_joint(train.depth_bps, train.kurtosis, as_ref, as0, dchar, k, decays)
    fitted = ASParams(as0, dchar, k, ref, momentum_clip_bps=default.momentum_clip_bps)
    mom = train.mom_adv_bps if train.mom_adv_bps.shape == train.depth_bps.shape else np.zeros_like(as_ref)
    terms = fit_rank(train.depth_bps, mom, fitted.predict(train.depth_bps, train.kurtosis), as_ref,
                     default.momentum_clip_bps)
    if terms is not None and terms.converged:
        fitted = ASParams(as0 * math.exp(terms.log_level), dchar, k, ref, terms.depth_coef_per_bps,
                          terms.depth_cap_bps, terms.momentum_coef, default.momentum_clip_bps)
    scores: dict = {}
    pairs: dict = {}
    for part, m in (("train", train), ("test", test)):
        goal = _col(m, GOAL_HORIZON_S)
        for which, p in (("default", default), ("fitted", fitted)):
            pred = p.predict(m.depth_bps, m.kurtosis, m.mom_adv_bps)
            scores[(which, part)] = forecast_score(pred, goal)
            pairs[(which, part)] = (pred, goal)
    return ASFit(default, fitted, decays, n_ok, int(np.isfinite(_col(test, GOAL_HORIZON_S)).sum()),
                 term_tr, term_te, train.horizons_s, depth_bins(train.depth_bps, as_ref), scores, pairs,
                 {"train": train.t_s, "test": test.t_s})


# --- our own fills, from backtests ------------------------------------------------------


def own_fill_pairs(fills: np.ndarray, markouts_10s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted AS carried on each fill, realized 10 s AS = depth - markout), bps."""
    depth = fills["side"] * (fills["mid_px"] - fills["px"]) / fills["mid_px"] * 1e4
    return fills["pred_as_bps"].astype(np.float64), depth - markouts_10s


def own_fill_summary(pred: np.ndarray, realized: np.ndarray) -> dict:
    """Means, ratio and the scores of predicted vs realized 10 s AS on our fills (the
    means even below the score's minimum sample)."""
    ok = np.isfinite(pred) & np.isfinite(realized)
    p, r = pred[ok], realized[ok]
    s: ForecastScore | None = forecast_score(p, r)
    mp = float(p.mean()) if p.size else None
    mr = float(r.mean()) if r.size else None
    return {"n": int(p.size), "pred_mean": mp, "realized_mean": mr,
            "ratio": mp / mr if p.size and mr else None,
            "spearman": s.spearman if s else None, "score": s}
