"""Families of the control block: processes and rings, the kill flag and its reason,
graded risk action, last-resort canceller, clock, market data age, the live feed's
websocket, and the latency histograms of the quote (event -> ladder) and gateway
(tick -> wire) slots."""

from __future__ import annotations

import math
import time

from appliance.ipc import ring
from appliance.runtime.control import heartbeat_age_ms
from shm_layout.constants import (
    LRC_STATE_NAMES,
    N_CHILDREN,
    PROC_GATEWAY,
    PROC_NAMES,
    PROC_QUOTE,
    PS_RUNNING,
)

from .families import counter, gauge, latency_histogram, num


def collect_processes(mem, cfg):
    control = mem.control.records[0]
    now = time.monotonic_ns()
    P = ["process"]
    hb = gauge("mm_heartbeat_age_seconds", "age of each process heartbeat (NaN: none yet)", P)
    running = gauge("mm_process_running", "1 while the supervisor sees the process running", P)
    restarts = counter("mm_restarts_total", "restarts by the supervisor", P)
    errors = counter("mm_process_errors_total", "errors a process counted (malformed input skipped, "
                     "failed cycles, illegal transitions)", P)
    lag = gauge("mm_ring_lag_events", "events published but not yet read", ["ring", "process"])
    lost = counter("mm_ring_lost_events_total", "events lost to a lapped reader", ["ring", "process"])
    md_head = int(ring.head(mem.md.ring_words))
    fl_head = int(ring.head(mem.fills.ring_words))
    for p in range(N_CHILDREN):
        slot = control["procs"][p]
        name = PROC_NAMES[p]
        age = heartbeat_age_ms(slot, now)
        hb.add_metric([name], math.nan if age is None else age / 1e3)
        running.add_metric([name], float(slot["state"] == PS_RUNNING))
        restarts.add_metric([name], float(slot["restarts"]))
        errors.add_metric([name], float(slot["errors"]))
        if slot["md_cursor"] > 0:
            lag.add_metric(["md", name], float(md_head - slot["md_cursor"] + 1))
            lost.add_metric(["md", name], float(slot["md_lost"]))
        if slot["fills_cursor"] > 0:
            lag.add_metric(["fills", name], float(fl_head - slot["fills_cursor"] + 1))
            lost.add_metric(["fills", name], float(slot["fills_lost"]))
    yield from (hb, running, restarts, errors, lag, lost)
    yield from _kill_and_actions(control)
    yield from _clock(control, cfg)
    yield from _data(mem, control, cfg, now)
    yield latency_histogram(
        "mm_event_to_ladder_seconds", "feed publish of a market event to the quote process's "
        "ladder publish", [], [([], control["procs"][PROC_QUOTE]["lat_hist"])])
    yield latency_histogram(
        "mm_tick_to_wire_seconds", "feed receive of the market event behind a ladder to the "
        "gateway's order bytes on the socket (Hyperliquid gateway)", [],
        [([], control["procs"][PROC_GATEWAY]["lat_hist"])])


def _kill_and_actions(control):
    kill = gauge("mm_kill_active", "1 while the kill flag is up")
    kill.add_metric([], float(control["kill_flag"]))
    info = gauge("mm_kill_info", "the kill flag's reason and who raised it; present while it is up",
                 ["reason", "source"])
    if control["kill_flag"]:
        info.add_metric([control["kill_reason"].decode(errors="replace"),
                         control["kill_source"].decode(errors="replace")], 1.0)
    since = gauge("mm_kill_raised_timestamp_seconds", "when the kill flag was raised (wall clock); "
                  "present while it is up")
    if control["kill_flag"] and control["kill_ts_ns"] > 0:
        since.add_metric([], int(control["kill_ts_ns"]) / 1e9)
    ra = gauge("mm_risk_action", "graded risk action in force: 0 none, 1 widen, 2 reduce_only, "
               "3 pull", ["check"])
    ra.add_metric([control["risk_action_check"].decode(errors="replace")], float(control["risk_action"]))
    lrc = gauge("mm_last_resort_canceller_state", "1 for the canceller's current state (idle, "
                "cancelling, verified, failed, off)", ["state"])
    cur = int(control["canceller_state"])
    for i, name in enumerate(LRC_STATE_NAMES):
        lrc.add_metric([name], float(i == cur))
    lrc_n = counter("mm_last_resort_cancelled_total", "orders cancelled by the last-resort canceller")
    lrc_n.add_metric([], float(control["canceller_cancelled"]))
    # from the control block: gateway.json cannot be written on the full disk it reports
    je = counter("mm_gateway_journal_errors_total",
                 "gateway journal operations that failed (disk full, read-only)")
    je.add_metric([], float(control["gw_journal_errors"]))
    yield from (kill, info, since, ra, lrc, lrc_n, je)


def _clock(control, cfg):
    off = gauge("mm_clock_offset_seconds", "the clock's offset from NTP at the supervisor's last "
                "check (0 when no server is configured)")
    off.add_metric([], int(control["clock_offset_ns"]) / 1e9)
    err = gauge("mm_clock_max_error_seconds", "the kernel's maximum clock error (adjtimex)")
    err.add_metric([], int(control["clock_max_error_us"]) / 1e6)
    lim = gauge("mm_clock_offset_limit_seconds", "clock.max_offset_ms: a start is refused beyond it")
    lim.add_metric([], cfg.clock.max_offset_ms / 1e3)
    ok = gauge("mm_clock_ok", "1 when the supervisor's last clock check passed")
    ok.add_metric([], float(control["clock_ok"]))
    streak = gauge("mm_clock_failed_checks", "clock checks failed in a row (risk acts at "
                   "risk.max_clock_failed_checks)")
    streak.add_metric([], float(control["clock_fail_streak"]))
    yield from (off, err, lim, ok, streak)


def _data(mem, control, cfg, now: int):
    last = int(mem.md.ring_header[0]["last_pub_mono_ns"])
    age = gauge("mm_market_data_age_seconds", "time since the feed published its last market "
                "event (NaN: none yet)")
    age.add_metric([], (now - last) / 1e9 if last > 0 else math.nan)
    lim = gauge("mm_market_data_stale_limit_seconds",
                "risk.stale_data_s: the stale_data check acts beyond it")
    lim.add_metric([], float(cfg.risk.stale_data_s))
    conn = counter("mm_feed_ws_connects_total", "websocket connections the live feed established "
                   "(reconnects: all but the first)")
    conn.add_metric([], float(control["feed_ws_connects"]))
    drops = counter("mm_feed_ws_disconnects_total", "established websocket connections that ended "
                    "(closed, error, stale)")
    drops.add_metric([], float(control["feed_ws_drops"]))
    vl = gauge("mm_gateway_venue_latency_seconds", "EWMA of the venue's response time")
    vl.add_metric([], num(control["gw_venue_latency_ms"]) / 1e3)
    yield from (age, lim, conn, drops, vl)
