"""The model scorer over a real segment set, fed synthetic order events, fills and
MarketParams: the SCORES block carries samples and scores per model, a model worse
than none for the window is flagged, the ``model_degraded`` check fires on it (its
action; by default only the journal), the metrics carry the scores, and a failing
scorer never raises."""

from __future__ import annotations

import time

import numpy as np
import pytest
from risk_helpers import NOON, fresh_segments, publish_fill, set_params

from appliance.config import load_config
from appliance.ipc import byte_rows, ring, seqlock
from appliance.risk import checks
from appliance.risk.actions import ActionEngine
from appliance.risk.journal import RiskJournal, read_records
from appliance.risk.metrics import ApplianceCollector
from appliance.risk.scoring import block
from appliance.risk.scoring.scorer import GuardedScorer, ModelScorer
from shm_layout import records
from shm_layout.constants import EST_VALID, MODEL_NAMES, OE_ENDED, OE_FILLED, OE_PLACED, RA_WIDEN

S = 1_000_000_000
H = 8 * S


@pytest.fixture
def mem():
    with fresh_segments("rsco") as m:
        yield m


def _cfg(actions=None):
    scores = {"interval_s": 1.0, "degraded_after_s": 10.0, "degraded_min_samples": 30}
    return load_config(overrides={"appliance": {"coins": ["BTC", "ETH"]}, "scores": scores,
                                  "risk": {"actions": actions or {}}})


def _setup(mem, tmp_path, actions=None):
    cfg = _cfg(actions)
    view = checks.RiskView(cfg, mem, str(tmp_path / "KILL"), time.monotonic_ns())
    return cfg, view, ModelScorer(cfg, mem, view.params)


def order_event(mem, kind, key, t, coin=0, fp=0.0, horizon=H):
    rec = np.zeros(1, records.ORDER_EVENT)
    rec["kind"], rec["key"], rec["mono_ns"], rec["coin"], rec["side"] = kind, key, t, coin, 1
    rec["pred_fill_prob"], rec["horizon_ns"] = fp, horizon
    ring.publish(mem.orders.ring_words, mem.orders.seqs, mem.orders.rows, byte_rows(rec)[0], t)


def params(view, t, mid, **fields):
    set_params(view.mem, 0, valid=1, mid_px=mid, update_mono_ns=t, **fields)
    view.params.read_all(time.monotonic() + 1.0)


def full_round(scorer, now):
    """Finish the scoring round under way, then score every coin and model at ``now``."""
    while scorer.jobs:
        scorer.step(now)
    scorer.next_round = 0
    scorer.step(now)
    while scorer.jobs:
        scorer.step(now)


def snapshot(mem, coin=0, name="BTC"):
    rec, seq = seqlock.snapshot(mem.scores, coin)
    assert seq >= 0
    return block.scores_dict(rec, name, time.monotonic_ns())


def placements(mem, t0, n, good=True, first_key=1):
    """``n`` orders: forecast 0.9 filled within the horizon, 0.1 never filled (``good``),
    or the other way round."""
    for i in range(n):
        key, fp = first_key + i, (0.9 if i % 2 else 0.1)
        order_event(mem, OE_PLACED, key, t0, fp=fp)
        if (fp > 0.5) == good:
            order_event(mem, OE_FILLED, key, t0 + S)
            order_event(mem, OE_ENDED, key, t0 + S)


def test_scorer_when_orders_fills_and_mids_flow_then_block_has_samples_and_scores(mem, tmp_path):
    cfg, view, sc = _setup(mem, tmp_path)
    t0 = time.monotonic_ns() + 2 * S
    placements(mem, t0, 60)
    for k in range(100, 110):  # cancelled before the horizon: censored
        order_event(mem, OE_PLACED, k, t0, fp=0.5)
        order_event(mem, OE_ENDED, k, t0 + S)
    params(view, t0 - S, 100.0, toxicity_status=EST_VALID, toxicity_bid=0.2, toxicity_ask=0.6)
    sc.step(t0 - S)
    for i in range(40):  # our fills: bought 2 bps under the mid, which then falls
        publish_fill(mem, coin=0, side=1, is_maker=1, level_id=7, px=99.98, mid_px=100.0,
                     pred_as_bps=0.1 * i, pub_mono_ns=t0 + i * 1000)
    sc.step(t0)
    for j, dt in enumerate((1, 2, 3, 6, 11, 31)):
        params(view, t0 + dt * S + j, 100.0 - 0.0001 * dt, toxicity_status=EST_VALID)
        sc.step(t0 + dt * S + j)
    now = t0 + 40 * S
    full_round(sc, now)
    d = snapshot(mem)
    fp = d["models"]["fill_prob"]
    assert fp["samples"] == 60 and fp["censored"] == 10 and fp["horizon_s"] == 8.0
    assert fp["scores"]["brier"] == pytest.approx(0.01) and fp["scores"]["skill"] > 0.9
    assert {p["count"] for p in fp["curve"]} == {30}
    for name in MODEL_NAMES[2:8]:
        a = d["models"][name]
        assert a["samples"] == 40, name
        assert a["scores"]["mean_forecast"] == pytest.approx(1.95)
    # the first mid at or after 10 s is the one of 11 s: 0.0011 under mid0, ~0.11 bps adverse
    assert d["models"]["adverse_selection_10s"]["scores"]["mean_realized"] == pytest.approx(0.11, abs=0.01)
    assert d["models"]["adverse_selection_30s"]["scores"]["mean_realized"] == pytest.approx(0.31, abs=0.01)
    tox = d["models"]["toxicity"]
    assert tox["samples"] == 40 and tox["scores"]["mean_forecast"] == pytest.approx(0.2)
    assert d["degraded"] == [] and snapshot(mem, 1, "ETH")["models"]["fill_prob"]["samples"] == 0
    text = block.render(d)
    assert "fill_prob" in text and "adverse_selection_30s" in text
    assert block.score_line(d).startswith("scores BTC (window 1800 s): fill_prob n=60 cens=10")


def test_drift_when_forecast_follows_the_mid_then_scored_with_positive_ir(mem, tmp_path):
    cfg, view, sc = _setup(mem, tmp_path)
    t0 = time.monotonic_ns() + 2 * S
    mid = 100.0
    rng = np.random.default_rng(3)
    drift = 0.0
    for k in range(200):  # one sample a second; drift forecasts the next 8 s roughly
        t = t0 + k * S
        drift = 0.01 * rng.standard_normal() if k % 8 == 0 else drift
        params(view, t, mid, drift_status=EST_VALID, drift_bps_per_s=drift)
        sc.step(t)
        mid *= 1 + drift * 1e-4
    full_round(sc, t0 + 200 * S)
    dr = snapshot(mem)["models"]["drift"]
    assert dr["samples"] > 150 and dr["scores"]["ir"] > 0 and dr["scores"]["spearman"] > 0


def test_model_when_worse_than_none_for_the_window_then_flagged_and_check_acts(mem, tmp_path):
    cfg, view, sc = _setup(mem, tmp_path, actions={"model_degraded": "widen"})
    t0 = time.monotonic_ns() + 2 * S
    placements(mem, t0, 60, good=False)  # 0.9 never fills, 0.1 always does
    full_round(sc, t0 + H + 3 * S)
    fp = snapshot(mem)["models"]["fill_prob"]
    assert fp["scores"]["skill"] < 0 and not fp["degraded"] and fp["degraded_s"] == 0.0
    assert checks.check_model_degraded(view) is None  # not for long enough yet
    full_round(sc, t0 + H + 14 * S)
    d = snapshot(mem)
    assert d["models"]["fill_prob"]["degraded"] and d["degraded"] == ["fill_prob"]
    f = checks.check_model_degraded(view)
    assert f is not None and f.check == "model_degraded" and "fill_prob" in f.reason
    assert f.value >= 10.0 and f.threshold == 10.0
    journal = RiskJournal(tmp_path / "risk-journal.jsonl")
    engine = ActionEngine(cfg, view.control, journal)
    view.mem.md.ring_header[0]["last_pub_mono_ns"] = time.monotonic_ns()
    found = checks.evaluate(view, NOON)
    assert [x.check for x in found] == ["model_degraded"]
    assert engine.apply(found) == RA_WIDEN
    trig = [r for r in read_records(journal.path) if r["k"] == "trigger"]
    assert trig[0]["check"] == "model_degraded" and trig[0]["action"] == "widen"
    metrics = {m.name: m for m in ApplianceCollector(mem, _cfg(), "inst").collect()}
    deg = {(s.labels["model"], s.labels["coin"]): s.value for s in metrics["mm_model_degraded"].samples}
    assert deg[("fill_prob", "BTC")] == 1.0 and deg[("fill_prob", "ETH")] == 0.0


def test_model_degraded_when_action_is_log_then_journaled_and_nothing_acted(mem, tmp_path):
    cfg = load_config(overrides={"risk": {"actions": {"model_degraded": "log"}}})
    journal = RiskJournal(tmp_path / "risk-journal.jsonl")
    ctl = np.zeros(1, records.CONTROL)[0]
    engine = ActionEngine(cfg, ctl, journal)
    assert engine.apply([checks.Finding("model_degraded", "BTC: fill_prob", 700.0, 600.0)]) == 0
    assert ctl["risk_action"] == 0 and ctl["kill_flag"] == 0
    trig = [r for r in read_records(journal.path) if r["k"] == "trigger"]
    assert trig[0]["action"] == "log"


def test_metrics_when_scored_then_mm_model_score_and_samples_carry_them(mem, tmp_path):
    cfg, view, sc = _setup(mem, tmp_path)
    t0 = time.monotonic_ns() + 2 * S
    placements(mem, t0, 40)
    full_round(sc, t0 + H + 3 * S)
    metrics = {m.name: m for m in ApplianceCollector(mem, _cfg(), "inst").collect()}
    score = {(s.labels["model"], s.labels["metric"], s.labels["coin"]): s.value
             for s in metrics["mm_model_score"].samples}
    assert score[("fill_prob", "brier", "BTC")] == pytest.approx(0.01)
    assert ("fill_prob", "spearman", "BTC") not in score  # not a metric of probabilities
    samples = {(s.labels["model"], s.labels["coin"]): s.value for s in metrics["mm_model_samples"].samples}
    assert samples[("fill_prob", "BTC")] == 40.0 and samples[("drift", "BTC")] == 0.0


def test_guarded_scorer_when_scoring_fails_then_counted_logged_never_raised():
    errors = []

    class Broken:
        def step(self):
            raise ValueError("bug in scoring")

    g = GuardedScorer(lambda: Broken(), lambda: errors.append(1))
    g.step()
    g.step()
    assert g.failures == 2 and len(errors) == 2

    def no_start():
        raise RuntimeError("cannot start")

    g = GuardedScorer(no_start, lambda: errors.append(1))
    g.step()  # nothing to run, nothing raised
    assert g.scorer is None and g.failures == 1 and len(errors) == 3
