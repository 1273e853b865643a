"""Pairing forecasts with outcomes (risk/scoring/pairs.py) on synthetic inputs: fill
outcomes with censoring (cancel, modify, late fill report), adverse selection marked
out at each horizon from the first mid at or after it, the toxicity label, mid-move
forecasts, bounded windows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from appliance.measure.scores import CENSORED, probability_score
from appliance.risk.scoring.pairs import (
    GRACE_NS,
    FillProbPairs,
    ForecastPairs,
    MarkoutPairs,
    SampleHistory,
    Window,
)

S = 1_000_000_000
H = 8 * S  # fill-probability horizon
AS_H = [int(h * S) for h in (0.5, 1, 2, 5, 10, 30)]


def _win() -> Window:
    return Window(3600 * S, 5000)


def _outcomes(w: Window) -> list[float]:
    return list(w.y)


# --- fill probability --------------------------------------------------------------------


def test_fill_when_within_horizon_then_outcome_1_as_soon_as_it_is_known():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.7)
    p.filled(1, 13 * S)
    assert p.resolve(13 * S) == 1 and _outcomes(w) == [1.0] and list(w.f) == [0.7]
    assert not p.pending


def test_fill_when_resting_through_horizon_then_0_only_after_horizon_and_grace():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.4)
    assert p.resolve(10 * S + H) == 0  # a fill report may still be on its way
    assert p.resolve(10 * S + H + GRACE_NS) == 1 and _outcomes(w) == [0.0]


def test_fill_when_after_horizon_then_0():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.4)
    p.filled(1, 10 * S + H + 1)
    p.ended(1, 10 * S + H + 1)
    p.resolve(10 * S + H + GRACE_NS)
    assert _outcomes(w) == [0.0]


def test_fill_when_cancelled_before_horizon_then_censored_and_left_out_of_the_score():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.9)
    p.ended(1, 12 * S)
    assert p.resolve(12 * S) == 0  # the cancel may have lost a race with a fill
    p.resolve(12 * S + GRACE_NS)
    assert _outcomes(w) == [CENSORED] and w.censored() == 1
    for k in range(2, 40):  # 38 scored pairs and the censored one
        p.placed(k, 20 * S, H, 0.5)
        p.filled(k, 21 * S) if k % 2 else None
    p.resolve(20 * S + H + GRACE_NS)
    f, y = w.arrays()
    assert probability_score(f, y).n == 38


def test_fill_exposure_when_filled_cancelled_or_resting_then_time_rested_in_horizons():
    w = _win()
    p = FillProbPairs(w)
    for k in (1, 2, 3):
        p.placed(k, 10 * S, H, 0.5)
    p.filled(1, 10 * S + H // 4)  # filled a quarter in
    p.ended(2, 10 * S + H // 2)  # requoted half way: censored, exposed half a horizon
    p.resolve(10 * S + H + GRACE_NS)  # 3 rested through
    by_outcome = dict(zip(_outcomes(w), w.exposures().tolist(), strict=True))
    assert by_outcome == {1.0: pytest.approx(0.25), CENSORED: pytest.approx(0.5), 0.0: 1.0}


def test_fill_when_cancelled_after_horizon_then_0_not_censored():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.9)
    p.ended(1, 10 * S + H + S)
    p.resolve(10 * S + H + GRACE_NS + S)
    assert _outcomes(w) == [0.0]


def test_fill_when_reported_after_the_cancel_it_beat_then_1():
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.2)
    p.ended(1, 12 * S)  # cancel confirmed ...
    p.filled(1, 12 * S + GRACE_NS // 2)  # ... the fill it raced arrives later, within the horizon
    p.resolve(12 * S + GRACE_NS)
    assert _outcomes(w) == [1.0]


def test_modify_when_it_replaces_an_order_then_old_placement_censored_new_one_scored_apart():
    """A modify at the venue = the old order ends (before its horizon: censored) and a new
    order with its own forecast starts (the gateway sends ENDED(modified) + PLACED)."""
    w = _win()
    p = FillProbPairs(w)
    p.placed(1, 10 * S, H, 0.8)
    p.ended(1, 11 * S)  # modified
    p.placed(2, 11 * S, H, 0.3)
    p.filled(2, 15 * S)
    p.resolve(11 * S + GRACE_NS)
    assert sorted(zip(w.f, w.y, strict=True)) == [(0.3, 1.0), (0.8, float(CENSORED))]


def test_fill_events_when_key_unknown_then_ignored():
    w = _win()
    p = FillProbPairs(w)
    p.filled(5, 10 * S)
    p.ended(5, 10 * S)
    assert p.resolve(100 * S) == 0 and not p.pending and len(w) == 0


# --- adverse selection and toxicity ---------------------------------------------------------


def _marks(threshold=1.0):
    as_w = [_win() for _ in AS_H]
    tox_w = _win()
    return MarkoutPairs(as_w, AS_H, tox_w, 2 * S, threshold), as_w, tox_w


@pytest.mark.parametrize("side", [1, -1])
def test_markout_when_mids_pass_each_horizon_then_realized_as_is_depth_minus_markout(side):
    m, as_w, _ = _marks()
    mid0, px, t0 = 100.0, 100.0 - side * 0.05, 50 * S  # 5 bps passive
    assert m.fill(t0, side, px, mid0, 3.0, 0.4)
    mids = {h: 100.0 - side * 0.01 * (i + 1) for i, h in enumerate(AS_H)}  # moves against us
    for h in AS_H:
        m.mid(t0 + h - 1, 123.0)  # just before: not used
        m.mid(t0 + h + 1000, mids[h])  # first mid at or after the horizon
    for i, h in enumerate(AS_H):
        assert len(as_w[i]) == 1 and as_w[i].f[0] == 3.0
        depth = side * (mid0 - px) / mid0 * 1e4
        markout = side * (mids[h] - px) / px * 1e4
        assert as_w[i].y[0] == pytest.approx(depth - markout)
        assert as_w[i].y[0] == pytest.approx((i + 1) * 1.0, rel=1e-2)  # ~ the adverse move, bps
    assert not m.pending  # every horizon done


def test_markout_when_mid_jumps_past_several_horizons_then_each_takes_that_first_mid():
    m, as_w, _ = _marks()
    m.fill(0, 1, 99.95, 100.0, 1.0, math.nan)
    m.mid(3 * S, 99.9)  # past 0.5, 1 and 2 s at once
    assert [len(w) for w in as_w] == [1, 1, 1, 0, 0, 0]
    assert as_w[0].y[0] == as_w[2].y[0]


def test_markout_when_fill_has_no_prediction_then_no_as_pair_but_toxicity_still_labelled():
    m, as_w, tox_w = _marks()
    m.fill(0, 1, 99.95, 100.0, math.nan, 0.3)
    m.mid(31 * S, 99.0)
    assert all(len(w) == 0 for w in as_w) and len(tox_w) == 1


@pytest.mark.parametrize("move_bps, toxic", [(-2.0, 1.0), (-0.5, 0.0), (3.0, 0.0)])
def test_toxicity_when_labelled_then_adverse_move_beyond_threshold(move_bps, toxic):
    m, _, tox_w = _marks(threshold=1.0)
    m.fill(0, 1, 99.99, 100.0, 1.0, 0.35)  # we bought: a fall is adverse
    m.mid(2 * S, 100.0 * (1 + move_bps * 1e-4))
    assert list(tox_w.f) == [0.35] and list(tox_w.y) == [toxic]


def test_markout_when_no_usable_mid0_then_fill_not_kept():
    m, _, _ = _marks()
    assert not m.fill(0, 1, 100.0, 0.0, 1.0, 0.3)
    assert not m.pending


# --- mid-move forecasts -------------------------------------------------------------------


def test_forecast_when_sampled_then_at_most_one_per_period_and_realized_mid_move():
    w = _win()
    fp = ForecastPairs(w, horizon_ns=8 * S, every_ns=S)
    assert fp.sample(0, 100.0, 2.0)
    assert not fp.sample(S // 2, 100.0, 5.0)  # too soon
    assert fp.sample(S, 100.0, -1.0)
    fp.mid(8 * S, 100.05)
    assert list(w.f) == [2.0] and w.y[0] == pytest.approx(5.0)
    fp.mid(9 * S, 99.99)
    assert list(w.f) == [2.0, -1.0] and w.y[1] == pytest.approx(-1.0)


# --- windows ------------------------------------------------------------------------------


def test_window_when_old_or_too_many_then_trimmed():
    w = Window(10 * S, 3)
    for t in range(5):
        w.add(t * S, float(t), 0.0)
    assert list(w.f) == [2.0, 3.0, 4.0] and w.total == 5
    w.trim(13 * S + 1)
    assert list(w.f) == [4.0]
    f, y = w.arrays()
    assert f.dtype == np.float64 and f.tolist() == [4.0] and y.tolist() == [0.0]


def test_history_when_asked_before_a_time_then_newest_sample_strictly_before():
    h = SampleHistory()
    for t in (1, 2, 3):
        h.add(t * S, t / 10, -t / 10)
    assert h.before(3 * S) == (2 * S, 0.2, -0.2)
    assert h.before(S) is None
