"""The IPC benchmark runs end to end, on real processes and shared memory, and
reports a positive, finite figure for everything it measures. No timing thresholds:
the numbers belong to the machine, not to the code."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tools.bench_ipc import METHODS, render, run_ipc_bench

pytestmark = pytest.mark.timeout(600)


def _bench_segments_left() -> list[str]:
    return [e for e in os.listdir("/dev/shm") if e.startswith(f"mm.bench{os.getpid()}")]


def _assert_positive_finite(value, where: str) -> None:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    assert math.isfinite(value) and value > 0, f"{where} = {value}"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "ipc.json"
    res = run_ipc_bench(round_trips=2000, json_out=str(out))
    return res, out


def test_run_ipc_bench_when_2000_round_trips_then_every_method_measured(result):
    res, _ = result
    assert res["round_trips"] == 2000
    assert set(res["hop_ns"]) == set(METHODS)
    for method, hop in res["hop_ns"].items():
        for stat in ("p50", "p99", "mean"):
            _assert_positive_finite(hop[stat], f"{method}.{stat}")
        assert hop["p99"] >= hop["p50"], method
        expected_n = res["setup"]["hybrid_idle_round_trips"] if method == "hybrid_idle" else 2000
        assert hop["n"] == expected_n, method


def test_run_ipc_bench_when_done_then_seqlock_costs_and_ratios_positive(result):
    res, _ = result
    sl = res["seqlock_read_ns"]
    _assert_positive_finite(sl["numba"], "seqlock numba")
    _assert_positive_finite(sl["python_snapshot"], "seqlock python")
    for period, cost in sl["by_writer_period_ns"].items():
        _assert_positive_finite(cost["numba"], f"seqlock numba @{period}")
        _assert_positive_finite(cost["python_snapshot"], f"seqlock python @{period}")
        assert cost["writes_during_reads"] > 0, f"the writer never wrote @{period}"
    assert set(res["ratios"]) >= {
        "pipe_p50_over_numba_p50",
        "pipe_p50_over_python_spin_p50",
        "queue_p50_over_numba_p50",
        "numba_spin_p50_over_numba_128b_p50",  # issue 18: the market-event hop against 128 B
        "numba_spin_trade_p50_over_numba_128b_p50",
        "numba_spin_book_p50_over_numba_128b_p50",
    }
    for name, value in res["ratios"].items():
        _assert_positive_finite(value, name)
    hop = res["hop_ns"]
    assert res["ratios"]["pipe_p50_over_numba_p50"] == pytest.approx(
        hop["pipe"]["p50"] / hop["numba_spin"]["p50"])


def test_run_ipc_bench_when_done_then_machine_facts_recorded_and_nothing_left(result):
    res, _ = result
    m = res["machine"]
    assert m["cpu_model"] and m["python"] and m["numba"] and m["kernel"]
    assert m["nproc"] == os.cpu_count()
    if len(os.sched_getaffinity(0)) >= 2:
        assert res["setup"]["pinned"]
        cpus = res["setup"]["cpus"]
        assert len(cpus["ping"]) == len(cpus["pong"]) == 1 and cpus["ping"] != cpus["pong"]
    _assert_positive_finite(res["wall_s"], "wall_s")
    assert _bench_segments_left() == []


def test_run_ipc_bench_when_json_out_then_file_holds_the_result(result):
    res, out = result
    assert json.loads(out.read_text()) == json.loads(json.dumps(res))
    text = render(res)
    for method in METHODS:
        assert method in text


def _mmctl_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance.cli", "bench", *args],
                          capture_output=True, text=True, timeout=600)


def _all_bench_segments() -> set[str]:
    return {e for e in os.listdir("/dev/shm") if e.startswith("mm.bench")}


def test_bench_ipc_command_when_run_then_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "cli.json"
    before = _all_bench_segments()
    got = _mmctl_bench("ipc", "--round-trips", "300", "--json", str(out))
    assert got.returncode == 0, got.stdout + got.stderr
    assert "numba_spin" in got.stdout and "Pipe/numba" in got.stdout
    saved = json.loads(out.read_text())
    assert saved["round_trips"] == 300
    assert _all_bench_segments() <= before


def test_bench_ipc_command_when_too_few_round_trips_then_usage_error():
    got = _mmctl_bench("ipc", "--round-trips", "5")
    assert got.returncode == 2
    assert "round-trips" in got.stderr
