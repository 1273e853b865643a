"""mmctl kill over a real segment set: a reset needs a reason and no kill switch file;
raise and reset are journaled with who and why."""

import os

import pytest
from click.testing import CliRunner
from risk_helpers import fresh_segments

from appliance.cli.kill import kill
from appliance.risk.journal import read_records
from appliance.runtime.control import kill_state, set_kill


@pytest.fixture
def inst(tmp_path):
    cfg = tmp_path / "mm.toml"
    cfg.write_text(f'[appliance]\nstate_dir = "{tmp_path}/state-{{instance}}"\n')
    name = f"rkill{os.getpid()}"  # the instance fresh_segments("rkill") creates
    with fresh_segments("rkill") as mem:
        yield {"mem": mem, "name": name, "config": str(cfg), "state": tmp_path / f"state-{name}"}


def run(inst, *args, env=None):
    return CliRunner().invoke(kill, [*args, "--instance", inst["name"], "--config", inst["config"]],
                              env=env)


def test_kill_reset_when_no_reason_then_refused_and_flag_stays(inst):
    ctl = inst["mem"].control.records[0]
    set_kill(ctl, "drill", "mmctl")
    r = run(inst, "--reset")
    assert r.exit_code != 0 and "--reason" in r.output
    assert kill_state(ctl)["active"]
    r = run(inst, "--reset", "--reason", "   ")
    assert r.exit_code != 0 and kill_state(ctl)["active"]


def test_kill_reset_when_kill_switch_file_exists_then_refused_until_removed(inst):
    ctl = inst["mem"].control.records[0]
    set_kill(ctl, "kill switch file exists", "risk")
    inst["state"].mkdir(parents=True)
    (inst["state"] / "KILL").touch()
    r = run(inst, "--reset", "--reason", "fixed")
    assert r.exit_code != 0 and "remove it first" in r.output and kill_state(ctl)["active"]
    (inst["state"] / "KILL").unlink()
    r = run(inst, "--reset", "--reason", "fixed")
    assert r.exit_code == 0, r.output
    assert not kill_state(ctl)["active"]


def test_kill_raise_and_reset_when_done_then_journaled_with_who_and_why(inst):
    ctl = inst["mem"].control.records[0]
    r = run(inst, "--reason", "drill", env={"SUDO_USER": "alice"})
    assert r.exit_code == 0 and "raised" in r.output
    assert kill_state(ctl)["source"] == "mmctl" and kill_state(ctl)["reason"] == "drill"
    r = run(inst, "--reset", "--reason", "drill over", env={"SUDO_USER": "alice"})
    assert r.exit_code == 0 and "cleared" in r.output and not kill_state(ctl)["active"]
    recs = read_records(inst["state"] / "risk-journal.jsonl")
    assert [(x["k"], x["who"], x["why"]) for x in recs] == [("kill_raise", "alice", "drill"),
                                                           ("kill_reset", "alice", "drill over")]
    assert recs[1]["was_reason"] == "drill" and recs[1]["was_source"] == "mmctl"


def test_kill_when_already_up_then_first_reason_kept(inst):
    ctl = inst["mem"].control.records[0]
    set_kill(ctl, "position: too long", "risk")
    r = run(inst)
    assert r.exit_code == 0 and "already up" in r.output
    assert kill_state(ctl)["reason"] == "position: too long"
