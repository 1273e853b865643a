"""MarketParams along a recorded market: the estimator kernel replayed over the events.

The fits that need what the estimators published at a given time (the excess
kurtosis behind the AS tail term, the regime's volatility ratio, the Kalman drift)
read it from here: the live estimator kernel (``appliance.estimator.kernel``) with a
given config, run over the events, with a MarketParams snapshot every
``sample_ms`` of venue time. No fills: what the market alone makes of it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from appliance.config import Config
from appliance.estimator import kernel as estimator
from shm_layout.records import MARKET_PARAMS


@njit(cache=True)
def _replay(events, state, cfg, sample_ns, out):
    n_out = 0
    next_ns = 0
    for i in range(events.shape[0]):
        ev = events[i]
        estimator.on_event(state, cfg, ev)
        t = state.header.last_event_ts_ns
        if t >= next_ns and n_out < out.shape[0]:
            estimator.write_params(state, cfg, 0, out[n_out], 0)
            n_out += 1
            next_ns = t + sample_ns
    return n_out


def params_series(events: np.ndarray, cfg: Config, sample_ms: int = 100) -> np.ndarray:
    """MarketParams records (MARKET_PARAMS), one per ``sample_ms`` of venue time at
    most, from a cold estimator run over ``events`` with ``cfg.estimator``."""
    est_cfg = estimator.config_vector(cfg.estimator)
    state = estimator.new_states(1)
    estimator.init_state(state[0], est_cfg)
    if events.shape[0] == 0:
        return np.zeros(0, MARKET_PARAMS)
    t = events["exch_ts_ns"]
    span_ns = int(t.max() - t[t > 0].min()) if (t > 0).any() else 0
    cap = span_ns // (sample_ms * 1_000_000) + 2
    out = np.zeros(int(cap), MARKET_PARAMS)
    n = _replay(events, state[0], est_cfg, sample_ms * 1_000_000, out)
    return out[:n]


def at_times(series: np.ndarray, t_s: np.ndarray, field: str) -> np.ndarray:
    """``field`` of the last snapshot at or before each time (s, venue); NaN before."""
    ts = series["event_ts_ns"].astype(np.float64) * 1e-9
    k = np.searchsorted(ts, np.asarray(t_s, np.float64), side="right") - 1
    vals = series[field].astype(np.float64)
    return np.where(k >= 0, vals[np.maximum(k, 0)], np.nan)
