"""tools.bench_start: a real `mmctl start` on the local venue, timed by stage."""

import json
import subprocess
import sys
from pathlib import Path

from tools.bench_start import STAGES, _first, _log_times


def test_log_times_when_lines_are_json_or_not_then_only_json_records_with_their_epoch(tmp_path):
    # Arrange
    log = tmp_path / "supervisor.log"
    log.write_text('{"time": "2026-12-04T04:39:50.185Z", "message": "stage: local venue on x"}\n'
                   "Traceback (most recent call last):\n"
                   '{"time": "2026-12-04T04:39:50.948Z", "message": "stage: gateway running (1.9 s)"}\n')
    # Act
    recs = _log_times(log)
    # Assert
    assert [m for _, m in recs] == ["stage: local venue on x", "stage: gateway running (1.9 s)"]
    assert round(recs[1][0] - recs[0][0], 3) == 0.763
    assert _first(recs, "gateway", "running") == recs[1][0]
    assert _first(recs, "risk running") is None


def test_bench_start_when_run_then_every_stage_is_timed_in_order(tmp_path):
    # Arrange
    out = tmp_path / "start.json"
    # Act
    res = subprocess.run([sys.executable, "-m", "tools.bench_start", "--runs", "1", "--json", str(out)],
                         capture_output=True, text=True, timeout=900)
    # Assert
    assert res.returncode == 0, res.stdout + res.stderr
    run = json.loads(out.read_text())["runs"][0]
    assert run["rc"] == 0, run["stderr_tail"]
    s = run["s"]
    assert all(s[k] is not None and s[k] > 0 for k in STAGES), s
    assert s["supervisor_first_line"] <= s["fork_server_ready"] <= s["feed_forked"]
    assert s["venue_up"] <= s["feed_forked"] <= s["feed_running"] <= s["all_healthy"]
    assert s["first_params"] <= s["params_valid"] <= s["first_ladder"] <= s["first_resting"]
    assert s["first_resting"] <= s["mmctl_returned"]


def test_bench_start_when_before_tree_given_then_both_trees_run_each_round(tmp_path):
    # Arrange: this checkout stands in for the before tree (its own cache: the same)
    out = tmp_path / "start.json"
    root = Path(__file__).resolve().parents[2]
    # Act
    res = subprocess.run([sys.executable, "-m", "tools.bench_start", "--runs", "1",
                          "--before", str(root), "--json", str(out)],
                         capture_output=True, text=True, timeout=900)
    # Assert
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(out.read_text())
    assert set(data["runs"]) == set(data["median_s"]) == {"before", "after"}
    for arm in ("before", "after"):
        (run,) = data["runs"][arm]
        assert run["rc"] == 0, run["stderr_tail"]
        assert run["s"]["first_resting"] is not None
    order = [ln.split()[2].rstrip(":") for ln in res.stdout.splitlines() if ln.startswith("run ")]
    assert order == ["before", "after"]
