"""The heartbeat moves while numba compiles and stands still otherwise."""

import time

import numpy as np
from numba import njit

from appliance.runtime.compile_beat import CompileBeat

SLOT = np.dtype([("heartbeat_mono_ns", "<i8")])


def test_heartbeat_stamped_during_a_compile_only():
    slot = np.zeros(1, SLOT)[0]
    beat = CompileBeat(slot, interval_s=0.01)
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
    assert beat.compiles >= 1 and not beat.compiling
    assert beat.beats >= 1  # a numba compile takes far more than the 10 ms interval
    assert slot["heartbeat_mono_ns"] >= before
    stamped = int(slot["heartbeat_mono_ns"])
    slow_to_compile(np.ones(3))  # compiled: no event, no beat
    time.sleep(0.05)
    assert int(slot["heartbeat_mono_ns"]) == stamped
