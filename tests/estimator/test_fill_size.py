"""Fill-size shift (seed 003 phase 8): unusually large fills on our bid are bearish."""

import numpy as np

from appliance.config import load_config
from appliance.estimator import fill_size, kernel
from shm_layout import records
from shm_layout.constants import EV_BOOK
from shm_layout.estimators import fill_size as fill_size_state


def test_fill_size_when_equal_sizes_then_zero_and_large_bids_then_positive_bid_z():
    st = np.zeros(1, fill_size_state.STATE)[0]
    fill_size.init(st)
    for i in range(40):
        fill_size.on_fill(st, 1 if i % 2 else -1, 0.01 * (1.0 + 0.1 * (i % 3)))
    assert abs(fill_size.zscore(st, 1)) < 1.0 and abs(fill_size.zscore(st, -1)) < 1.0
    for _ in range(5):
        fill_size.on_fill(st, 1, 0.1)  # ten times the usual size, on our bid
    assert fill_size.zscore(st, 1) > 1.5
    assert fill_size.zscore(st, -1) < 1.0


def _book(t_ns: int) -> np.ndarray:
    ev = np.zeros(1, records.MD_EVENT)
    e = ev[0]
    e["kind"], e["exch_ts_ns"], e["n_bids"], e["n_asks"] = EV_BOOK, t_ns, 5, 5
    e["lv"]["bid_px"][:5] = 100.0 - 0.01 * np.arange(5)
    e["lv"]["ask_px"][:5] = 100.01 + 0.01 * np.arange(5)
    e["lv"]["bid_sz"][:5] = e["lv"]["ask_sz"][:5] = 1.0
    e["lv"]["bid_n"][:5] = e["lv"]["ask_n"][:5] = 3
    return ev


def _drift_after(big_bid_fills: bool) -> float:
    cfg = kernel.config_vector(load_config().estimator)
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    fill = np.zeros(1, records.FILL_EVENT)
    t = 1_000_000_000
    for i in range(60):
        f = fill[0]
        side = 1 if i % 2 else -1
        f["ts_ns"], f["side"], f["sz"], f["mid_px"] = t, side, 0.01, 100.005
        f["px"] = 100.0 if side > 0 else 100.01
        if big_bid_fills and i >= 50 and side > 0:
            f["sz"] = 0.2
        kernel.on_fill(state, f)
        kernel.on_event(state, cfg, _book(t)[0])
        t += 200_000_000  # two warm ticks a fill
    return state["drift"]["mu_bps_per_s"], state["fill_size"]


def test_kernel_when_our_bid_fills_grow_large_then_warm_tier_drift_more_bearish():
    base, _ = _drift_after(False)
    shifted, fs = _drift_after(True)
    assert fill_size.zscore(fs, 1) > 1.5
    assert shifted < base
