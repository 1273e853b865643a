"""The full estimator stack on the real Binance BTCUSDT capture: every field finite and plausible."""

import math
from pathlib import Path

import numpy as np
import pytest

from appliance.config import load_config
from appliance.estimator import kernel
from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from shm_layout import records
from shm_layout.constants import EST_OFF, EST_VALID, EST_WARMING, EV_BOOK

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BTCUSDT = DATA / "binance_usdm" / "btcusdt_20240808.gz"


def test_replay_when_real_btcusdt_then_every_field_finite_and_plausible():
    if not BTCUSDT.exists():
        pytest.skip(f"real capture missing: {BTCUSDT}")
    cfg = kernel.config_vector(load_config().estimator)
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    evs = concat_events(list(open_source(f"replay:{BTCUSDT}", ["BTC"]).chunks(65536)))
    for ev in evs:
        kernel.on_event(state, cfg, ev)
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(state, cfg, 0, out[0], 1)
    p = out[0]
    for name in p.dtype.names:
        assert np.all(np.isfinite(p[name])), name
    assert p["valid"] == 1 and p["params_version"] == 2
    for f in ("vol_status", "regime_status", "volclock_status", "kappa_status", "flow_status",
              "hawkes_status", "spread_status", "cascade_status", "book_status", "drift_status"):
        assert p[f] == EST_VALID, f
    assert p["funding_status"] == EST_WARMING  # Binance capture: no funding contexts
    assert p["corr_status"] == EST_OFF and p["basis_status"] == EST_OFF  # one coin, no pair
    books = evs[evs["kind"] == EV_BOOK]
    t = books["exch_ts_ns"]
    m = 0.5 * (books["lv"]["bid_px"][:, 0] + books["lv"]["ask_px"][:, 0])
    grid = np.arange(t[0], t[-1], 1_000_000_000)
    realized = np.std(np.diff(np.log(m[np.searchsorted(t, grid, side="right") - 1]))) * 1e4
    for f in ("sigma_clean_bps_per_sqrt_s", "sigma_total_bps_per_sqrt_s",
              "sigma_effective_bps_per_sqrt_s", "sigma_30s_bps_per_sqrt_s", "sigma_300s_bps_per_sqrt_s"):
        assert realized / 3 < p[f] < realized * 3, (f, p[f], realized)
    assert 0.2 < p["vol_term_ratio"] < 5 and -3 < p["excess_kurtosis"] < 100
    assert p["volatility_regime"] in (0, 1, 2, 3) and 0.5 <= p["gamma_multiplier"] <= 3
    assert p["kappa_per_bps"] > 0 and p["kappa_lo_per_bps"] <= p["kappa_per_bps"] <= p["kappa_hi_per_bps"]
    assert 0.5 <= p["kappa_mult_bid"] <= 2 and 0.5 <= p["kappa_mult_ask"] <= 2
    assert abs(p["microprice_px"] / p["mid_px"] - 1) * 1e4 <= 50
    for h in ("1s", "5s", "30s", "300s"):
        assert -1 <= p[f"flow_imbalance_{h}"] <= 1 and p[f"flow_volume_{h}_sz_per_s"] >= 0
    assert p["flow_volume_300s_sz_per_s"] > 0.1  # BTCUSDT trades several BTC a second
    assert p["hawkes_buy_intensity_per_s"] > 0 and p["hawkes_sell_intensity_per_s"] > 0
    assert 0 < p["hawkes_alpha_buy_per_s"] / p["hawkes_beta_buy_per_s"] < 1
    assert p["volclock_buckets"] > 10 and p["volclock_bucket_sz"] > 0
    assert 0 <= p["spread_percentile"] <= 1 and 0 < p["fair_spread_bps"] < 5
    assert 0 <= p["cascade_severity"] <= 1 and 1 <= p["tail_risk_multiplier"] <= 3
    assert -1 <= p["bim_10bps"] <= 1 and math.isfinite(p["drift_bps_per_s"])
