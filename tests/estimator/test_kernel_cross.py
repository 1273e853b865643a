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

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"
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
    states = kernel.new_states(2)
    for c in range(2):
        kernel.init_state(states[c], cfg)
    _run(states, cfg, evs)
    btc, eth = (states[c]["header"]["cross"] for c in range(2))
    # ETH against BTC: correlation at the fast scale is valid and clearly positive.
    assert eth["valid"] == 1 and eth["ref_coin"] == 0
    assert 0.2 < eth["corr"][0] <= 1.0
    assert np.all(np.isfinite(eth["corr"]))
    assert np.all(np.isfinite(eth["beta"])) and eth["beta"][0] > 0.0
    # BTC is its own reference: no correlation claimed against itself.
    assert btc["valid"] == 0
    # Basis and lead-lag of ETH against the BTC stream.
    assert eth["xv_valid"] == 1 and btc["xv_valid"] == 0
    for k in ("basis_bps", "basis_z", "d_basis_bps", "lag_s", "lag_corr", "lead_bps_per_s",
              "lead_confidence"):
        assert np.isfinite(eth[k]), k
    assert -1.0 <= eth["lag_corr"] <= 1.0
    assert 0.0 <= eth["lead_confidence"] <= 1.0
