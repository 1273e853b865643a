"""The spread floor (issue 16): the lowest spread held over the window, so one wide sample
does not read as liquidity withdrawn, while a book that stays wide does."""

import numpy as np
import pytest

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


def _floor_after(spreads_bps, step_ms=100, **over):
    """The floor after one warm sample per step_ms, from a fresh state."""
    st, cfg = _sp(**over)
    for i, s in enumerate(spreads_bps):
        sp.warm(st, cfg, T0 + i * step_ms * MS, s)
    return st


def test_floor_when_one_sample_is_wide_then_it_stays_at_the_held_spread():
    st = _floor_after([0.1] * 20 + [2.0], floor_window_ms=300.0)  # a 20x blip, last warm tick
    assert st["floor_bps"] == 0.1
    assert st["fair_bps"] < 0.2  # the fair spread is the tight one


def test_floor_when_the_book_stays_wide_past_the_window_then_it_rises_to_it():
    # wide for 200 ms: the 0.1 sampled 300 ms ago is still in the window
    assert _floor_after([0.1] * 20 + [2.0] * 3, floor_window_ms=300.0)["floor_bps"] == 0.1
    # wide for 400 ms: every sample in the window is wide
    assert _floor_after([0.1] * 20 + [2.0] * 5, floor_window_ms=300.0)["floor_bps"] == 2.0
    # ... and back to tight on the next sample
    assert _floor_after([0.1] * 20 + [2.0] * 5 + [0.1], floor_window_ms=300.0)["floor_bps"] == 0.1


def test_floor_when_the_window_is_zero_then_it_is_the_last_spread():
    assert _floor_after([0.1] * 20 + [2.0], floor_window_ms=0.0)["floor_bps"] == 2.0


def test_floor_when_the_window_outreaches_the_ring_then_the_ring_bounds_it():
    """At 100 ms warm ticks the ring holds 1.6 s: a 10 s window sees only that much."""
    assert _floor_after([0.1] * 5 + [2.0] * N_RECENT, floor_window_ms=10_000.0)["floor_bps"] == 2.0
    assert _floor_after([0.1] * 5 + [2.0] * (N_RECENT - 1), floor_window_ms=10_000.0)["floor_bps"] == 0.1


def test_floor_when_the_window_is_negative_then_a_clear_error():
    with pytest.raises(ValueError, match="floor_window_ms"):
        _sp(floor_window_ms=-1.0)
