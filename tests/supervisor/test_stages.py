"""Start-up stages over real segments: each process said once as it comes up, the
first params, and 'ready' only when an order rests, else why not (kill flag, pull)."""

import json
import logging

import numpy as np
import pytest
from risk_helpers import fresh_segments, set_params, set_position

from appliance.config import load_config
from appliance.ipc import byte_rows, seqlock
from appliance.runtime.control import set_kill
from appliance.supervisor.run import LogTail, _last_error, parse_line
from appliance.supervisor.stages import StartupStages, quoting_state, read_block
from shm_layout import records
from shm_layout.constants import (
    N_CHILDREN,
    PROC_NAMES,
    PS_RUNNING,
    PULL_KILL,
    PULL_REASON_NAMES,
    RA_REDUCE_ONLY,
)


@pytest.fixture
def mem():
    with fresh_segments("stages") as m:
        yield m


def _set_ladder(mem, coin, **fields):
    rec = np.zeros(1, records.TARGET_LADDER)
    for k, v in fields.items():
        rec[k] = v
    seqlock.write_block(mem.ladder.seqs, mem.ladder.rows, coin, byte_rows(rec)[0])


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_quoting_state_names_why_not_until_an_order_rests(mem):
    coins = ["BTC", "ETH"]
    assert quoting_state(mem, coins) == ([], "BTC: no ladder yet; ETH: no ladder yet")
    _set_ladder(mem, 0, update_mono_ns=1, pulled_reason=PULL_KILL)
    _set_ladder(mem, 1, update_mono_ns=1, n_bids=3, n_asks=3)
    assert quoting_state(mem, coins)[1] == (
        f"BTC: ladder pulled ({PULL_REASON_NAMES[PULL_KILL]}); "
        "ETH: ladder computed (3 bids, 3 asks), no order resting yet")
    set_kill(mem.control.records[0], "drill", "mmctl")
    assert quoting_state(mem, coins)[1].startswith("kill flag ACTIVE (mmctl: drill)")
    set_position(mem, 1, n_open_asks=2)
    assert quoting_state(mem, coins)[0] == ["ETH"]


def test_quoting_state_names_an_empty_ladder_the_risk_action_and_the_gateways_account(mem, tmp_path):
    _set_ladder(mem, 0, update_mono_ns=1, reducing_only=1)
    ctl = mem.control.records[0]
    ctl["risk_action"], ctl["risk_action_check"] = RA_REDUCE_ONLY, b"rate_limit"
    stats = tmp_path / "gateway.json"
    stats.write_text(json.dumps({"venue_health": {"state": "pulled", "latency_ewma_ms": 1500.0},
                                 "orders_sent": 7, "rejects": 7, "alo_rejects": 7, "open_orders": 0,
                                 "pretrade_denials": 2}))
    why = quoting_state(mem, ["BTC"], stats)[1]
    assert why == ("BTC: ladder empty (reducing only, nothing to reduce); risk action reduce_only "
                   "(rate_limit); gateway: venue pulled (1500.0 ms), 7 orders sent, 7 rejected "
                   "(7 post-only), 0 open, pre-trade denials 2")
    stats.write_text("{not json")  # being rewritten: the rest of the verdict still stands
    assert quoting_state(mem, ["BTC"], stats)[1].endswith("(rate_limit)")


def test_stages_said_once_each_then_ready_when_quoting(mem, caplog):
    caplog.set_level(logging.INFO)
    log = logging.getLogger("test-stages")
    stages = StartupStages(mem, ["BTC"], log, "/var/log/mm")
    assert _messages(caplog)[0].startswith("logs: /var/log/mm/{supervisor,feed,")
    procs = mem.control.records[0]["procs"]
    procs[0]["state"] = PS_RUNNING
    stages.poll(healthy=False)
    stages.poll(healthy=False)
    assert sum(f"stage: {PROC_NAMES[0]} running" in m for m in _messages(caplog)) == 1
    set_params(mem, 0, update_mono_ns=5)
    for p in range(N_CHILDREN):
        procs[p]["state"] = PS_RUNNING
    stages.poll(healthy=True)
    msgs = _messages(caplog)
    assert any(m.startswith("stage: first market params for BTC") for m in msgs)
    assert any(m.startswith("stage: all five processes healthy") for m in msgs)
    assert not any(m.startswith("ready:") for m in msgs)  # nothing rests yet
    set_position(mem, 0, n_open_bids=1)
    stages.poll(healthy=True)
    stages.poll(healthy=True)
    assert sum(m.startswith("ready: quoting BTC") for m in _messages(caplog)) == 1


def test_healthy_but_not_quoting_is_a_warning_with_the_reason(mem, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    stages = StartupStages(mem, ["BTC"], logging.getLogger("test-stages"), "/tmp/x")
    monkeypatch.setattr("appliance.supervisor.stages.NOT_QUOTING_GRACE_S", 0.0)
    set_kill(mem.control.records[0], "restarts", "supervisor")
    stages.poll(healthy=True)
    stages.poll(healthy=True)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == ["healthy but NOT quoting: kill flag ACTIVE (supervisor: restarts); "
                      "`mmctl kill --reset --reason ...` clears it"]


def test_log_tail_returns_only_whole_new_lines(tmp_path):
    path = tmp_path / "supervisor.log"
    path.write_text("old line\n")
    tail = LogTail(path)
    assert tail.new_lines() == []
    with open(path, "a") as f:
        f.write("one\ntw")
    assert tail.new_lines() == ["one"]
    with open(path, "a") as f:
        f.write("o\n")
    assert tail.new_lines() == ["two"]
    assert LogTail(tmp_path / "missing.log").new_lines() == []


def test_supervisor_lines_when_json_or_plain_then_records_and_last_error_found(tmp_path, monkeypatch):
    """What ``mmctl start`` relays and reports from the detached supervisor's log lines."""
    from appliance.runtime import logs

    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    cfg = load_config(overrides={"appliance": {"state_dir": str(tmp_path)}})
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        path = logs.setup("supervisor", "t", cfg)
        log = logging.getLogger("supervisor")
        log.info("stage: feed running (1.0 s)")
        log.error("instance 't': metrics port 9817 is taken")
        log.info("stopping")
    finally:
        for h in root.handlers:
            h.close()
        root.handlers[:] = saved
    first = parse_line(path.read_text().splitlines()[0])
    assert (first["level"], first["message"]) == ("INFO", "stage: feed running (1.0 s)")
    assert parse_line("Traceback (most recent call last):") == {
        "message": "Traceback (most recent call last):"}
    assert _last_error(path, 0) == "instance 't': metrics port 9817 is taken"


def test_read_block_when_a_block_was_published_then_the_same_record_as_the_kernels_snapshot(mem):
    # Arrange
    _set_ladder(mem, 1, update_mono_ns=7, n_bids=3, n_asks=2, mid_px=101.5)
    # Act
    got = read_block(mem.ladder, 1)
    # Assert
    want, seq = seqlock.snapshot(mem.ladder, 1)
    assert seq > 0 and int(got["seq"]) == seq
    assert got.tobytes() == want.tobytes()


def test_read_block_when_the_writer_never_finishes_then_no_torn_copy_is_returned(mem):
    # Arrange: an odd seq is a write in progress
    _set_ladder(mem, 0, update_mono_ns=5, n_bids=1)
    mem.ladder.seqs[0] += 1
    # Act
    got = read_block(mem.ladder, 0, max_tries=10)
    # Assert: the kernel's read gives up too: an empty record, never the half-written one
    assert int(got["update_mono_ns"]) == 0
