"""The risk checks over real segments: each returns a Finding (reason, value, threshold),
or None."""

import dataclasses
import math
import os
import subprocess
import time

import pytest
from risk_helpers import DAY_S, NOON, fresh_segments, make_view, publish_fill, set_params, set_position

from appliance.config import load_config
from appliance.config.schema_risk import RiskActionsConfig
from appliance.risk import checks
from shm_layout.constants import PROC_FEED, PROC_GATEWAY, PROC_SUPERVISOR, PS_RUNNING


@pytest.fixture
def mem():
    with fresh_segments("rchk") as m:
        yield m


@pytest.fixture
def view(mem, tmp_path):
    return make_view(mem, tmp_path)


def fired(v, now_utc_s=NOON) -> dict:
    return {f.check: f for f in checks.evaluate(v, now_utc_s)}


def test_check_names_when_compared_then_exactly_the_keys_of_risk_actions():
    assert tuple(f.name for f in dataclasses.fields(RiskActionsConfig)) == checks.CHECK_NAMES


def test_checks_when_flat_and_fresh_then_no_finding(view):
    view.mem.md.ring_header[0]["last_pub_mono_ns"] = time.monotonic_ns()
    assert checks.evaluate(view, NOON) == []
    assert checks.first_reason(view) is None


def test_check_position_when_beyond_limit_then_reason_names_coin_with_value_and_limit(view):
    set_position(view.mem, 1, position_sz=-1.2, mark_px=2_000.0)  # $2,400 > $2,000 + 10 % slack
    f = fired(view)["position"]
    assert "ETH" in f.reason and "position limit" in f.reason
    assert (f.value, f.threshold) == (-1.2, pytest.approx(1.1))
    assert "ETH" in checks.first_reason(view)


def test_check_position_when_inside_usd_limit_and_its_slack_at_the_mark_then_no_finding(view):
    set_position(view.mem, 1, position_sz=-0.9, mark_px=2_000.0)  # $1,800 < $2,000
    assert "position" not in fired(view)
    set_position(view.mem, 1, position_sz=-1.05, mark_px=2_000.0)  # a rise: $2,100, in the slack
    assert "position" not in fired(view)


def test_check_position_when_limit_in_coin_then_mark_not_needed(mem, tmp_path):
    v = make_view(mem, tmp_path, max_position_sz=0.05)
    set_position(mem, 1, position_sz=-0.06)
    assert fired(v)["position"].threshold == 0.05


def test_check_position_when_not_finite_then_finding(view):
    set_position(view.mem, 0, position_sz=math.nan)
    assert "BTC" in fired(view)["position"].reason


def test_check_loss_when_coins_together_lose_too_much_since_session_start_then_finding(view):
    set_position(view.mem, 0, total_pnl_usd=100.0)  # the session starts at +100
    assert "loss" not in fired(view)
    assert view.control["risk_state_init"] == 1
    assert view.control["risk_session_start_pnl_usd"] == 100.0
    set_position(view.mem, 0, total_pnl_usd=-300.0)
    assert "loss" not in fired(view)  # 400 lost
    set_position(view.mem, 1, total_pnl_usd=-150.0)  # 550 lost against max_loss_usd 500
    f = fired(view)["loss"]
    assert "max_loss_usd" in f.reason and f.value == pytest.approx(550.0) and f.threshold == 500.0


def test_check_loss_when_pnl_not_finite_then_finding(view):
    fired(view)
    set_position(view.mem, 0, total_pnl_usd=math.nan)
    assert "not finite" in fired(view)["loss"].reason


def test_check_daily_loss_when_utc_day_changes_then_baseline_retaken(mem, tmp_path):
    v = make_view(mem, tmp_path, max_daily_loss_usd=100.0)
    day_end = 20_001 * DAY_S - 1.0  # 23:59:59 UTC
    fired(v, day_end - 3600)  # baselines at 0
    set_position(mem, 0, total_pnl_usd=-150.0)
    f = fired(v, day_end)["daily_loss"]
    assert "UTC-day loss 150.00" in f.reason and f.threshold == 100.0
    v.events.clear()
    assert "daily_loss" not in fired(v, day_end + 2.0)  # 00:00:01: a new day, a new baseline
    assert [e["k"] for e in v.events] == ["day_reset"]
    assert v.control["risk_day_start_pnl_usd"] == -150.0
    assert v.control["risk_session_start_pnl_usd"] == 0.0  # the session's stays
    set_position(mem, 0, total_pnl_usd=-260.0)
    assert fired(v, day_end + 60)["daily_loss"].value == pytest.approx(110.0)


def test_check_drawdown_when_pnl_falls_from_session_peak_then_finding(view):
    fired(view)
    set_position(view.mem, 0, total_pnl_usd=400.0)
    assert fired(view) == {}
    assert view.control["risk_peak_pnl_usd"] == 400.0
    set_position(view.mem, 0, total_pnl_usd=50.0)  # still up on the session, 350 below the peak
    found = fired(view)
    assert set(found) == {"drawdown"}
    assert found["drawdown"].value == pytest.approx(350.0) and found["drawdown"].threshold == 300.0


def test_baselines_when_watchdog_restarts_then_kept_from_the_control_block(mem, tmp_path):
    v = make_view(mem, tmp_path)
    set_position(mem, 0, total_pnl_usd=200.0)
    fired(v)
    set_position(mem, 0, total_pnl_usd=-350.0)
    again = make_view(mem, tmp_path)  # a restarted risk process
    found = fired(again)
    assert again.control["risk_session_start_pnl_usd"] == 200.0
    assert found["loss"].value == pytest.approx(550.0) and found["drawdown"].value == pytest.approx(550.0)


def test_check_margin_when_utilisation_high_and_account_known_then_finding(view):
    set_position(view.mem, 0, margin_used_usd=900.0, account_value_usd=1000.0)
    assert "margin" not in fired(view)  # account never published: not known
    set_position(view.mem, 0, margin_used_usd=900.0, account_value_usd=1000.0,
                 account_update_mono_ns=time.monotonic_ns())
    f = fired(view)["margin"]
    assert f.value == pytest.approx(0.9) and f.threshold == 0.8
    set_position(view.mem, 0, margin_used_usd=500.0, account_value_usd=1000.0,
                 account_update_mono_ns=time.monotonic_ns())
    assert "margin" not in fired(view)


def test_check_liquidation_when_mark_close_to_liquidation_price_then_finding(view):
    set_position(view.mem, 1, position_sz=0.01, mark_px=2000.0, liquidation_px=1960.0)  # 200 bps
    f = fired(view)["liquidation"]
    assert "ETH" in f.reason and f.value == pytest.approx(200.0) and f.threshold == 500.0
    set_position(view.mem, 1, position_sz=0.01, mark_px=2000.0, liquidation_px=1000.0)
    assert "liquidation" not in fired(view)
    set_position(view.mem, 1, position_sz=0.01, mark_px=2000.0, liquidation_px=0.0)  # not known
    assert "liquidation" not in fired(view)


def test_check_cascade_when_severity_beyond_limit_then_finding(view):
    set_params(view.mem, 0, valid=1, cascade_severity=0.95)
    f = fired(view)["cascade"]
    assert "BTC" in f.reason and f.value == pytest.approx(0.95) and f.threshold == 0.8
    set_params(view.mem, 0, valid=1, cascade_severity=0.5)
    assert "cascade" not in fired(view)


def test_check_stale_data_when_feed_silent_then_finding(view):
    view.mem.md.ring_header[0]["last_pub_mono_ns"] = time.monotonic_ns() - int(11e9)
    view.started_mono_ns = time.monotonic_ns() - int(12e9)
    assert "stale" in checks.first_reason(view)


def test_check_stale_data_when_no_event_yet_then_first_data_allowance(view):
    view.started_mono_ns = time.monotonic_ns() - int(11e9)
    assert checks.check_stale_data(view) is None  # within first_data_timeout_s (60 s)
    view.started_mono_ns = time.monotonic_ns() - int(61e9)
    assert "no market data" in checks.check_stale_data(view).reason


def test_check_stale_data_when_feed_compiling_then_its_compile_not_counted(view):
    slot = view.control["procs"][PROC_FEED]
    view.started_mono_ns = time.monotonic_ns() - int(100e9)
    slot["compile_ns"] = int(30e9)  # finished compiles
    slot["compiling_since_ns"] = time.monotonic_ns() - int(20e9)  # and one in progress
    assert checks.check_stale_data(view) is None  # 100 s - 50 s of compiling < 60 s
    slot["compiling_since_ns"] = 0  # the compile ended without a first event: 70 s count
    f = checks.check_stale_data(view)
    assert "no market data" in f.reason and "30.0 s of it the feed compiling" in f.reason
    assert f.value == pytest.approx(70.0, abs=1.0)


def test_check_clock_when_failed_checks_in_a_row_reach_limit_then_finding(view):
    view.control["clock_fail_streak"] = 2
    assert "clock" not in fired(view)
    view.control["clock_fail_streak"] = 3
    f = fired(view)["clock"]
    assert (f.value, f.threshold) == (3, 3)


def test_check_heartbeat_when_child_silent_then_finding(view):
    slot = view.control["procs"][PROC_FEED]
    slot["state"] = PS_RUNNING
    # limit: 2 x supervisor.heartbeat_timeout_ms
    slot["heartbeat_mono_ns"] = time.monotonic_ns() - int(3e6 * view.cfg.supervisor.heartbeat_timeout_ms)
    assert "lost heartbeat of feed" in fired(view)["heartbeat"].reason


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_check_heartbeat_when_supervisor_gone_or_silent_then_finding(view):
    sup = view.control["procs"][PROC_SUPERVISOR]
    sup["pid"] = _dead_pid()
    sup["state"] = PS_RUNNING
    assert "heartbeat" not in fired(view)  # never wrote a heartbeat: not watched yet
    sup["heartbeat_mono_ns"] = time.monotonic_ns()
    assert "is gone" in fired(view)["heartbeat"].reason
    sup["pid"] = os.getpid()
    assert "heartbeat" not in fired(view)
    sup["heartbeat_mono_ns"] = time.monotonic_ns() - int(3e6 * view.cfg.supervisor.heartbeat_timeout_ms)
    assert "lost heartbeat of supervisor" in fired(view)["heartbeat"].reason


def test_check_rate_limit_when_headroom_low_on_hyperliquid_then_finding(mem, tmp_path):
    ctl = mem.control.records[0]
    ctl["gw_rate_headroom_frac"] = 0.01
    v = make_view(mem, tmp_path)  # gateway.venue = "hyperliquid", the default
    assert "rate_limit" not in fired(v)  # the gateway has not started: its figure is not yet
    ctl["procs"][PROC_GATEWAY]["state"] = PS_RUNNING
    f = fired(v)["rate_limit"]
    assert (f.value, f.threshold) == (0.01, 0.05)
    ctl["gw_rate_headroom_frac"] = -1.0  # not known
    assert "rate_limit" not in fired(v)
    ctl["gw_rate_headroom_frac"] = 0.01
    cfg = load_config(overrides={"appliance": {"coins": ["BTC", "ETH"]}, "gateway": {"venue": "paper"}})
    paper = checks.RiskView(cfg, mem, str(tmp_path / "KILL"), time.monotonic_ns())
    assert "rate_limit" not in fired(paper)  # the paper executor has no venue budget


def test_check_fill_outside_when_fill_far_from_mid_then_finding_once(view):
    publish_fill(view.mem, coin=0, px=100_010.0, mid_px=100_000.0, sz=0.001)  # 1 bps
    assert "fill_outside" not in fired(view)
    publish_fill(view.mem, coin=1, px=2_050.0, mid_px=2_000.0, sz=0.01)  # 250 bps
    f = fired(view)["fill_outside"]
    assert "ETH" in f.reason and f.value == pytest.approx(250.0) and f.threshold == 100.0
    assert "fill_outside" not in fired(view)  # read once: the cursor moved on
    assert view.control["procs"][4]["fills_cursor"] == 3  # kept in the risk slot


def test_check_kill_switch_file_when_present_then_first_reason(view, tmp_path):
    (tmp_path / "KILL").touch()
    set_position(view.mem, 0, position_sz=1.0)
    assert "kill switch file" in checks.first_reason(view)


def test_disabled_checks_when_listed_then_not_run(mem, tmp_path):
    v = make_view(mem, tmp_path, disabled_checks=["position", "clock"])
    set_position(mem, 0, position_sz=1.0)
    v.control["clock_fail_streak"] = 9
    assert fired(v) == {}


def test_check_position_when_no_mark_then_the_params_mid_values_it(view):
    set_params(view.mem, 1, valid=1, mid_px=2_000.0)
    set_position(view.mem, 1, position_sz=-1.2)  # $2,400 at the params' mid: beyond
    assert fired(view)["position"].threshold == pytest.approx(1.1)


def test_check_position_when_no_price_at_all_then_a_usd_limit_is_not_checked(view):
    set_position(view.mem, 1, position_sz=-1.2)  # nothing can add to it without a price
    assert "position" not in fired(view)
