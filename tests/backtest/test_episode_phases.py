"""proof_figures.markout_split_by_phase: known answers on constructed fills (issue 16)."""

import numpy as np

from appliance.backtest import proof_figures as pf
from shm_layout.records import FILL_EVENT

S = 1_000_000_000
ORIGIN = 1_700_000_000 * S


def _fills(times_s):
    f = np.zeros(len(times_s), FILL_EVENT)
    f["ts_ns"] = [ORIGIN + int(t * S) for t in times_s]
    return f


def test_split_when_fills_around_two_episodes_then_each_counted_in_its_phase():
    episodes = [(100.0, 105.0, 107.0), (130.0, 135.0, 137.0)]
    #          lead   move   after_10s  after_10_30s  other  2nd lead (its after_10_30s too)
    times = [101.0, 106.0, 110.0, 120.0, 50.0, 131.0, 200.0]
    mk = np.array([[-5.0], [3.0], [1.0], [-9.0], [0.0], [-4.5], [np.nan]])
    split = pf.markout_split_by_phase(_fills(times), mk, 0, 4.0, ORIGIN, episodes)
    assert split == {"lead": [2, 0], "move": [0, 1], "after_10s": [0, 1],
                     "after_10_30s": [1, 0], "other": [0, 1]}


def test_split_when_no_fills_then_zeros():
    split = pf.markout_split_by_phase(_fills([]), np.zeros((0, 1)), 0, 4.0, ORIGIN, [(1.0, 2.0, 3.0)])
    assert all(v == [0, 0] for v in split.values())
