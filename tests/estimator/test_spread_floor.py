"""The spread floor (issue 16): the lowest spread held over the window, so one wide sample
does not read as liquidity withdrawn, while a book that stays wide does."""

import numpy as np

from appliance.estimator import spread as sp
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import spread as spread_state
from shm_layout.estimators.spread import N_RECENT, SpreadConfig

MS = 1_000_000
T0 = 1_700_000_000_000 * MS  # an epoch time, as the kernel sees


def _sp(**over):
    cfg = np.array(sp.config_values(EstimatorConfig(spread=SpreadConfig(**over))))
    st = np.zeros(1, spread_state.STATE)[0]
    sp.init(st, cfg)
    return st, cfg


def _run(st, cfg, spreads_bps, t0=T0, step_ms=100):
    for i, s in enumerate(spreads_bps):
        sp.warm(st, cfg, t0 + i * step_ms * MS, s)
    return t0 + (len(spreads_bps) - 1) * step_ms * MS


def test_floor_when_one_sample_is_wide_then_it_stays_at_the_held_spread():
    st, cfg = _sp(floor_window_ms=300.0)
    _run(st, cfg, [0.1] * 20 + [2.0])  # a 20x blip on the last warm tick
    assert st["floor_bps"] == 0.1
    assert st["fair_bps"] < 0.2  # the fair spread is the tight one


def test_floor_when_the_book_stays_wide_past_the_window_then_it_rises_to_it():
    st, cfg = _sp(floor_window_ms=300.0)
    _run(st, cfg, [0.1] * 20 + [2.0] * 3)  # wide for 200 ms: the 0.1 of 300 ms ago still counts
    assert st["floor_bps"] == 0.1
    _run(st, cfg, [0.1] * 20 + [2.0] * 5)  # wide for 400 ms: every sample in the window is
    assert st["floor_bps"] == 2.0


def test_floor_when_the_window_is_zero_then_it_is_the_last_spread():
    st, cfg = _sp(floor_window_ms=0.0)
    _run(st, cfg, [0.1] * 20 + [2.0])
    assert st["floor_bps"] == 2.0


def test_floor_when_the_window_outreaches_the_ring_then_the_ring_bounds_it():
    """At 100 ms warm ticks the ring holds 1.6 s: a 10 s window sees only that much."""
    st, cfg = _sp(floor_window_ms=10_000.0)
    _run(st, cfg, [0.1] * 5 + [2.0] * N_RECENT)
    assert st["floor_bps"] == 2.0
    _run(st, cfg, [0.1] * 5 + [2.0] * (N_RECENT - 1))
    assert st["floor_bps"] == 0.1
