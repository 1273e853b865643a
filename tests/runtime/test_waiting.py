"""The waiting policies' doorbell under ``hybrid``, and the scheduler slice."""

import os
import threading
import time

import numpy as np
import posix_ipc
import pytest

from appliance.runtime import sched_slice
from appliance.runtime.waiting import Doorbells, Waiter, create_bells, unlink_bells
from shm_layout import records
from shm_layout.constants import PROC_GATEWAY, PROC_QUOTE

LONG_SLEEP_US = 20_000_000  # a backoff far longer than any wake-up the tests wait for


@pytest.fixture
def instance():
    name = f"wait{os.getpid()}"
    create_bells(name, (PROC_QUOTE, PROC_GATEWAY))
    try:
        yield name
    finally:
        unlink_bells(name, (PROC_QUOTE, PROC_GATEWAY))


def _slots():
    return np.zeros(8, records.PROC_SLOT)


def _waiter(instance, slots, hybrid_bell, timer_driven=False):
    w = Waiter("hybrid", 0, LONG_SLEEP_US, 100, instance, PROC_GATEWAY, slots[PROC_GATEWAY],
               timer_driven=timer_driven, hybrid_bell=hybrid_bell)
    w.idle(lambda: 0)  # the first idle call only starts the clock
    w._sleep_s = LONG_SLEEP_US / 1e6  # as after a long quiet spell: at the longest backoff
    return w


def test_hybrid_bell_when_a_producer_publishes_then_the_sleep_ends_before_its_timeout(instance):
    slots = _slots()
    w = _waiter(instance, slots, hybrid_bell=True)
    bells = Doorbells(instance, slots, (PROC_GATEWAY,))

    def publish():
        while not slots[PROC_GATEWAY]["sleeping"]:  # rung only once it sleeps
            time.sleep(0.001)
        bells.ring()

    threading.Thread(target=publish, daemon=True).start()
    t0 = time.monotonic()
    w.idle(lambda: 0)
    assert time.monotonic() - t0 < LONG_SLEEP_US / 1e6 / 2  # woken, not timed out
    assert slots[PROC_GATEWAY]["sleeping"] == 0


def test_hybrid_bell_when_nobody_rings_then_it_sleeps_the_backoff(instance):
    slots = _slots()
    w = _waiter(instance, slots, hybrid_bell=True)
    w._sleep_s = 0.05
    t0 = time.monotonic()
    w.idle(lambda: 0)
    assert time.monotonic() - t0 >= 0.04 and slots[PROC_GATEWAY]["sleeping"] == 0


@pytest.mark.parametrize("hybrid_bell,timer_driven", [(False, False), (True, True)])
def test_hybrid_when_no_bell_asked_or_timer_driven_then_plain_sleep_never_flagged(instance, hybrid_bell,
                                                                                  timer_driven):
    slots = _slots()
    w = _waiter(instance, slots, hybrid_bell=hybrid_bell, timer_driven=timer_driven)
    assert w._bell is None  # producers never ring it: no sleeping flag, no semaphore


def test_hybrid_bell_when_no_supervisor_made_the_bell_then_plain_sleep():
    slots = _slots()
    w = Waiter("hybrid", 0, 1000, 100, f"nobell{os.getpid()}", PROC_GATEWAY, slots[PROC_GATEWAY],
               hybrid_bell=True)
    assert w._bell is None and w.policy == "hybrid"
    with pytest.raises(posix_ipc.ExistentialError):
        posix_ipc.Semaphore(f"/mm.nobell{os.getpid()}.bell.gateway")


def test_set_slice_when_asked_then_the_kernel_shows_it_and_the_nice_value_is_kept():
    before = sched_slice.current_slice_ns()
    if before is None:
        pytest.skip("this kernel does not show se.slice")
    result = {}

    def worker():  # a thread of its own: the test runner keeps its slice
        tid = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, tid)
        result["ok"] = sched_slice.set_slice(300, tid)
        with open(f"/proc/{os.getpid()}/task/{tid}/sched") as f:
            result["slice"] = next(int(x.split(":")[1]) for x in f if x.startswith("se.slice"))
        result["nice"] = (nice, os.getpriority(os.PRIO_PROCESS, tid))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert result["ok"] and result["slice"] == 300_000
    assert result["nice"][0] == result["nice"][1]


def test_set_slice_when_zero_then_nothing_asked():
    assert sched_slice.set_slice(0) is False
