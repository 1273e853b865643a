"""P&L attribution (appliance/measure/attribution.py): the components sum to the P&L
the position accounting books, on random fill sequences, in batch and live."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.gateway import paper
from appliance.measure import attribution as at
from shm_layout import records

H_NS = 10_000_000_000

fill_st = st.tuples(
    st.sampled_from((1, -1)),  # side
    st.floats(1e-5, 3.0),  # size
    st.floats(-0.03, 0.03),  # price, relative to the level
    st.floats(-0.002, 0.002),  # mid at the fill, relative to the price
    st.floats(-2.0, 6.0),  # fee, bps of notional (negative: rebate)
    st.floats(-0.01, 0.01),  # mid at fill+H, relative to the mid at the fill
    st.booleans(),  # has a mid at fill+H
    st.floats(-200.0, 200.0),  # funding paid right after (0 mostly)
    st.booleans(),  # funding this time
)
sequence_st = st.tuples(st.floats(5.0, 120_000.0), st.lists(fill_st, min_size=1, max_size=60),
                        st.floats(-0.05, 0.05))


def _fills(level, raw):
    side = np.array([f[0] for f in raw], np.int8)
    sz = np.array([f[1] for f in raw])
    px = np.array([level * (1 + f[2]) for f in raw])
    mid = px * (1 + np.array([f[3] for f in raw]))
    fee = px * sz * np.array([f[4] for f in raw]) * 1e-4
    mid_h = np.array([m * (1 + f[5]) if f[6] else math.nan for m, f in zip(mid, raw, strict=True)])
    funding = [f[7] if f[8] else 0.0 for f in raw]
    return side, sz, px, mid, fee, mid_h, funding


def _booked_pnl(side, sz, px, fee, funding, mark, pos=None):
    """The P&L as the backtest and paper gateway book it (paper.apply_fill, average
    entry), funding added as the live gateway does (Positions.add_funding)."""
    pos = np.zeros(1, records.POSITION_STATE) if pos is None else pos
    p = pos[0]
    for i in range(side.shape[0]):
        fee_bps = fee[i] / (px[i] * sz[i]) * 1e4
        paper.apply_fill(p, int(side[i]), float(px[i]), float(sz[i]), fee_bps)
        p["realized_pnl_usd"] += funding[i]
    paper.mark(p, mark)
    return float(p["total_pnl_usd"])


@settings(max_examples=300, deadline=None)
@given(sequence_st)
def test_components_when_random_fills_then_sum_to_the_booked_pnl(seq):
    level, raw, drift = seq
    side, sz, px, mid, fee, mid_h, funding = _fills(level, raw)
    mark = level * (1 + drift)
    pf = at.per_fill(side, sz, px, mid, fee, mid_h, mark)
    c = at.summarize(pf, mark, funding_usd=sum(funding))
    booked = _booked_pnl(side, sz, px, fee, funding, mark)
    cash = float((side * sz * (mark - px)).sum() - fee.sum()) + sum(funding)
    assert abs(c["total_usd"] - booked) <= at.SUM_TOLERANCE_USD
    assert abs(c["total_usd"] - cash) <= at.SUM_TOLERANCE_USD
    assert at.check_sum(c["total_usd"], booked) == pytest.approx(booked - c["total_usd"])
    # the legs are what they say
    np.testing.assert_allclose(pf["spread_usd"], side * sz * (mid - px), rtol=1e-12, atol=1e-9)
    assert c["fees_usd"] == pytest.approx(-fee.sum(), abs=1e-9)
    # no mid at fill+H: the adverse-selection leg runs to the final mark, no inventory leg
    end = ~pf["at_horizon"]
    assert np.array_equal(end, np.isnan(mid_h))
    assert np.all(pf["inventory_usd"][end] == 0.0)


def test_check_sum_when_off_by_more_than_half_a_cent_then_raises():
    assert at.check_sum(10.0, 10.004) == pytest.approx(0.004)
    with pytest.raises(at.AttributionMismatch, match="residual"):
        at.check_sum(10.0, 10.006)
    with pytest.raises(at.AttributionMismatch):
        at.check_sum(10.0, math.nan)


def test_per_fill_when_mid_unknown_then_fill_price_and_no_spread():
    pf = at.per_fill(np.array([1, -1]), np.array([1.0, 1.0]), np.array([100.0, 101.0]),
                     np.array([0.0, math.nan]), np.zeros(2), np.array([99.0, 102.0]), 100.0)
    assert list(pf["mid_px"]) == [100.0, 101.0] and list(pf["spread_usd"]) == [0.0, 0.0]
    assert list(pf["adverse_selection_usd"]) == [-1.0, -1.0]


def test_mid_after_when_series_then_first_mid_at_or_after_the_horizon():
    ts = np.array([0, 5, 10, 20])
    mids = np.array([1.0, 2.0, 3.0, 4.0])
    got = at.mid_after(np.array([0, 1, 10, 11]), 10, ts, mids)
    assert list(got[:3]) == [3.0, 4.0, 4.0] and math.isnan(got[3])


def test_cumulative_when_at_the_end_then_the_components_of_the_run():
    side = np.array([1, -1, 1])
    pf = at.per_fill(side, np.ones(3), np.array([99.0, 101.0, 100.0]), np.full(3, 100.0),
                     np.full(3, 0.01), np.array([100.5, 100.2, math.nan]), 100.4,
                     ts_ns=np.array([0, 2 * H_NS, 3 * H_NS]))
    c = at.summarize(pf, 100.4, funding_usd=0.3)
    grid = np.array([0, H_NS, 4 * H_NS])
    pnl = np.array([0.0, 0.0, c["total_usd"]])
    cum = at.cumulative(pf, grid, pnl, H_NS, funding_usd=0.3)
    for k in at.COMPONENTS:
        assert cum[k][-1] == pytest.approx(c[k]), k
    assert cum["spread_usd"][0] == pytest.approx(1.0)  # the first fill's edge, at its time
    assert cum["adverse_selection_usd"][0] == 0.0 and cum["adverse_selection_usd"][1] == pytest.approx(0.5)


def _ledger(cap=None):
    dt = records.ATTRIBUTION_STATE
    rec = np.zeros(1, dt)
    return at.Ledger(rec[0]), rec


def test_ledger_record_when_declared_then_has_every_field_the_ledger_uses():
    assert set(at.LEDGER_FIELDS) <= set(records.ATTRIBUTION_STATE.names)


live_st = st.tuples(sequence_st, st.lists(st.integers(0, 3), min_size=60, max_size=60),
                    st.floats(-2.0, 2.0), st.integers(0, 2))


@settings(max_examples=150, deadline=None)
@given(live_st)
def test_ledger_when_fills_arrive_over_time_then_same_legs_as_batch_and_sums_to_pnl(case):
    """The live path: fills published, covered by PositionState snapshots some cycles
    later, marked out at the first cycle past the horizon; a start position. Every
    check sums to the booked P&L, and at the end the components equal the batch ones."""
    (level, raw, drift), gaps, start_q, lag = case
    side, sz, px, mid, fee, _, funding = _fills(level, raw)
    ledger, rec = _ledger()
    pos = np.zeros(1, records.POSITION_STATE)
    start_mark = level
    pos[0]["position_sz"], pos[0]["avg_entry_px"] = start_q, level * 0.99
    paper.mark(pos[0], start_mark)
    base_pnl = float(pos[0]["total_pnl_usd"])
    cycle = 1_000_000_000  # 1 s cycles
    t, mark, funding_total = 0, start_mark, 0.0
    ledger.start(horizon_ns=H_NS, pnl_usd=base_pnl, position_sz=start_q, mark_px=mark,
                 funding_usd=0.0, pos_update_ns=t, now_mono_ns=t, now_wall_ns=1)
    mids = []  # (time, mid) of every cycle
    published = []  # (pub time, index)
    booked_upto = 0
    i = 0
    rng = np.random.default_rng(len(raw))
    step_no = 0
    while i < len(raw) or step_no < 40 + len(raw) * 4:
        t += cycle
        step_no += 1
        mark = level * (1 + drift * step_no / (len(raw) * 4 + 40)) * (1 + rng.normal(0, 1e-3))
        if i < len(raw) and gaps[i % len(gaps)] == 0 or (i < len(raw) and step_no % 3 == 0):
            ledger.add_fill(pub_ns=t - 1, ts_ns=t - 1, side=int(side[i]), sz=float(sz[i]),
                            px=float(px[i]), mid_px=float(mid[i]), fee_usd=float(fee[i]), maker=True)
            published.append((t - 1, i))
            i += 1
        # the gateway's snapshot lags by ``lag`` cycles: it covers fills published before it
        covered = [j for pt, j in published if pt <= t - lag * cycle]
        for j in range(booked_upto, len(covered)):
            k = covered[j]
            paper.apply_fill(pos[0], int(side[k]), float(px[k]), float(sz[k]),
                             fee[k] / (px[k] * sz[k]) * 1e4)
            pos[0]["realized_pnl_usd"] += funding[k]
            funding_total += funding[k]
        booked_upto = len(covered)
        paper.mark(pos[0], mark)
        ledger.step(now_mono_ns=t, mid_px=mark, pos_update_ns=t - lag * cycle,
                    pnl_usd=float(pos[0]["total_pnl_usd"]), position_sz=float(pos[0]["position_sz"]),
                    mark_px=mark, funding_usd=funding_total)
        mids.append((t, mark))
        assert rec[0]["ok"] == 1, (rec[0]["residual_usd"], rec[0]["n_checks"])
    s = at.ledger_summary(rec[0])
    assert s["fills"] == len(raw) and s["adjustments"] == 0 and s["sums"]
    # the batch legs, with the mid of the first cycle at least H after each fill
    mt = np.array([m[0] for m in mids])
    mm = np.array([m[1] for m in mids])
    pub = np.array([p[0] for p in published])
    mid_h = at.mid_after(pub, H_NS, mt, mm)
    pf = at.per_fill(side, sz, px, mid, fee, mid_h, mark)
    c = at.summarize(pf, mark, funding_usd=funding_total, start_position_sz=start_q,
                     start_mark_px=start_mark)
    for k in (*at.COMPONENTS, "total_usd"):
        assert s[k] == pytest.approx(c[k], abs=1e-6), k
    assert abs(s["pnl_usd"] - (float(pos[0]["total_pnl_usd"]) - base_pnl)) < 1e-9


def test_ledger_when_position_adopted_then_adjustment_and_still_sums():
    ledger, rec = _ledger()
    pos = np.zeros(1, records.POSITION_STATE)
    paper.mark(pos[0], 100.0)
    ledger.start(horizon_ns=H_NS, pnl_usd=0.0, position_sz=0.0, mark_px=100.0, funding_usd=0.0,
                 pos_update_ns=0, now_mono_ns=0, now_wall_ns=1)
    ledger.add_fill(pub_ns=5, ts_ns=5, side=1, sz=1.0, px=99.5, mid_px=100.0, fee_usd=0.01, maker=True)
    paper.apply_fill(pos[0], 1, 99.5, 1.0, 0.01 / 99.5 * 1e4)
    paper.mark(pos[0], 100.0)
    out = ledger.step(now_mono_ns=10, mid_px=100.0, pos_update_ns=10, pnl_usd=float(pos[0]["total_pnl_usd"]),
                      position_sz=1.0, mark_px=100.0, funding_usd=0.0)
    assert out == [] and rec[0]["ok"] == 1
    # the gateway adopts the venue's position (2.0 at 98): not a fill
    pos[0]["position_sz"], pos[0]["avg_entry_px"] = 2.0, 98.0
    paper.mark(pos[0], 101.0)
    out = ledger.step(now_mono_ns=20, mid_px=101.0, pos_update_ns=20, pnl_usd=float(pos[0]["total_pnl_usd"]),
                      position_sz=2.0, mark_px=101.0, funding_usd=0.0)
    assert [o["k"] for o in out] == ["adjustment"] and rec[0]["n_adjustments"] == 1
    assert rec[0]["ok"] == 1
    paper.mark(pos[0], 103.0)  # from here the inventory is the new position's
    out = ledger.step(now_mono_ns=H_NS + 20, mid_px=103.0, pos_update_ns=30,
                      pnl_usd=float(pos[0]["total_pnl_usd"]), position_sz=2.0, mark_px=103.0,
                      funding_usd=0.0)
    assert [o["k"] for o in out] == ["fill"] and out[0]["adverse_selection_usd"] == pytest.approx(3.0)
    assert rec[0]["ok"] == 1 and rec[0]["n_adjustments"] == 1
    assert abs(rec[0]["residual_usd"]) < 1e-9


def test_ledger_when_fill_in_the_baseline_then_ignored_and_when_full_then_oldest_closed():
    ledger, rec = _ledger()
    ledger.start(horizon_ns=H_NS, pnl_usd=0.0, position_sz=0.0, mark_px=100.0, funding_usd=0.0,
                 pos_update_ns=100, now_mono_ns=100, now_wall_ns=1)
    ledger.add_fill(pub_ns=100, ts_ns=1, side=1, sz=1.0, px=99.0, mid_px=100.0, fee_usd=0.0, maker=True)
    assert rec[0]["n_pending"] == 0
    cap = rec[0]["pend_sq"].shape[0]
    closed = []
    for k in range(cap + 3):
        closed += ledger.add_fill(pub_ns=200 + k, ts_ns=200 + k, side=1, sz=0.1, px=99.0, mid_px=100.0,
                                  fee_usd=0.0, maker=False)
    assert rec[0]["n_pending"] == cap and rec[0]["n_overflow"] == 3 and len(closed) == 3
    assert [c["fill_ts_ns"] for c in closed] == [200, 201, 202]
