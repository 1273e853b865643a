"""The risk watchdog process over a real segment set: a check fires, the process acts
(graded action, then kill flag) and journals it."""

import os
import signal
import subprocess
import sys

import pytest
from appliance_helpers import wait_for
from risk_helpers import fresh_segments, set_params, set_position

from appliance.risk.journal import read_records
from appliance.runtime.control import kill_state
from shm_layout.constants import RA_NONE, RA_PULL


@pytest.fixture
def running(tmp_path):
    cfg = tmp_path / "mm.toml"
    cfg.write_text(f'[appliance]\nstate_dir = "{tmp_path}/state"\n'
                   "[risk]\nmetrics_port = 0\naction_hold_s = 0.2\n")
    with fresh_segments("rproc") as mem:
        env = {k: v for k, v in os.environ.items() if k != "MM_SUPERVISOR_PID"}
        p = subprocess.Popen([sys.executable, "-m", "appliance.risk", "--instance",
                              f"rproc{os.getpid()}", "--config", str(cfg)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            yield {"mem": mem, "journal": tmp_path / "state" / "risk-journal.jsonl", "proc": p}
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_risk_process_when_checks_fire_then_acts_and_journals(running):
    mem, journal = running["mem"], running["journal"]
    ctl = mem.control.records[0]
    assert wait_for(lambda: ctl["risk_state_init"] == 1, 120), "no baselines taken"
    set_params(mem, 0, valid=1, cascade_severity=1.0)  # default action: pull
    assert wait_for(lambda: ctl["risk_action"] == RA_PULL, 10)
    set_params(mem, 0, valid=1, cascade_severity=0.0)
    assert wait_for(lambda: ctl["risk_action"] == RA_NONE, 10)  # after action_hold_s
    set_position(mem, 0, position_sz=1.0, mark_px=100_000.0)  # default action: kill
    assert wait_for(lambda: kill_state(ctl)["active"], 10)
    assert kill_state(ctl)["source"] == "risk" and kill_state(ctl)["reason"].startswith("position: ")
    expected = ["baselines", "trigger", "action", "reset", "trigger"]
    assert wait_for(lambda: [r["k"] for r in read_records(journal)] == expected, 10), \
        read_records(journal)
    assert running["proc"].poll() is None
