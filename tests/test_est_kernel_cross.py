"""cross_event through the kernel with two coins: the real Binance BTCUSDT and ETHUSDT
captures merged by time feed correlation, hedge ratio, basis and lead-lag."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from appliance.config import load_config
from appliance.estimator import kernel
from appliance.feed.events import concat_events, take_events
from appliance.feed.sources import open_source
from shm_layout.constants import KERNEL_STATE_WORDS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm"
COINS = ("BTC", "ETH")


@njit(cache=True)
def _run(states, cfg, evs):
    for i in range(evs.shape[0]):
        ev = evs[i]
        c = ev.coin
        if c < states.shape[0]:
            kernel.on_event(states[c], cfg, ev)
            kernel.cross_event(states, cfg, ev)


def _merged() -> np.ndarray:
    parts = []
    for name in ("btcusdt_20240808.gz", "ethusdt_20240808.gz"):
        src = open_source(f"replay:{DATA / name}", list(COINS))
        parts.extend(src.chunks(4096))
    ev = concat_events(parts)
    return take_events(ev, np.argsort(ev["exch_ts_ns"], kind="stable"))


@pytest.mark.skipif(not (DATA / "ethusdt_20240808.gz").exists(), reason="Binance captures missing")
def test_cross_event_when_btc_and_eth_merged_then_correlation_basis_and_lead_lag_valid():
    evs = _merged()
    assert set(np.unique(evs["coin"])) == {0, 1}
    assert np.all(np.diff(evs["exch_ts_ns"]) >= 0)
    est = load_config().estimator
    est = dataclasses.replace(est, tiers=dataclasses.replace(
        est.tiers, basis_pairs=("ETH=BTC",), corr_reference_coin="BTC"))
    cfg = kernel.config_vector(est, COINS)
    states = np.zeros((2, KERNEL_STATE_WORDS))
    for c in range(2):
        kernel.init_state(states[c], cfg)
    _run(states, cfg, evs)
    btc, eth = (states[c, kernel.H_CROSS:kernel.H_CROSS + kernel.N_CROSS] for c in range(2))
    # ETH against BTC: correlation at the fast scale is valid and clearly positive.
    assert eth[kernel.X_VALID] == 1.0 and eth[kernel.X_REF] == 0.0
    assert 0.2 < eth[kernel.X_CORR] <= 1.0
    assert np.all(np.isfinite(eth[kernel.X_CORR:kernel.X_CORR + 3]))
    assert np.all(np.isfinite(eth[kernel.X_BETA:kernel.X_BETA + 3])) and eth[kernel.X_BETA] > 0.0
    # BTC is its own reference: no correlation claimed against itself.
    assert btc[kernel.X_VALID] == 0.0
    # Basis and lead-lag of ETH against the BTC stream.
    assert eth[kernel.X_XV_VALID] == 1.0 and btc[kernel.X_XV_VALID] == 0.0
    for k in (kernel.X_BASIS, kernel.X_BASIS_Z, kernel.X_D_BASIS, kernel.X_LAG_S, kernel.X_LAG_CORR,
              kernel.X_LEAD, kernel.X_LEAD_CONF):
        assert np.isfinite(eth[k]), k
    assert -1.0 <= eth[kernel.X_LAG_CORR] <= 1.0
    assert 0.0 <= eth[kernel.X_LEAD_CONF] <= 1.0
