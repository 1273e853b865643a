"""The backtest report's P&L attribution (appliance/backtest/pnl_attribution.py): it sums
to ``pnl`` on a real capture and on a run that pays funding; a broken sum raises."""

import math
from pathlib import Path

import numpy as np
import pytest

from appliance.backtest import Simulation, run_backtest
from appliance.backtest import pnl_attribution as pa
from appliance.backtest.load import load_events
from appliance.backtest.report import MARKOUT_HORIZONS_S, render
from appliance.config import load_config
from appliance.measure import attribution as at
from shm_layout.records import FILL_EVENT, POSITION_STATE
from shm_layout.venue_records import HOUR_NS

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BINANCE = DATA / "binance_usdm" / "btcusdt_20240808.gz"
KEYS = (*at.COMPONENTS, "total_usd", "pnl_usd", "residual_usd", "horizon_s", "final_mark_px")


def _check(res) -> dict:
    r = res.report
    a = r["attribution"]
    for k in KEYS:
        assert isinstance(a[k], float) and math.isfinite(a[k]), k
    assert a["pnl_usd"] == r["pnl"]
    assert abs(sum(a[k] for k in at.COMPONENTS) - r["pnl"]) <= at.SUM_TOLERANCE_USD
    pf = res.attribution
    assert pf.shape[0] == r["fills"]
    for k in ("spread_usd", "adverse_selection_usd", "fees_usd"):
        assert float(pf[k].sum()) == pytest.approx(a[k], abs=1e-9)
    assert a["fees_usd"] == pytest.approx(-r["fees"], abs=1e-6)
    assert "attrib " in render(r)
    return a


def test_binance_capture_when_replayed_then_attribution_sums_to_pnl():
    if not BINANCE.is_file():
        pytest.skip(f"real capture missing: {BINANCE} (../shared/data not mounted)")
    res = run_backtest(f"replay:{BINANCE}")
    a = _check(res)
    assert res.report["fills"] > 0 and a["horizon_s"] == 10.0 and a["horizon_exact"]
    # the AS leg is the 10 s markout's own mid: the markout in USD, less the spread leg
    pf, f = res.attribution, res.fills
    mk = res.markouts[:, MARKOUT_HORIZONS_S.index(10)]
    ok = np.isfinite(mk)
    assert np.array_equal(pf["at_horizon"], ok)
    markout_usd = mk * f["px"] * f["sz"] / 1e4
    np.testing.assert_allclose(pf["spread_usd"][ok] + pf["adverse_selection_usd"][ok], markout_usd[ok],
                               atol=1e-9)


def _run(cfg, events, shift_ns: int = 0) -> Simulation:
    evs = events.copy()
    evs["exch_ts_ns"] += shift_ns
    evs["recv_ts_ns"] += shift_ns
    s = Simulation(cfg, seed=2)
    s.feed(evs)
    s.finish()
    return s


def test_funding_when_the_hour_passes_with_a_position_then_booked_and_attributed():
    """The events shifted in time so that the venue's hourly funding falls where the run
    holds a position (the scenario carries a funding rate): the position mirror books
    what the venue pays, and the attribution's funding is it."""
    cfg = load_config(overrides={"quote": {"use_epnl_filter": False}})
    events, _ = load_events("synthetic:quiet", seed=2, duration_s=180.0)
    samples = _run(cfg, events).outputs()[2]
    held = np.flatnonzero(samples["position_sz"] != 0.0)
    assert held.size > 0
    runs = np.split(held, np.flatnonzero(np.diff(held) != 1) + 1)
    longest = max(runs, key=len)
    t_mid = int(samples["ts_ns"][longest[len(longest) // 2]])
    s = _run(cfg, events, (t_mid // HOUR_NS + 1) * HOUR_NS - t_mid)  # the hour there
    venue_funding = float(s.va.accounts[0]["funding_usd"])
    assert venue_funding != 0.0
    pos = s.pos[0]
    assert float(pos["funding_usd"]) == pytest.approx(venue_funding, abs=1e-12)
    fills, markouts, samples = s.outputs()
    a = pa.block(fills=fills, markouts=markouts, markout_horizons_s=MARKOUT_HORIZONS_S, samples=samples,
                 pos=pos, horizon_s=10.0)
    assert a["funding_usd"] == pytest.approx(venue_funding)
    assert abs(a["total_usd"] - float(pos["total_pnl_usd"])) <= at.SUM_TOLERANCE_USD


def test_block_when_pnl_does_not_match_then_raises_and_other_horizon_uses_samples():
    fills = np.zeros(1, FILL_EVENT)
    fills["side"], fills["sz"], fills["px"], fills["mid_px"] = 1, 1.0, 99.0, 100.0
    fills["pub_mono_ns"] = 0
    pos = np.zeros(1, POSITION_STATE)[0]
    pos["mark_px"], pos["total_pnl_usd"] = 101.0, 2.0  # bought at 99, marked at 101
    markouts = np.full((1, len(MARKOUT_HORIZONS_S)), np.nan)
    a = pa.block(fills=fills, markouts=markouts, markout_horizons_s=MARKOUT_HORIZONS_S, samples=None,
                 pos=pos)
    assert a["spread_usd"] == 1.0 and a["adverse_selection_usd"] == 1.0 and a["fills_without_horizon"] == 1
    pos["total_pnl_usd"] = 2.01
    with pytest.raises(at.AttributionMismatch):
        pa.block(fills=fills, markouts=markouts, markout_horizons_s=MARKOUT_HORIZONS_S, samples=None,
                 pos=pos)
    samples = np.zeros(2, [("ts_ns", "<i8"), ("mid_px", "<f8")])
    samples["ts_ns"], samples["mid_px"] = [0, 4_000_000_000], [100.0, 100.5]
    pos["total_pnl_usd"] = 2.0
    a = pa.block(fills=fills, markouts=markouts, markout_horizons_s=MARKOUT_HORIZONS_S, samples=samples,
                 pos=pos, horizon_s=3.0)
    assert not a["horizon_exact"] and a["adverse_selection_usd"] == pytest.approx(0.5)
    assert a["inventory_usd"] == pytest.approx(0.5)
