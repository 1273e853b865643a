"""The backtester: report, determinism, real captures, limits, and the kernels it runs."""

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from appliance.backtest import PresetError, Simulation, apply_preset, run_backtest
from appliance.backtest.load import load_events
from appliance.backtest.report import MARKOUT_HORIZONS_S, fills_digest
from appliance.config import load_config
from shm_layout.backtest_records import N_PROF_KINDS, PROF_ESTIMATOR, PROF_KIND_NAMES, PROF_QUOTE

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BINANCE = DATA / "binance_usdm" / "btcusdt_20240808.gz"
HYPERLIQUID = DATA / "hyperliquid" / "btc_ws_20250126.gz"

REPORT_KEYS = {
    "events": int, "seconds_simulated": float, "wall_s": float, "events_per_s": float,
    "fills": int, "maker_fills": int, "taker_fills": int, "volume": float, "fees": float,
    "pnl": float, "max_abs_inventory_frac": float, "spread_capture_bps": float,
    "markout_bps": dict, "digest": str, "source": str, "config_hash": str, "seed": int,
}


def _need(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"real capture missing: {path} (../shared/data not mounted)")


def _lively(**backtest):
    """A synthetic market that moves through our quotes: fills within a minute. With the
    drop rule: at 20 bps/sqrt(s) the default move-out (issue 16) sends levels so deep, and
    the volume budget so rations bringing them back, that seed 5 does not fill in the minute
    (with the drop rule it fills 84 times)."""
    return load_config(overrides={
        "feed": {"synthetic_sigma_bps_per_sqrt_s": 20.0, "synthetic_events_per_s": 200.0},
        "quote": {"epnl_move_out": False},
        "backtest": {"synthetic_duration_s": 60.0, **backtest},
    })


@pytest.fixture(scope="module")
def binance_report():
    _need(BINANCE)
    return run_backtest(f"replay:{BINANCE}").report


def test_report_when_synthetic_run_then_every_key_with_its_type():
    r = run_backtest("synthetic", _lively(), seed=3).report
    for key, typ in REPORT_KEYS.items():
        assert isinstance(r[key], typ), (key, r[key])
    assert set(r["markout_bps"]) == {"0.5s", "1s", "2s", "5s", "10s", "30s"}
    assert r["events"] > 1000 and r["seconds_simulated"] == pytest.approx(60.0, abs=0.1)
    assert r["fills"] == r["maker_fills"] + r["taker_fills"] > 0
    assert len(r["digest"]) == 64 and r["seed"] == 3 and r["preset"] == "unified"
    # every request sent is counted under one reason (gateway.request_reasons)
    assert sum(r["requests_by_reason"].values()) == r["requests"] > 0


def test_digest_when_same_input_and_config_then_identical():
    cfg = _lively()
    a = run_backtest("synthetic", cfg, seed=5).report
    b = run_backtest("synthetic", cfg, seed=5).report
    assert a["fills"] > 0
    assert a["digest"] == b["digest"]
    assert a["config_hash"] == b["config_hash"]


def test_digest_when_other_seed_then_different():
    cfg = _lively()
    a = run_backtest("synthetic", cfg, seed=5).report
    b = run_backtest("synthetic", cfg, seed=6).report
    assert a["fills"] > 0 and b["fills"] > 0
    assert a["digest"] != b["digest"]


def test_digest_when_events_fed_in_small_chunks_then_same_as_one_chunk():
    cfg = _lively(synthetic_duration_s=30.0)
    events, _ = load_events("synthetic", seed=9, duration_s=30.0)
    digests = []
    # 3: chunks shorter than the loop's prefetch distance (sim.PREFETCH_AHEAD)
    for chunk in (events.shape[0], 777, 3):
        s = Simulation(cfg, seed=9)
        for i in range(0, events.shape[0], chunk):
            s.feed(events[i : i + chunk])
        s.finish()
        fills, _, samples = s.outputs()
        digests.append((fills_digest(fills), samples.tobytes()))
    assert digests[0] == digests[1] == digests[2]


def test_stage_profile_when_on_then_same_run_and_cycles_for_every_stage_that_ran():
    cfg = _lively(synthetic_duration_s=30.0)
    events, _ = load_events("synthetic", seed=9, duration_s=30.0)
    runs = []
    for profile in (0, 1):
        s = Simulation(cfg, seed=9)
        s.st[0]["profile"] = profile
        s.feed(events)
        s.finish()
        fills, _, samples = s.outputs()
        runs.append((fills_digest(fills), samples.tobytes(), s.st[0].copy()))
    assert runs[0][:2] == runs[1][:2]  # timing the stages changes nothing else
    off, on = runs[0][2], runs[1][2]
    assert not off["prof_cycles"].any() and not off["prof_events"].any()
    assert on["prof_events"].sum() == on["n_events"] > 0
    cyc = on["prof_cycles"].reshape(-1, N_PROF_KINDS)
    for k, name in enumerate(PROF_KIND_NAMES):
        if on["prof_events"][k]:
            assert cyc[PROF_ESTIMATOR, k] > 0, name
    assert cyc[PROF_QUOTE].sum() > 0

def test_binance_capture_when_replayed_then_fills_and_finite_figures(binance_report):
    r = binance_report
    assert r["events"] > 90_000 and r["seconds_simulated"] > 300
    assert r["fills"] > 0 and r["volume"] > 0
    for key in ("pnl", "fees", "volume", "spread_capture_bps", "max_abs_inventory_frac"):
        assert math.isfinite(r[key]), key
    assert any(v is not None and math.isfinite(v) for v in r["markout_bps"].values())
    assert r["max_abs_inventory_frac"] <= 1.0


def test_binance_capture_when_replayed_then_source_stats_count_every_line(binance_report):
    # Counted here without the source; the report once read a counter already replaced.
    with gzip.open(BINANCE, "rb") as f:
        counted = sum(1 for ln in f if ln.strip())
    s = binance_report["source_stats"]
    assert s["lines"] == counted == 93_954
    assert s["events"] == binance_report["events"] and s["malformed"] == 0
    assert s["lines"] == s["events"] + s["skipped"] + s["merged"]


def test_binance_capture_when_replayed_twice_then_same_digest(binance_report):
    again = run_backtest(f"replay:{BINANCE}").report
    assert again["digest"] == binance_report["digest"] and again["fills"] == binance_report["fills"]


def test_hyperliquid_capture_when_replayed_then_finite_report():
    _need(HYPERLIQUID)
    r = run_backtest(f"replay:{HYPERLIQUID}").report
    assert r["events"] > 50 and r["seconds_simulated"] > 10
    assert r["orders_placed"] > 0
    assert math.isfinite(r["pnl"]) and math.isfinite(r["volume"])


def test_position_when_many_fills_then_never_past_max_position():
    # A wild market and a small limit; the E[PnL] filter is off (it would rightly stop
    # quoting at 30 bps/sqrt(s)) so that fills keep pushing against the limit.
    cfg = load_config(overrides={
        "feed": {"synthetic_sigma_bps_per_sqrt_s": 30.0, "synthetic_events_per_s": 200.0},
        "risk": {"max_position_sz": 0.003},
        "quote": {"use_epnl_filter": False},
        "backtest": {"synthetic_duration_s": 120.0, "order_latency_ms": 80.0},
        # no requote pacing: every ladder reaches the venue, so fills keep coming
        "gateway": {"requote_budget_per_min": 0.0},
    })
    res = run_backtest("synthetic", cfg, seed=11)
    assert res.report["fills"] > 50
    assert np.abs(res.fills["position_sz"]).max() <= 0.003 + 1e-12
    assert res.report["max_abs_inventory_frac"] <= 1.0 + 1e-9
    # the plot series agree with the fills
    assert np.abs(res.samples["position_sz"]).max() <= 0.003 + 1e-12


def test_markouts_when_fills_marked_then_match_the_definition():
    res = run_backtest("synthetic", _lively(), seed=4)
    f, mk = res.fills, res.markouts
    assert f.shape[0] > 0 and mk.shape == (f.shape[0], len(MARKOUT_HORIZONS_S)) == (f.shape[0], 6)
    ok = np.isfinite(mk[:, 0])
    assert ok.sum() > 0
    # signs: a buy that the mid then went above is positive
    mid_later = f["px"] + mk[:, 0] * f["px"] / 1e4 * f["side"]
    assert np.all(mid_later[ok] > 0)


def test_preset_when_unknown_then_clear_error_and_known_ones_change_the_quote_config():
    cfg = load_config()
    assert apply_preset("unified", cfg).quote == cfg.quote
    assert apply_preset("legacy", cfg).quote != cfg.quote
    assert apply_preset("no_as", cfg).quote != cfg.quote
    with pytest.raises(PresetError, match="unknown preset 'fancy'"):
        apply_preset("fancy", cfg)


def test_source_when_missing_or_unknown_then_value_error():
    with pytest.raises(ValueError, match="not found"):
        run_backtest("replay:/nonexistent/capture.gz")
    with pytest.raises(ValueError, match="unknown market source"):
        run_backtest("tape:whatever")


def test_kernels_when_backtesting_then_the_very_modules_the_processes_run():
    import appliance.estimator.kernel as est_kernel
    import appliance.estimator.process as est_proc
    import appliance.gateway.paper as paper
    import appliance.quote.kernel as quote_kernel
    import appliance.quote.process as quote_proc
    import appliance.venue.matching as matching
    from appliance.backtest import sim, venue_exec

    assert sim.estimator is est_kernel is est_proc.kernel
    assert sim.quote is quote_kernel is quote_proc.kernel
    assert sim.matching is matching and venue_exec.matching is matching
    assert venue_exec.paper is paper and sim.executor is paper
    assert sim.matching.on_market_event is matching.book.on_market_event
    assert venue_exec.matching.place_order is matching.entry.place_order
