"""Graded actions over real segments: every check fires and takes its configured action
(kill flag with its reason, or Control.risk_action), holds, resets, and is journaled."""

import os
import time

import pytest
from risk_helpers import (
    DAY_S,
    NOON,
    fresh_segments,
    make_view,
    publish_fill,
    set_model_degraded,
    set_params,
    set_position,
)

from appliance.risk import checks
from appliance.risk.actions import ActionEngine
from appliance.risk.journal import RiskJournal, read_records
from appliance.runtime.control import kill_state, reset_kill
from shm_layout.constants import (
    PROC_FEED,
    PROC_GATEWAY,
    PS_RUNNING,
    RA_KILL,
    RA_NONE,
    RA_PULL,
    RA_REDUCE_ONLY,
    RA_WIDEN,
)

ACTION = {"log": RA_NONE, "widen": RA_WIDEN, "reduce_only": RA_REDUCE_ONLY, "pull": RA_PULL,
          "kill": RA_KILL}


@pytest.fixture
def mem():
    with fresh_segments("ract") as m:
        yield m


# --- how to make each check fire: (risk config overrides, setup before the last cycle) -----

def _loss(v):
    set_position(v.mem, 0, total_pnl_usd=-600.0)


def _daily(v):
    set_position(v.mem, 0, total_pnl_usd=-150.0)  # max_daily_loss_usd 100, session 500


def _drawdown(v):
    set_position(v.mem, 0, total_pnl_usd=400.0)
    cycle(v)
    set_position(v.mem, 0, total_pnl_usd=50.0)


def _heartbeat(v):
    slot = v.control["procs"][PROC_FEED]
    slot["state"] = PS_RUNNING
    slot["heartbeat_mono_ns"] = time.monotonic_ns() - int(3e6 * v.cfg.supervisor.heartbeat_timeout_ms)


def _rate(v):
    v.control["procs"][PROC_GATEWAY]["state"] = PS_RUNNING
    v.control["gw_rate_headroom_frac"] = 0.0


FIRE = {
    "kill_switch_file": ({}, lambda v: open(v.kill_file, "w").close()),
    "position": ({}, lambda v: set_position(v.mem, 0, position_sz=0.2, mark_px=100_000.0)),
    "loss": ({"max_daily_loss_usd": 1000.0, "max_drawdown_usd": 1000.0}, _loss),
    "daily_loss": ({"max_daily_loss_usd": 100.0}, _daily),
    "drawdown": ({}, _drawdown),
    "margin": ({}, lambda v: set_position(v.mem, 0, margin_used_usd=95.0, account_value_usd=100.0,
                                         account_update_mono_ns=time.monotonic_ns())),
    "liquidation": ({}, lambda v: set_position(v.mem, 0, position_sz=0.01, mark_px=100.0,
                                              liquidation_px=99.0)),
    "cascade": ({}, lambda v: set_params(v.mem, 1, valid=1, cascade_severity=1.0)),
    "stale_data": ({}, lambda v: setattr(v, "started_mono_ns", time.monotonic_ns() - int(120e9))),
    "clock": ({}, lambda v: v.control.__setitem__("clock_fail_streak", 3)),
    "heartbeat": ({}, _heartbeat),
    "rate_limit": ({}, _rate),
    "fill_outside": ({}, lambda v: publish_fill(v.mem, coin=0, px=102.0, mid_px=100.0, sz=1.0)),
    "model_degraded": ({}, lambda v: set_model_degraded(v.mem, 1)),
}


def cycle(v, engine=None, now_utc_s=NOON, now_mono_ns=None):
    found = checks.evaluate(v, now_utc_s)
    if engine is not None:
        engine.apply(found, v.events, now_mono_ns)
        v.events.clear()
    return found


def setup(mem, tmp_path, check, **risk):
    over, fire = FIRE[check]
    v = make_view(mem, tmp_path, **over, **risk)
    journal = RiskJournal(tmp_path / "risk-journal.jsonl")
    engine = ActionEngine(v.cfg, v.control, journal)
    cycle(v, engine)  # baselines taken, nothing fires
    assert v.control["kill_flag"] == 0 and v.control["risk_action"] == RA_NONE
    fire(v)
    return v, engine, journal


def test_fire_table_when_compared_then_covers_every_check():
    assert sorted(FIRE) == sorted(checks.CHECK_NAMES)


@pytest.mark.parametrize("check", checks.CHECK_NAMES)
def test_check_when_fired_then_takes_its_default_action_and_is_journaled(mem, tmp_path, check):
    v, engine, journal = setup(mem, tmp_path, check)
    found = cycle(v, engine)
    assert [f.check for f in found] == [check]
    action = getattr(v.cfg.risk.actions, check)
    k = kill_state(v.control)
    if action == "kill":
        assert k["active"] and k["source"] == "risk" and k["reason"].startswith(f"{check}: ")
        assert v.control["risk_action"] == RA_NONE
    else:
        assert not k["active"]
        assert v.control["risk_action"] == ACTION[action]
        assert v.control["risk_action_check"].decode() == (check if action != "log" else "")
    trig = [r for r in read_records(journal.path) if r["k"] == "trigger"]
    assert len(trig) == 1 and trig[0]["check"] == check and trig[0]["action"] == action
    assert trig[0]["reason"] == found[0].reason and "value" in trig[0] and "threshold" in trig[0]


@pytest.mark.parametrize("check,action", [("position", "pull"), ("cascade", "widen"),
                                          ("stale_data", "reduce_only"), ("margin", "kill")])
def test_check_when_action_configured_then_that_action(mem, tmp_path, check, action):
    v, engine, _ = setup(mem, tmp_path, check, actions={check: action}, widen_mult=3.0)
    cycle(v, engine)
    if action == "kill":
        assert kill_state(v.control)["reason"].startswith(f"{check}: ")
    else:
        assert v.control["kill_flag"] == 0
        assert v.control["risk_action"] == ACTION[action]
        assert v.control["risk_widen_mult"] == 3.0


def test_actions_when_several_fire_then_strongest_in_force(mem, tmp_path):
    v, engine, _ = setup(mem, tmp_path, "cascade", actions={"cascade": "widen", "position": "pull"})
    cycle(v, engine)
    assert v.control["risk_action"] == RA_WIDEN
    set_position(mem, 0, position_sz=0.2, mark_px=100_000.0)  # $20,000: beyond the limit
    cycle(v, engine)
    assert v.control["risk_action"] == RA_PULL
    assert v.control["risk_action_check"].decode() == "position"


def test_action_when_check_quiet_then_held_for_hold_time_then_reset_and_journaled(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "cascade", action_hold_s=5.0)
    t0 = 1_000_000_000_000
    cycle(v, engine, now_mono_ns=t0)
    assert v.control["risk_action"] == RA_PULL
    set_params(mem, 1, valid=1, cascade_severity=0.1)  # quiet again
    cycle(v, engine, now_mono_ns=t0 + int(4.9e9))
    assert v.control["risk_action"] == RA_PULL  # held
    cycle(v, engine, now_mono_ns=t0 + int(5.1e9))
    assert v.control["risk_action"] == RA_NONE
    assert v.control["risk_action_check"] == b""
    recs = read_records(journal.path)
    kinds = [r["k"] for r in recs]
    assert kinds == ["baselines", "trigger", "action", "reset"]
    reset = recs[-1]
    assert reset["who"] == "risk" and "cascade" in reset["why"] and reset["action"] == "pull"


def test_action_when_check_keeps_firing_then_hold_restarts_and_one_trigger_line(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "margin", action_hold_s=1.0)
    t0 = 1_000_000_000_000
    for i in range(5):
        cycle(v, engine, now_mono_ns=t0 + i * int(0.9e9))
    assert v.control["risk_action"] == RA_REDUCE_ONLY
    assert [r["k"] for r in read_records(journal.path)].count("trigger") == 1


def test_kill_when_reset_by_operator_and_check_still_fires_then_raised_again(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "position")
    cycle(v, engine)
    reset_kill(v.control)
    cycle(v, engine)
    assert kill_state(v.control)["reason"].startswith("position: ")
    trig = [r for r in read_records(journal.path) if r["k"] == "trigger"]
    assert len(trig) == 2 and all(r["kill_raised"] for r in trig)


def test_daily_loss_when_midnight_passes_then_action_resets_with_the_day(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "daily_loss", actions={"daily_loss": "reduce_only"},
                               action_hold_s=0.0)
    day_end = 20_001 * DAY_S - 1.0
    cycle(v, engine, now_utc_s=day_end)
    assert v.control["risk_action"] == RA_REDUCE_ONLY
    cycle(v, engine, now_utc_s=day_end + 2.0)  # a new UTC day: the day's loss starts at 0
    assert v.control["risk_action"] == RA_NONE
    kinds = [r["k"] for r in read_records(journal.path)]
    assert "day_reset" in kinds and kinds[-1] == "reset"


def test_journal_when_disk_full_then_counted_and_watchdog_acts_anyway(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "cascade")
    errors = []
    journal.on_error = lambda: errors.append(1)
    j = journal._j  # the open journal: point its descriptor at a full device
    os.close(j._fd)
    j._fd = os.open("/dev/full", os.O_WRONLY)
    cycle(v, engine)
    assert v.control["risk_action"] == RA_PULL
    assert journal.errors >= 1 and errors


def test_journal_when_state_dir_unusable_then_counted_and_watchdog_acts_anyway(mem, tmp_path):
    (tmp_path / "file").write_text("")
    v = make_view(mem, tmp_path)
    journal = RiskJournal(tmp_path / "file" / "risk-journal.jsonl")  # a file where a dir must be
    engine = ActionEngine(v.cfg, v.control, journal)
    set_position(mem, 0, position_sz=0.2, mark_px=100_000.0)  # $20,000: beyond the limit
    cycle(v, engine)
    assert kill_state(v.control)["reason"].startswith("position: ")
    assert journal.errors >= 1


def test_engine_when_restarted_with_action_in_force_then_holds_it_then_resets(mem, tmp_path):
    v, engine, journal = setup(mem, tmp_path, "cascade")
    cycle(v, engine)
    assert v.control["risk_action"] == RA_PULL
    set_params(mem, 1, valid=1, cascade_severity=0.0)
    again = ActionEngine(v.cfg, v.control, journal)  # a restarted watchdog
    now = time.monotonic_ns()
    again.apply(checks.evaluate(v, NOON), now_mono_ns=now)
    assert v.control["risk_action"] == RA_PULL
    again.apply(checks.evaluate(v, NOON), now_mono_ns=now + int(6e9))
    assert v.control["risk_action"] == RA_NONE


def test_metrics_when_action_in_force_then_gauge_with_its_check(mem, tmp_path):
    from appliance.risk.metrics import ApplianceCollector

    v, engine, _ = setup(mem, tmp_path, "margin")
    cycle(v, engine)
    fams = {f.name: f for f in ApplianceCollector(mem, v.cfg, "inst").collect()}
    (sample,) = fams["mm_risk_action"].samples
    assert sample.labels == {"mm_instance": "inst", "check": "margin"} and sample.value == RA_REDUCE_ONLY
