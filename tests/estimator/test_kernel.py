import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from appliance.config import load_config
from appliance.estimator import flow, kernel
from appliance.feed.sources import open_source
from shm_layout import records
from shm_layout.constants import EV_BOOK, EV_TRADE
from shm_layout.estimators import ESTIMATOR_STATE

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BTCUSDT = DATA / "binance_usdm" / "btcusdt_20240808.gz"


def _cfg():
    return kernel.config_vector(load_config().estimator)


def _book_event(t_ns, mid, half=0.5, sz=None):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["n_bids"], ev["n_asks"], ev["exch_ts_ns"] = EV_BOOK, 1, 1, t_ns
    ev["lv"]["bid_px"][0, 0], ev["lv"]["ask_px"][0, 0] = mid - half, mid + half
    ev["lv"]["bid_sz"][0, 0], ev["lv"]["ask_sz"][0, 0] = (3.0, 1.0) if sz is None else (sz, sz)
    return ev[0]


def _run_path(mids, dt_ns=1_000_000_000):
    cfg = _cfg()
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    for i, m in enumerate(mids):
        kernel.on_event(state, cfg, _book_event((i + 1) * dt_ns, m))
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(state, cfg, 0, out[0], 1)
    return out[0]


def test_volatility_when_one_jump_then_bipower_ignores_it_and_realized_sees_it():
    rng = np.random.default_rng(1)
    r_bps = rng.normal(0, 2.0, 400)  # 2 bps per 1 s sample
    r_bps[300] += 80.0  # one 80 bps jump
    mids = 100_000.0 * np.exp(np.cumsum(r_bps) * 1e-4)
    p = _run_path(mids)
    assert p["valid"] == 1
    assert p["sigma_clean_bps_per_sqrt_s"] == pytest.approx(2.0, rel=0.35)
    assert p["sigma_total_bps_per_sqrt_s"] > 2.5 * p["sigma_clean_bps_per_sqrt_s"]


def test_microprice_when_bid_heavier_then_weighted_mid_above_mid_and_untrained_microprice_is_mid():
    p = _run_path([100.0] * 10)
    assert p["best_bid_px"] < p["mid_px"] < p["weighted_mid_px"] < p["best_ask_px"]
    assert p["book_imbalance"] == pytest.approx(0.5)
    assert p["microprice_fallback"] == 1 and p["microprice_px"] == p["mid_px"]


def test_trade_flow_when_only_buys_then_imbalance_one():
    cfg = _cfg()
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    kernel.on_event(state, cfg, _book_event(1, 100.0))
    for i in range(20):
        ev = np.zeros(1, records.MD_EVENT)
        ev["kind"], ev["side"], ev["px"], ev["sz"] = EV_TRADE, 1, 100.5, 1.0
        ev["exch_ts_ns"] = 1 + i * 100_000_000
        kernel.on_event(state, cfg, ev[0])
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(state, cfg, 0, out[0], 1)
    assert out[0]["trade_flow_imbalance"] == pytest.approx(1.0)
    assert out[0]["trade_rate_per_s"] > 0


def test_replay_when_real_btcusdt_capture_then_finite_plausible_params():
    if not BTCUSDT.exists():
        pytest.skip(f"real capture missing: {BTCUSDT}")
    cfg = _cfg()
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    mids = []
    src = open_source(f"replay:{BTCUSDT}", ["BTC"])
    for chunk in src.chunks(4096):
        for ev in chunk:
            kernel.on_event(state, cfg, ev)
            if ev["kind"] == EV_BOOK:
                mids.append((ev["exch_ts_ns"], 0.5 * (ev["lv"]["bid_px"][0] + ev["lv"]["ask_px"][0])))
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(state, cfg, 0, out[0], 1)
    p = out[0]
    for name in p.dtype.names:
        if p.dtype.fields[name][0].kind == "f":
            assert math.isfinite(p[name]), name
    assert p["valid"] == 1 and 50_000 < p["mid_px"] < 80_000
    assert 0 < p["spread_bps"] < 5 and p["tick_size_px"] == pytest.approx(0.1)
    # Independent realized volatility: 1 s returns of the book mid over the whole capture.
    t = np.array([m[0] for m in mids], dtype=np.int64)
    m = np.array([m[1] for m in mids])
    grid = np.arange(t[0], t[-1], 1_000_000_000)
    sampled = m[np.searchsorted(t, grid, side="right") - 1]
    realized = np.std(np.diff(np.log(sampled))) * 1e4
    assert realized / 3 < p["sigma_clean_bps_per_sqrt_s"] < realized * 3


def test_init_state_when_state_holds_garbage_then_every_registered_estimator_starts_cold():
    # init_state walks the registry: an estimator left out would keep the garbage.
    cfg = kernel.config_vector(load_config().estimator)
    clean, dirty = kernel.new_states(1), kernel.new_states(1)
    dirty.view(np.uint8)[:] = 0x5A
    kernel.init_state(clean[0], cfg)
    kernel.init_state(dirty[0], cfg)
    for name in ESTIMATOR_STATE.names:
        if name == "header":  # the fill queue's slots past n_fills_queued are never read
            h_clean, h_dirty = clean[0]["header"], dirty[0]["header"]
            assert h_dirty["n_fills_queued"] == 0
            for f in ESTIMATOR_STATE["header"].names:
                if f != "fills_queued":
                    assert h_clean[f].tobytes() == h_dirty[f].tobytes(), f"header.{f}"
            continue
        assert clean[0][name].tobytes() == dirty[0][name].tobytes(), name


def _drift_after_flow(**drift_over) -> float:
    """The drift after five minutes of two sells to one buy, then 8 s of buys only, with
    the flow imbalances its only sources (every other drift and book scale 0, a flat book)."""
    est = load_config().estimator
    off = {f: 0.0 for f in ("alpha_fill", "alpha_funding", "alpha_hawkes", "alpha_fill_size",
                            "alpha_basis", "alpha_lead")}
    est = dataclasses.replace(
        est, drift=dataclasses.replace(est.drift, **{**off, **drift_over}),
        book=dataclasses.replace(est.book, alpha_bim=0.0, alpha_dbim=0.0, alpha_bpg=0.0,
                                 alpha_sweep=0.0))
    cfg = kernel.config_vector(est)
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    t = 0
    for i in range(3080):  # 308 s in 100 ms steps
        t = (i + 1) * 100_000_000
        kernel.on_event(state, cfg, _book_event(t, 100.0, sz=1.0))
        side = (-1 if i % 3 else 1) if i < 3000 else 1
        ev = np.zeros(1, records.MD_EVENT)
        ev["kind"], ev["side"], ev["px"], ev["sz"], ev["exch_ts_ns"] = EV_TRADE, side, 100.0, 1.0, t
        kernel.on_event(state, cfg, ev[0])
    out = np.zeros(1, records.MARKET_PARAMS)
    kernel.write_params(state, cfg, 0, out[0], t)
    return float(out[0]["drift_bps_per_s"])


def test_drift_when_minutes_of_selling_then_a_buy_burst_then_the_slow_flow_still_reads_selling():
    # issue 16: the drift observes the flow imbalance at a fast and a slow horizon; over
    # 300 s (the default slow one) a selloff's persistent selling outweighs a short burst
    # of buys, which the fast one alone follows
    assert load_config().estimator.drift.flow_slow_horizon_s == 300.0
    both, fast_only = _drift_after_flow(), _drift_after_flow(alpha_flow_slow=0.0)
    assert both < 0.0 < fast_only


def test_flow_horizon_slot_when_built_once_then_the_same_horizon_the_kernel_search_picks():
    flow_cfg = _cfg()["flow"]
    for h in (0.2, 1.0, 3.0, 5.0, 17.5, 30.0, 120.0, 300.0, 3600.0):
        assert flow.horizon_slot(h) == flow.horizon_index(flow_cfg, h), h
