"""Correlation at three scales, hedge ratios, basis and lead-lag: simulated and the real pair."""

from pathlib import Path

import numpy as np
import pytest

from appliance.estimator import correlation as co
from shm_layout.constants import EV_BBO, EV_BOOK
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import correlation as corr_state
from shm_layout.estimators.correlation import CorrelationConfig

S = 1_000_000_000
MS = 1_000_000
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"


def _cfg(**over):
    return np.array(co.config_values(EstimatorConfig(correlation=CorrelationConfig(**over))))


def test_corr_when_simulated_returns_with_known_correlation_then_recovered_with_hedge_ratio():
    rng = np.random.default_rng(4)
    cfg = _cfg()
    st = np.zeros(1, corr_state.MATRIX)[0]
    co.init_corr(st)
    rho, beta_true = 0.6, 1.5
    px = np.array([100.0, 50.0, 20.0])
    for i in range(6000):
        t = (i + 1) * S
        for c in range(3):
            co.corr_on_mid(st, cfg, t, c, px[c])
        zb = rng.normal()
        r1 = 2.0 * zb  # coin 1: sd 2 bps
        r0 = beta_true * r1 + np.sqrt(1 - rho**2) / rho * beta_true * 2.0 * rng.normal()  # corr rho
        r2 = 3.0 * rng.normal()  # independent
        px *= np.exp(np.array([r0, r1, r2]) * 1e-4)
    for scale, tol in ((0, 0.25), (1, 0.08), (2, 0.06)):
        assert co.corr_valid(st, cfg, scale) == 1.0
        assert abs(co.corr(st, scale, 0, 1) - rho) < tol, scale
        assert abs(co.corr(st, scale, 1, 0) - co.corr(st, scale, 0, 1)) < 1e-15
        assert abs(co.corr(st, scale, 0, 2)) < tol, scale
    assert abs(co.beta(st, 2, 0, 1) - beta_true) < 0.15
    assert abs(co.corr(st, 2, 0, 0) - 1.0) < 1e-12
    assert co.corr(st, 2, 0, 5) == 0.0  # an unconfigured coin


def test_leadlag_when_reference_leads_by_three_samples_then_best_lag_three():
    rng = np.random.default_rng(8)
    cfg = _cfg()
    st = np.zeros(1, corr_state.CROSS_VENUE)[0]
    co.init_xv(st)
    step = 200 * MS
    n = 6000
    rb = rng.normal(0.0, 2.0, n)
    ra = np.zeros(n)
    ra[3:] = 0.8 * rb[:-3]
    ra += rng.normal(0.0, 1.0, n)
    a, b = 100.0, 100.0
    for i in range(n):
        t = (i + 1) * step
        co.xv_on_mid(st, cfg, t, 0, a)
        co.xv_on_mid(st, cfg, t, 1, b)
        a *= np.exp(ra[i] * 1e-4)
        b *= np.exp(rb[i] * 1e-4)
    assert co.best_lag(st) == 3
    assert co.best_lag_corr(st) > 0.6
    assert abs(co.lag_corr(st, -3)) < 0.1 and abs(co.lag_corr(st, 0)) < 0.1
    assert co.lead_confidence(st, cfg) > 0.6
    # the lead prediction is 0.8 x B's return three samples back, per second
    head = int(st["head"])
    expect = 0.8 * st["ring_b_bps"][(head - 2) % co.N_LAGS] / 0.2
    assert abs(co.lead_bps_per_s(st, cfg) - expect) < 0.25 * abs(expect) + 1.0


def test_basis_when_spread_jumps_then_z_and_delta_show_it():
    cfg = _cfg(leadlag_sample_ms=1000)
    st = np.zeros(1, corr_state.CROSS_VENUE)[0]
    co.init_xv(st)
    rng = np.random.default_rng(1)
    for i in range(600):
        basis = 3.0 + rng.normal(0.0, 0.5) + (20.0 if i >= 595 else 0.0)
        co.xv_on_mid(st, cfg, (i + 1) * S, 1, 100.0)
        co.xv_on_mid(st, cfg, (i + 1) * S, 0, 100.0 * (1 + basis * 1e-4))
    co.xv_on_mid(st, cfg, 601 * S, 1, 100.0)
    assert co.basis_bps(st) > 20.0
    assert co.basis_z(st) > 3.0
    assert co.d_basis_bps(st) > 10.0


def _mids(path, coin_name):
    from appliance.feed.sources import open_source

    out_t, out_m = [], []
    for ch in open_source(f"replay:{path}", [coin_name], 0).chunks(65536):
        is_book = (ch["kind"] == EV_BOOK) | (ch["kind"] == EV_BBO)
        book = ch[is_book & (ch["n_bids"] > 0) & (ch["n_asks"] > 0)]
        out_t.append(book["exch_ts_ns"].astype(np.int64))
        out_m.append(0.5 * (book["lv"]["bid_px"][:, 0] + book["lv"]["ask_px"][:, 0]))
    return np.concatenate(out_t), np.concatenate(out_m)


def test_corr_when_real_btc_eth_pair_then_positive_and_plausible():
    btc, eth = DATA / "btcusdt_20240808.gz", DATA / "ethusdt_20240808.gz"
    if not (btc.exists() and eth.exists()):
        pytest.skip(f"real Binance pair missing under {DATA}")
    tb, mb = _mids(btc, "BTC")
    te, me = _mids(eth, "ETH")
    t = np.concatenate([tb, te])
    m = np.concatenate([mb, me])
    coin = np.concatenate([np.zeros(len(tb), np.int64), np.ones(len(te), np.int64)])
    order = np.argsort(t, kind="stable")
    cfg = _cfg()
    st = np.zeros(1, corr_state.MATRIX)[0]
    co.init_corr(st)
    xv = np.zeros(1, corr_state.CROSS_VENUE)[0]
    co.init_xv(xv)
    for k in order:
        co.corr_on_mid(st, cfg, float(t[k]), int(coin[k]), float(m[k]))
        co.xv_on_mid(xv, cfg, float(t[k]), 0 if coin[k] == 1 else 1, float(m[k]))  # A = ETH, B = BTC
    n = st["n_samples"]
    assert n > 250  # about 345 s at 1 s
    rho = [co.corr(st, s, 0, 1) for s in range(3)]
    assert all(0.2 < r < 0.99 for r in rho), rho
    assert 0.2 < co.beta(st, 0, 1, 0) < 3.0  # ETH moves with BTC, by a plausible ratio
    assert -co.N_LAGS < co.best_lag(xv) < co.N_LAGS
    assert 0.2 < abs(co.best_lag_corr(xv)) <= 1.0
