"""Which features rank the realized adverse selection of a passive fill? Market fills
(the passive side of every trade at depth >= 0) on each capture, each candidate
feature's Spearman with the realized 10 s AS, and a 10 s block bootstrap of it.

    python -m tools.as_rank_features [--horizon-s 10] [--boot 300] [CAPTURE ...]

Pre-trade features are known before the trade's timestamp (the quote kernel can price
a level with them); fill-time ones also use the trade itself (its size): causal at the
fill but not when the quote was placed. Every feature is oriented so that a positive
value says "the aggressor's direction": a positive Spearman means it ranks AS.
Overlapping 10 s markouts make neighbouring fills nearly the same sample, so the
interval resamples 10 s blocks of time, not fills.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import spearmanr

from appliance.calibrate.as_features import FEATURES, market_features
from appliance.calibrate.data import load_events, slice_arrays

CAPTURES = {
    "usdm_btc": ("binance_usdm/btcusdt_20240808.gz", "BTC"),
    "usdm_eth": ("binance_usdm/ethusdt_20240808.gz", "ETH"),
    "cm_btc": ("binance_cm/btcusd_perp_20240808.gz", "BTC"),
    "cm_eth": ("binance_cm/ethusd_perp_20240808.gz", "ETH"),
    "spot_btc": ("binance_spot/btcusdt_20240808.gz", "BTC"),
    "spot_eth": ("binance_spot/ethusdt_20240808.gz", "ETH"),
}
FILL_TIME = ("size_rel", "size_touch")  # use the trade itself


def block_bootstrap_spearman(x: np.ndarray, y: np.ndarray, t_s: np.ndarray, block_s: float,
                             n_boot: int, seed: int = 0) -> tuple[float, float]:
    """(2.5 %, 97.5 %) of Spearman over resampled time blocks of ``block_s``."""
    blk = ((t_s - t_s[0]) // block_s).astype(np.int64)
    ids = np.unique(blk)
    members = [np.flatnonzero(blk == b) for b in ids]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(members), len(members))
        idx = np.concatenate([members[k] for k in pick])
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            out.append(spearmanr(x[idx], y[idx]).statistic)
    return float(np.percentile(out, 2.5)), float(np.percentile(out, 97.5))


def analyse(name: str, path: str, coin: str, horizon_s: float, n_boot: int) -> list[str]:
    ev, _ = load_events(path, coin)
    sl = slice_arrays(ev)
    f = market_features(sl, ev, horizon_s)
    ok = np.isfinite(f["as_bps"])
    y, t = f["as_bps"][ok], f["t_s"][ok]
    nz = y != 0.0
    rows = [f"**{name}** ({coin}): {ok.sum()} market fills with a {horizon_s:g} s markout, "
            f"{100 * (~nz).mean():.0f} % with no mid move; mean AS {y.mean():.3f} bps", "",
            "| feature | kind | Spearman | 95 % block CI | Spearman, nonzero moves |",
            "|---|---|---:|---|---:|"]
    for feat in FEATURES + FILL_TIME:
        x = f[feat][ok]
        good = np.isfinite(x)
        if np.ptp(x[good]) <= 0:
            continue
        rho = spearmanr(x[good], y[good]).statistic
        lo, hi = block_bootstrap_spearman(x[good], y[good], t[good], horizon_s, n_boot)
        g2 = good & nz
        rho_nz = spearmanr(x[g2], y[g2]).statistic
        kind = "fill-time" if feat in FILL_TIME else "pre-trade"
        rows.append(f"| {feat} | {kind} | {rho:+.3f} | [{lo:+.3f}, {hi:+.3f}] | {rho_nz:+.3f} |")
    return rows + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("captures", nargs="*", default=list(CAPTURES))
    ap.add_argument("--horizon-s", type=float, default=10.0)
    ap.add_argument("--boot", type=int, default=300)
    ap.add_argument("--data-dir", default="../shared/data")
    a = ap.parse_args()
    for name in a.captures:
        rel, coin = CAPTURES[name]
        print("\n".join(analyse(name, f"{a.data_dir}/{rel}", coin, a.horizon_s, a.boot)))


if __name__ == "__main__":
    main()
