"""Queue position: P(fill) = P(touch) x P(execute | touch), learnt from outcomes and counts."""

import math

import numpy as np

from appliance.estimator import queue_position as qp
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import queue_position as queue_state
from shm_layout.estimators.queue_position import QueueConfig

S = 1_000_000_000


def _q(**over):
    cfg = np.array(qp.config_values(EstimatorConfig(queue=QueueConfig(**over))))
    st = np.zeros(1, queue_state.STATE)[0]
    qp.init(st, cfg)
    return st, cfg


def _book(bid_px, bid_sz, bid_n, ask_px, ask_sz, ask_n):
    def arr(v, dt):
        a = np.zeros(20, dt)
        a[: len(v)] = v
        return a

    return (arr(bid_px, "f8"), arr(bid_sz, "f8"), arr(bid_n, "i4"), arr(ask_px, "f8"), arr(ask_sz, "f8"),
            arr(ask_n, "i4"), len(bid_px), len(ask_px))


def test_fill_prob_when_more_queue_ahead_or_deeper_then_lower():
    st, cfg = _q()
    qp.on_trade(st, cfg, 1 * S, 100.0, 5.0, -1.0)  # some selling volume against bids
    ps = [qp.fill_prob(st, cfg, 1.0, 2.0, q, 3.0, 5.0) for q in (0.0, 0.5, 1.0, 2.0, 5.0)]
    assert all(a > b for a, b in zip(ps, ps[1:], strict=False))
    assert math.isclose(ps[0], qp.p_touch(2.0, 3.0, 5.0))
    depths = [qp.fill_prob(st, cfg, 1.0, d, 0.5, 3.0, 5.0) for d in (0.0, 2.0, 5.0, 10.0)]
    assert all(a > b for a, b in zip(depths, depths[1:], strict=False))
    assert math.isclose(qp.p_touch(0.0, 3.0, 5.0), 1.0)
    # 2 Phi(-d / (sigma sqrt T)) at d = sigma sqrt T is 2 Phi(-1)
    assert math.isclose(qp.p_touch(3.0 * math.sqrt(5.0), 3.0, 5.0), 0.31731050786291415, rel_tol=1e-12)
    r = qp.fill_rate_per_s(st, cfg, 1.0, 2.0, 0.5, 3.0, 5.0)
    assert math.isclose(1 - math.exp(-r * 5.0), qp.fill_prob(st, cfg, 1.0, 2.0, 0.5, 3.0, 5.0))


def test_exec_scale_when_outcomes_from_known_decay_then_learns_it():
    rng = np.random.default_rng(2)
    st, cfg = _q()
    k_true, vol_rate, horizon = 3.0, 0.4, 5.0
    for _ in range(20000):
        q = rng.exponential(1.0)
        pt = rng.uniform(0.3, 1.0)
        p = pt * math.exp(-k_true * q / (vol_rate * horizon))
        qp.learn_outcome(st, cfg, q, vol_rate, pt, 1.0 if rng.random() < p else 0.0)
    assert abs(qp.exec_scale(st) - k_true) / k_true < 0.2
    assert qp.n_outcomes(st) == 20000
    assert qp.brier_ewma(st) < 0.25


def test_exec_scale_when_pushed_hard_then_stays_in_bounds():
    st, cfg = _q()
    for _ in range(5000):
        qp.learn_outcome(st, cfg, 100.0, 0.01, 1.0, 1.0)  # always filled despite a huge queue
    assert math.isclose(qp.exec_scale(st), 0.05)


def test_book_counts_when_orders_leave_unchanged_levels_then_cancel_rate_learnt():
    st, cfg = _q()
    n = 10
    for i in range(60):  # every second 2 of 10 orders at each level leave, 2 new join
        b = _book([99.9, 99.8], [5.0, 5.0], [n, n], [100.1, 100.2], [5.0, 5.0], [n, n])
        qp.on_book(st, cfg, (i + 1) * S, *b)
        b = _book([99.9, 99.8], [4.0, 4.0], [n - 2, n - 2], [100.1, 100.2], [4.0, 4.0], [n - 2, n - 2])
        qp.on_book(st, cfg, (i + 1) * S + S // 2, *b)
    # half the steps lose 2/10 in 0.5 s (0.4/s), half gain: EWMA ~ 0.2/s
    assert 0.15 < qp.cancel_rate_per_s(st) < 0.25


def test_queue_ahead_when_trades_at_our_price_and_cancels_ahead_then_shrinks():
    st, cfg = _q()
    qp.on_book(st, cfg, 1 * S, *_book([99.9], [10.0], [10], [100.1], [10.0], [10]))
    qp.place(st, cfg, 0, 1.0, 99.9, 10.0, 1 * S, 2.0, 100.0)
    qp.on_trade(st, cfg, 2 * S, 99.9, 3.0, -1.0)
    assert math.isclose(qp.queue_ahead_sz(st, 0), 7.0)
    qp.on_trade(st, cfg, 2 * S, 100.1, 3.0, 1.0)  # buys do not touch our bid
    assert math.isclose(qp.queue_ahead_sz(st, 0), 7.0)
    qp.on_book(st, cfg, 3 * S, *_book([99.9], [6.0], [5], [100.1], [10.0], [10]))  # half the orders left
    assert math.isclose(qp.queue_ahead_sz(st, 0), 3.5)
    qp.on_trade(st, cfg, 4 * S, 99.8, 1.0, -1.0)  # traded through
    assert qp.queue_ahead_sz(st, 0) == 0.0


def test_outcomes_when_filled_in_time_or_expired_then_each_learnt_once_and_cancel_censored():
    st, cfg = _q()
    qp.on_trade(st, cfg, 1 * S, 99.9, 2.0, -1.0)
    qp.place(st, cfg, 0, 1.0, 99.9, 1.0, 1 * S, 2.0, 100.0)
    qp.place(st, cfg, 1, 1.0, 99.8, 1.0, 1 * S, 2.0, 100.0)
    qp.place(st, cfg, 2, -1.0, 100.1, 1.0, 1 * S, 2.0, 100.0)
    qp.on_own_fill(st, cfg, 0, 2 * S)
    k_after_fill = qp.exec_scale(st)
    assert k_after_fill < 1.0  # a fill behind a queue says the queue moves faster
    qp.cancel(st, 2)
    qp.on_book(st, cfg, 10 * S, *_book([99.9, 99.8], [1.0, 1.0], [1, 1], [100.1], [1.0], [1]))
    assert qp.n_outcomes(st) == 2  # the fill and the expired order 1; the cancel taught nothing
    assert qp.exec_scale(st) > k_after_fill
    qp.on_book(st, cfg, 20 * S, *_book([99.9, 99.8], [1.0, 1.0], [1, 1], [100.1], [1.0], [1]))
    assert qp.n_outcomes(st) == 2


def test_should_refresh_when_small_move_keep_queue_else_refresh():
    st, cfg = _q()
    qp.on_trade(st, cfg, 1 * S, 99.9, 2.0, -1.0)
    # 0.5 bps closer but to the back of a big queue: keep the place
    assert qp.should_refresh(st, cfg, 1.0, 3.0, 0.2, 2.5, 5.0, 2.0) == 0.0
    # target far away: move regardless of queue value
    assert qp.should_refresh(st, cfg, 1.0, 3.0, 0.2, 12.0, 0.0, 2.0) == 1.0
    # a much better fill chance nearby: move
    assert qp.should_refresh(st, cfg, 1.0, 4.0, 8.0, 1.0, 0.0, 2.0) == 1.0
