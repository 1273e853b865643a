"""Known-answer tests of the estimator modules (part A) on simulated data with known truth."""

import math

import numpy as np
import pytest

from appliance.config import load_config
from appliance.estimator import (
    cascade,
    flow,
    funding,
    hawkes,
    kappa,
    kernel,
    kernel_config,
    regime,
    vol,
    volclock,
)
from shm_layout import estimators as declared
from shm_layout import records
from shm_layout.constants import EV_ASSET_CTX, EV_BOOK, EV_TRADE

EST = load_config().estimator


def _vec(mod):
    return np.array(mod.config_values(EST), dtype=np.float64)


def _simulate_hawkes(mu, alpha, beta, t_end_s, seed):
    rng = np.random.default_rng(seed)
    t, excite, out = 0.0, 0.0, []
    while True:
        lam_bar = mu + excite
        w = rng.exponential(1.0 / lam_bar)
        t += w
        excite *= math.exp(-beta * w)
        if t > t_end_s:
            return np.array(out)
        if rng.random() * lam_bar <= mu + excite:
            out.append(t)
            excite += alpha


def _as_ratio_after(draw_bps, k: float) -> tuple[float, float]:
    """(excess kurtosis, as_ratio_adjustment) after 4,000 one-second returns drawn by
    ``draw_bps(rng)``, with ``[estimator.vol] kurtosis_as_k`` = k."""
    kcfg = kernel_config.config_vector(EST)
    kcfg["tiers"]["kurtosis_tail_k"] = k
    cfg = kcfg["vol"]
    st = np.zeros(1, declared.vol.STATE)[0]
    vol.init(st, cfg)
    rng = np.random.default_rng(3)
    mid, t = 100_000.0, 1e9
    for _ in range(4000):
        t += 1e9
        mid *= math.exp(draw_bps(rng) * 1e-4)
        vol.sample(st, cfg, t, mid)
    out = np.zeros(1, records.MARKET_PARAMS)[0]
    vol.publish(st, cfg, 0, kcfg["tiers"], t, False, out)
    return float(out["excess_kurtosis"]), float(out["as_ratio_adjustment"])


def test_vol_when_returns_are_fat_tailed_then_kurtosis_scales_the_as_ratio():
    """Seed 003 phase 8 (test_kurtosis_scales_as_ratio): fat tails, excess kurtosis > 0,
    raise AS_ratio above 1 by 1 + k max(kurtosis, 0), at the built-in k and the spec's 0.3;
    Gaussian returns leave it at about 1."""
    def fat(rng):
        return rng.normal(0.0, 1.0) + (rng.normal(0.0, 15.0) if rng.random() < 0.01 else 0.0)
    for k in (EST.vol.kurtosis_as_k, 0.3):
        kurt, ratio = _as_ratio_after(fat, k)
        assert kurt > 5.0 and ratio == pytest.approx(1.0 + k * kurt) and ratio > 1.0
        g_kurt, g_ratio = _as_ratio_after(lambda rng: rng.normal(0.0, 1.0), k)
        assert abs(g_kurt) < 1.0 and g_ratio < 1.0 + k


@pytest.mark.parametrize("mu,alpha,beta", [(0.5, 1.0, 2.5), (2.0, 3.0, 6.0)])
def test_hawkes_when_simulated_with_known_parameters_then_recovered(mu, alpha, beta):
    cfg = _vec(hawkes)
    st = np.zeros(1, declared.hawkes.STATE)[0]
    hawkes.init(st, cfg)
    for t in _simulate_hawkes(mu, alpha, beta, 20_000.0, 2):
        hawkes.on_event(st, cfg, 1e9 + t * 1e9, -1)
    sell = st["sell"]
    assert sell["mu_per_s"] == pytest.approx(mu, rel=0.15)
    assert sell["alpha_per_s"] / sell["beta_per_s"] == pytest.approx(alpha / beta, abs=0.1)
    assert sell["beta_per_s"] == pytest.approx(beta, rel=0.3)
    lb, ls, imb, eb, es = hawkes.outputs(st, 1e9 + 20_000e9)
    assert ls > 0 and imb < 0 and es >= -1e-9


def test_hawkes_when_sell_burst_then_bearish_drift_observation():
    cfg = _vec(hawkes)
    st = np.zeros(1, declared.hawkes.STATE)[0]
    hawkes.init(st, cfg)
    for i in range(50):
        hawkes.on_event(st, cfg, 1e9 + i * 2e7, -1)
    z, r = hawkes.drift_observation(st, cfg, 1e9 + 50 * 2e7)
    assert z < 0 and r > 0


def _book(t_ns, mid, half=0.5, bsz=1.0, asz=1.0):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["n_bids"], ev["n_asks"], ev["exch_ts_ns"] = EV_BOOK, 1, 1, t_ns
    ev["lv"]["bid_px"][0, 0], ev["lv"]["ask_px"][0, 0] = mid - half, mid + half
    ev["lv"]["bid_sz"][0, 0], ev["lv"]["ask_sz"][0, 0] = bsz, asz
    return ev[0]


def _trade(t_ns, px, sz, side):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["exch_ts_ns"], ev["px"], ev["sz"], ev["side"] = EV_TRADE, t_ns, px, sz, side
    return ev[0]


def _kernel():
    cfg = kernel.config_vector(EST)
    st = kernel.new_states(1)[0]
    kernel.init_state(st, cfg)
    return st, cfg


def _params(st, cfg):
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(st, cfg, 0, out[0], 1)
    return out[0]


def test_regime_when_vol_triples_then_high_with_hysteresis_and_one_spike_does_not_switch():
    cfg = _vec(regime)
    st = np.zeros(1, declared.regime.STATE)[0]
    regime.init(st, cfg)
    t = 0.0

    def feed(ratio, n):
        nonlocal t
        for _ in range(n):
            t += 1e9
            regime.update(st, cfg, t, ratio * ratio * 4.0, 4.0)
    feed(1.0, 100)
    assert regime.regime(st) == regime.NORMAL
    feed(5.0, 1)  # one spike
    feed(1.0, 5)
    assert regime.regime(st) == regime.NORMAL
    feed(2.0, 10)
    assert regime.regime(st) == regime.HIGH
    feed(1.3, 20)  # below the entry (1.5) but above the exit (1.2): stays High
    assert regime.regime(st) == regime.HIGH
    feed(1.0, 10)
    assert regime.regime(st) == regime.NORMAL
    assert regime.gamma_mult(st, cfg) == 1.0


def test_microprice_when_moves_are_noise_then_falls_back_to_mid():
    st, cfg = _kernel()
    rng = np.random.default_rng(3)
    mid = 100_000.0
    for i in range(6000):  # 100 ms books for 10 minutes, imbalance unrelated to moves
        mid *= math.exp(rng.normal(0, 1e-4))
        b, a = rng.uniform(0.1, 5), rng.uniform(0.1, 5)
        kernel.on_event(st, cfg, _book(int(1e9 + i * 1e8), mid, 0.5, b, a))
    p = _params(st, cfg)
    assert p["microprice_fallback"] == 1 and p["microprice_px"] == p["mid_px"]
    assert p["microprice_r2"] < 0.01


def test_microprice_when_imbalance_predicts_move_then_learns_and_leans():
    st, cfg = _kernel()
    rng = np.random.default_rng(4)
    mid = 100_000.0
    imb_prev = 0.0
    for i in range(6000):
        mid *= math.exp((2.0 * imb_prev + rng.normal(0, 0.3)) * 1e-4)  # moves follow imbalance
        b = rng.uniform(0.1, 5)
        a = rng.uniform(0.1, 5)
        imb_prev = (b - a) / (b + a)
        kernel.on_event(st, cfg, _book(int(1e9 + i * 1e8), mid, 0.5, b, a))
    p = _params(st, cfg)
    assert p["microprice_fallback"] == 0 and p["microprice_r2"] > 0.2
    assert p["microprice_beta_book_bps"] > 0.5
    assert (p["microprice_px"] - p["mid_px"]) * p["book_imbalance"] >= 0


def test_volclock_when_cold_start_then_first_buckets_sized_from_observed_rate():
    cfg = _vec(volclock)
    st = np.zeros(1, declared.volclock.STATE)[0]
    volclock.init(st, cfg)
    rate = 2.0  # sz/s in trades of 0.2 every 0.1 s
    steady = EST.volclock.bucket_fraction * EST.volclock.window_s * rate
    for i in range(1, 200):  # 20 s
        volclock.on_trade(st, cfg, 1e9 + i * 1e8, 0.2)
    assert st["first_bucket_sz"] == pytest.approx(steady, rel=0.05)
    # The naive window (no bias correction) would have made the first bucket ~60x smaller.
    assert st["n_buckets"] == pytest.approx(rate * 20 / steady, abs=1.5)


def test_kappa_ks_when_exponential_sample_then_accepted_and_power_law_rejected():
    rng = np.random.default_rng(5)
    n, trials = 256, 40
    accepted = rejected = 0
    for _ in range(trials):
        x = np.sort(rng.exponential(2.0, n))
        d, _ = kappa.ks_exponential(x, n)
        accepted += kappa.ks_modified(d, n) < EST.kappa.ks_critical
        y = np.sort(2.0 * ((1 - rng.random(n)) ** (-1 / 1.5) - 1))  # Lomax, alpha 1.5, scale 2
        d2, mean2 = kappa.ks_exponential(y, n)
        if kappa.ks_modified(d2, n) > EST.kappa.ks_critical:
            rejected += 1
            a, s, dp = kappa.lomax_fit(y, n, mean2)
            assert dp < d2 and 0.7 < a < 3.5
    assert accepted >= 0.85 * trials  # a 5% test
    assert rejected >= 0.95 * trials


def test_kappa_when_power_law_trades_then_model_switches_and_interval_brackets():
    cfg = _vec(kappa)
    st = np.zeros(1, declared.kappa.STATE)[0]
    kappa.init(st, cfg)
    rng = np.random.default_rng(6)
    mid = 100.0
    for i in range(400):
        d_bps = 2.0 * ((1 - rng.random()) ** (-1 / 1.5) - 1)
        kappa.on_trade(st, cfg, 1e9 + i * 1e8, 1 if i % 2 else -1, mid * (1 + d_bps * 1e-4), mid, 10.0)
    kappa.cold(st, cfg)
    kappa.warm(st, cfg, 0.0)
    assert st["ks_reject"] == 1.0 and st["model"] == 1.0
    assert st["kappa_lo_per_bps"] < st["kappa_per_bps"] < st["kappa_hi_per_bps"]


def test_flow_when_neutral_then_unit_kappa_multipliers():
    assert flow.kappa_multipliers(0.0, 0.5, 0.5, 2.0) == (1.0, 1.0)


def test_flow_when_sell_pressure_then_kappa_bid_lower_and_drift_observation_bearish():
    st, cfg = _kernel()
    kernel.on_event(st, cfg, _book(int(1e9), 100.0))
    for i in range(50):
        kernel.on_event(st, cfg, _trade(int(1e9 + i * 1e8), 99.5, 1.0, -1))
    kernel.warm_tier(st, cfg, float(st["header"]["last_event_ts_ns"]))
    p = _params(st, cfg)
    assert p["kappa_mult_bid"] < 1.0 < p["kappa_mult_ask"]
    assert p["kappa_bid_per_bps"] < p["kappa_ask_per_bps"]
    z, r = flow.drift_observation(p["flow_imbalance_5s"], _vec(flow), p["kappa_per_bps"])
    assert z < 0 and r > 0
    assert p["flow_net_5s_sz_per_s"] < 0 and p["flow_volume_5s_sz_per_s"] > 0


@pytest.mark.parametrize("imb", [-5.0, -1.0, -0.3, 0.0, 0.7, 1.0, 9.0])
def test_flow_kappa_multipliers_always_bounded(imb):
    bm, am = flow.kappa_multipliers(imb, 0.5, 0.5, 2.0)
    assert 0.5 <= bm <= 2.0 and 0.5 <= am <= 2.0


def _ctx(t_ns, rate, mark=100.0, oracle=100.0, oi=1000.0):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["exch_ts_ns"], ev["aux0"] = EV_ASSET_CTX, t_ns, rate
    ev["px"], ev["aux1"], ev["sz"] = mark, oracle, oi
    return ev[0]


def test_funding_when_fewer_than_three_observations_then_no_signal_and_then_zscore():
    cfg = _vec(funding)
    st = np.zeros(1, declared.funding.STATE)[0]
    funding.init(st, cfg)
    funding.on_ctx(st, cfg, 1e9, 1e-5, 100.0, 100.0, 1.0)
    funding.on_ctx(st, cfg, 61e9, 1.2e-5, 100.0, 100.0, 1.0)
    assert not funding.warmed_up(st, cfg)
    assert funding.drift_observation(st, cfg, 0.05, 2.0)[2] is False
    assert funding.zscore(st, cfg) == 0.0
    rng = np.random.default_rng(7)
    for i in range(2, 200):
        funding.on_ctx(st, cfg, 1e9 + i * 60e9, 1e-5 + rng.normal(0, 1e-6), 100.0, 100.0, 1.0)
    assert funding.warmed_up(st, cfg)
    funding.on_ctx(st, cfg, 1e9 + 200 * 60e9, 1e-5 + 3e-6 * 3, 100.0, 100.0, 1.0)  # extreme
    assert funding.zscore(st, cfg) > 2.0
    z, r, ok = funding.drift_observation(st, cfg, 0.05, 2.0)
    assert ok and z < 0  # high funding -> bearish


def test_funding_premium_and_cost_when_mark_above_oracle():
    st, cfg = _kernel()
    for i in range(5):
        kernel.on_event(st, cfg, _ctx(int(1e9 + i * 61e9), 2e-5, mark=100.1, oracle=100.0))
    p = _params(st, cfg)
    assert p["funding_premium_bps"] == pytest.approx(10.0, rel=1e-6)
    assert p["funding_predicted_per_h"] > 0 and p["funding_cost_bps"] > 0
    assert p["funding_status"] == 1 and p["funding_n_obs"] == 5


def test_cascade_when_severity_high_then_pull_with_hold_and_resume():
    cfg = _vec(cascade)
    st = np.zeros(1, declared.cascade.STATE)[0]
    cascade.init(st, cfg)
    calm = cascade.severity_of(cfg, 1.0, 1.0, 0.0)
    assert calm == 0.0
    storm = cascade.severity_of(cfg, 30.0, 8.0, 60.0)
    assert storm > EST.cascade.pull_enter
    cascade.update(st, cfg, 1e9, storm)
    assert st["pull"] == 1.0 and cascade.tail_multiplier(st, cfg) > 2.0
    cascade.update(st, cfg, 2e9, calm)  # calm but inside the hold time
    assert st["pull"] == 1.0
    cascade.update(st, cfg, 1e9 + EST.cascade.pull_hold_s * 1e9 + 1, calm)
    assert st["pull"] == 0.0 and cascade.tail_multiplier(st, cfg) == 1.0


def test_cascade_when_price_crashes_on_volume_burst_then_kernel_pulls_quotes():
    st, cfg = _kernel()
    rng = np.random.default_rng(8)
    mid = 100_000.0
    t = int(1e9)
    for i in range(3000):  # 5 min calm, 100 ms books, a trade a second
        t += 100_000_000
        mid *= math.exp(rng.normal(0, 0.3e-4))
        kernel.on_event(st, cfg, _book(t, mid))
        if i % 10 == 0:
            kernel.on_event(st, cfg, _trade(t, mid, 0.1, 1 if rng.random() < 0.5 else -1))
    assert _params(st, cfg)["should_pull_quotes"] == 0
    for _ in range(20):  # 2 s: -1% with 200 sells
        t += 100_000_000
        mid *= 0.9995
        kernel.on_event(st, cfg, _book(t, mid))
        for _ in range(10):
            kernel.on_event(st, cfg, _trade(t, mid, 1.0, -1))
    p = _params(st, cfg)
    assert p["cascade_severity"] > 0.7 and p["should_pull_quotes"] == 1
    assert p["tail_risk_multiplier"] > 2.0
