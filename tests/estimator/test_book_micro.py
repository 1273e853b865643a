"""Book microstructure: multi-depth imbalance, its rate of change, pressure gradient, sweeps."""

import math

import numpy as np

from appliance.estimator import book_micro as bm
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import book_micro as book_state
from shm_layout.estimators.book_micro import BookMicroConfig

S = 1_000_000_000
MS = 1_000_000


def _bm(**over):
    cfg = np.array(bm.config_values(EstimatorConfig(book=BookMicroConfig(**over))))
    st = np.zeros(1, book_state.STATE)[0]
    bm.init(st, cfg)
    return st, cfg


def _side(px, sz):
    p, s = np.zeros(20), np.zeros(20)
    p[: len(px)], s[: len(sz)] = px, sz
    return p, s


def _book(st, cfg, t, bids, asks):
    bp, bs = _side([b[0] for b in bids], [b[1] for b in bids])
    ap, as_ = _side([a[0] for a in asks], [a[1] for a in asks])
    bm.on_book(st, cfg, t, bp, bs, ap, as_, len(bids), len(asks))


def test_imbalance_when_book_shape_varies_with_depth_then_known_answers():
    st, cfg = _bm()
    # mid 100: levels at 5, 20, 40 bps from mid
    bids = [(99.95, 2.0), (99.8, 3.0), (99.6, 5.0)]
    _book(st, cfg, 1 * S, bids, [(100.05, 1.0), (100.2, 1.0), (100.4, 10.0)])
    assert math.isclose(bm.bim(st, 0), (2 - 1) / 3)
    assert math.isclose(bm.bim(st, 1), (5 - 2) / 7)
    assert math.isclose(bm.bim(st, 2), (10 - 12) / 22)
    assert math.isclose(bm.pressure_gradient(st), (2 - 1) / 3 - (10 - 12) / 22)
    assert bm.bim(st, 0) != bm.bim(st, 2)


def test_dbim_when_bids_deteriorate_then_negative_and_bids_thinning():
    st, cfg = _bm()
    for i in range(20):
        bid_sz = 10.0 * (0.85**i)
        _book(st, cfg, (i + 1) * 200 * MS, [(99.95, bid_sz), (99.9, bid_sz)], [(100.05, 5.0), (100.1, 5.0)])
    assert bm.dbim_per_s(st, 0) < -0.1
    assert bm.thinning_per_s(st) < -0.1


def test_dbim_when_rate_is_constant_then_smoothed_rate_approaches_it():
    st, cfg = _bm(delta_halflife_s=1.0)
    # BIM(10) = x rises by 0.001 per 10 ms (0.1 per second) for 8 half-lives
    for i in range(800):
        x = 0.001 * i
        _book(st, cfg, (i + 1) * 10 * MS, [(99.95, 1.0 + x)], [(100.05, 1.0 - x)])
    assert abs(bm.dbim_per_s(st, 0) - 0.1) < 0.005


def test_sweep_when_sellers_walk_four_levels_in_one_second_then_detected_and_bearish():
    st, cfg = _bm()
    t = 10 * S
    for k, px in enumerate((100.0, 99.9, 99.8, 99.7)):
        bm.on_trade(st, cfg, t + k * 200 * MS, px, 1.0, -1.0)
    now = t + 1 * S
    assert bm.sweep_detected(st, cfg, now, -1.0) == 1.0
    assert bm.sweep_detected(st, cfg, now, 1.0) == 0.0
    assert bm.sweep_score(st, cfg, t + 600 * MS, -1.0) == 4.0
    z, r = np.zeros(4), np.zeros(4)
    bm.drift_observations(st, cfg, now, 0.0, z, r)
    assert z[3] < 0.0 and math.isfinite(r[3])
    assert not math.isfinite(r[2])  # no position: the gradient observation is skipped
    assert bm.sweep_detected(st, cfg, now + 30 * S, -1.0) == 0.0  # decays


def test_sweep_when_trades_repeat_one_price_or_spread_out_then_not_detected():
    st, cfg = _bm()
    for k in range(10):
        bm.on_trade(st, cfg, 10 * S + k * 100 * MS, 100.0, 1.0, 1.0)
    for k, px in enumerate((100.1, 100.2, 100.3)):
        bm.on_trade(st, cfg, 20 * S + k * 4 * S, px, 1.0, 1.0)  # too slow for a sweep
    assert bm.sweep_detected(st, cfg, 29 * S, 1.0) == 0.0
    assert st["bursts"][0]["n_sweeps"] == 0
