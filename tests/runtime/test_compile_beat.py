"""The heartbeat moves while numba compiles and stands still otherwise."""

import time

import numpy as np
from numba import njit

from appliance.runtime.compile_beat import CompileBeat
from appliance.runtime.compile_log import CompileLog

SLOT = np.dtype([("heartbeat_mono_ns", "<i8")])


def test_heartbeat_stamped_during_a_compile_only():
    slot = np.zeros(1, SLOT)[0]
    log = CompileLog("testproc")
    beat = CompileBeat(slot, log, interval_s=0.01)
    time.sleep(0.1)
    assert slot["heartbeat_mono_ns"] == 0 and not beat.compiling  # idle: no beat

    @njit  # NOT_CACHED: a fresh compile every run is the point
    def slow_to_compile(x):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += np.sin(x[i]) * np.cos(x[i]) + np.sqrt(abs(x[i])) + np.exp(-x[i] * x[i])
        return acc

    before = time.monotonic_ns()
    slow_to_compile(np.ones(3))
    assert log.compiles >= 1 and not beat.compiling
    assert beat.beats >= 1  # a numba compile takes far more than the 10 ms interval
    assert slot["heartbeat_mono_ns"] >= before
    stamped = int(slot["heartbeat_mono_ns"])
    slow_to_compile(np.ones(3))  # compiled: no event, no beat
    time.sleep(0.05)
    assert int(slot["heartbeat_mono_ns"]) == stamped


def test_compile_log_when_kernel_compiles_then_slot_and_file_say_how_long(tmp_path):
    from appliance.runtime.compile_log import CompileLog
    from appliance.runtime.compile_log import read_log as load
    from tools.compile_profile import profile

    slot = np.zeros(1, np.dtype([("compile_ns", "<i8"), ("compiling_since_ns", "<i8")]))[0]
    path = tmp_path / "compile.jsonl"
    log = CompileLog("testproc", path=str(path), slot=slot)

    @njit  # NOT_CACHED: a fresh compile every run is the point
    def inner(x):
        return np.sqrt(abs(x)) + 1.0

    @njit  # NOT_CACHED
    def outer(x):
        return inner(x) * 2.0

    assert log.summary() == ""
    outer(3.0)
    assert log.compiles == 2  # outer, and inner nested in it
    assert slot["compiling_since_ns"] == 0 and slot["compile_ns"] > 0
    assert abs(slot["compile_ns"] / 1e9 - log.top_level_s) < 1e-3  # the nested one counted once
    assert "outer" in log.summary()
    recs = load(str(path))
    by_fn = {r["fn"].rsplit(".", 1)[-1]: r for r in recs}
    assert by_fn["inner"]["depth"] == 1 and by_fn["outer"]["depth"] == 0
    assert by_fn["outer"]["self_s"] < by_fn["outer"]["total_s"]
    assert 0 < by_fn["outer"]["self_cpu_s"] < by_fn["outer"]["cpu_s"]
    prof = profile(recs)
    assert prof["processes"]["testproc"]["compiles"] == 2
    outer(4.0)  # compiled: nothing more
    assert log.compiles == 2 and len(load(str(path))) == 2
