"""Kappa per side: the decay of fill intensity with depth, from trade distances.

The estimator's model (``appliance/estimator/kappa.py``): the distance of a trade from
the mid before it, d = |px - mid| / mid (bps), is Exp(kappa), so P(fill at depth d)
~ exp(-kappa d), kappa = 1 / E[d] (MLE). Bid side: sell-aggressor trades (they hit
bids); ask side: buy-aggressor trades.

Fitted on the train part, per side and pooled: kappa (its MLE), the Kolmogorov-Smirnov
test of the exponential with fitted mean (Stephens' modified statistic, rejected at
5% above 1.094, as the estimator does), and the power-law alternative, the Lomax
P(D > d) = (1 + d / s)^-a by maximum likelihood (scipy), with its own K-S distance.
Scores: the log-likelihood per trade of the distances under the default prior kappa,
the fitted exponential and the fitted Lomax, train and test (nats; higher is better).
Written: ``[estimator] kappa_prior_per_bps`` (pooled) and ``[estimator.kappa]
prior_bid_per_bps`` / ``prior_ask_per_bps``: the kappa the estimator itself would
publish on this sample (the Lomax's local slope a / (s + mean d) when the K-S test
rejects the exponential and the Lomax fits closer, else 1 / mean d), the start of
the online EWMA, which then learns from the live trades (``kappa_halflife_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .data import MarketSlice

KS_CRITICAL = 1.094
MIN_TRADES = 50  # per side, train part


def distances(sl: MarketSlice) -> dict[str, np.ndarray]:
    """Trade distances from the mid before each trade (bps), per side and pooled."""
    ok = np.isfinite(sl.trade_mid) & (sl.trade_mid > 0)
    d = np.abs(sl.trade_px[ok] - sl.trade_mid[ok]) / sl.trade_mid[ok] * 1e4
    side = sl.trade_side[ok]
    return {"bid": d[side < 0], "ask": d[side > 0], "both": d}


def exp_loglik(d: np.ndarray, kappa: float) -> float:
    """Mean log-likelihood per distance under Exp(kappa)."""
    return float(math.log(kappa) - kappa * d.mean()) if d.size else float("nan")


def lomax_loglik(d: np.ndarray, a: float, s: float) -> float:
    return float(np.mean(stats.lomax.logpdf(d, a, loc=0.0, scale=s))) if d.size else float("nan")


def ks_exponential(d: np.ndarray) -> tuple[float, float]:
    """(D, Stephens' modified statistic) of the exponential with the sample mean."""
    n = d.size
    D = float(stats.kstest(d, "expon", args=(0.0, d.mean())).statistic)
    rn = math.sqrt(n)
    return D, (D - 0.2 / n) * (rn + 0.26 + 0.5 / rn)


@dataclass
class SideKappa:
    side: str
    n_train: int
    n_test: int
    kappa_default: float
    kappa: float  # exponential MLE, 1 / mean d
    ks_d: float
    ks_stat: float
    ks_reject: bool
    lomax_a: float
    lomax_s_bps: float
    lomax_ks_d: float
    kappa_powerlaw: float  # the estimator's power-law kappa: a / (s + mean d)
    kappa_written: float  # what the estimator would publish: the power law when the
    #                       K-S test rejects the exponential and the Lomax fits closer
    ll_train: dict  # per trade: default, exponential, lomax
    ll_test: dict
    sample_train: np.ndarray  # for the plots


def fit_side(side: str, train: np.ndarray, test: np.ndarray, kappa_default: float) -> SideKappa:
    if train.size < MIN_TRADES:
        raise ValueError(f"kappa {side}: {train.size} trades in the train part, at least "
                         f"{MIN_TRADES} are needed")
    mean = float(train.mean())
    if not mean > 0.0:
        raise ValueError(f"kappa {side}: every trade at the mid (mean distance {mean})")
    kappa = 1.0 / mean
    ks_d, ks_stat = ks_exponential(train)
    # the Lomax needs d > 0 for a finite scale; distances of exactly 0 keep their mass
    a, _, s = stats.lomax.fit(train, floc=0.0)
    lomax_ks = float(stats.kstest(train, "lomax", args=(a, 0.0, s)).statistic)

    def lls(d: np.ndarray) -> dict:
        return {"default": exp_loglik(d, kappa_default), "exponential": exp_loglik(d, kappa),
                "lomax": lomax_loglik(d, a, s)}

    reject = ks_stat > KS_CRITICAL
    k_pl = float(a / (s + mean))
    written = k_pl if reject and lomax_ks < ks_d else kappa
    return SideKappa(side, int(train.size), int(test.size), kappa_default, kappa, ks_d, ks_stat,
                     reject, float(a), float(s), lomax_ks, k_pl, written, lls(train), lls(test), train)
