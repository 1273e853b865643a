"""Why the ordering intrinsics exist: a numba loop polling shared memory.

A ``@njit`` loop ``while a[0] == 0`` compiles to one load hoisted out of an endless
loop: it never sees another thread's store. The same loop over ``load_acquire``
(or ``load_relaxed``) re-reads memory and returns once another thread or process
sets the word. Each case runs in its own subprocess (this file run as a script),
so the control, which hangs by design, can be killed. The assertions are about
behaviour (exits / is still spinning 10 s after the store), not about timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from numba import njit, typeof

from appliance.ipc.atomics import load_acquire, load_relaxed
from shm_layout import SEGMENT_BY_NAME, InstanceMemory, attach, create

pytestmark = pytest.mark.timeout(120)

AFTER_STORE_S = 10.0  # how long a poller gets to notice the store
# The word is stored only once the poller's thread has used this much CPU since it
# said it was entering the loop: by then it is spinning, whatever the load.
SPIN_CPU_BEFORE_STORE_S = 0.2


@njit(nogil=True)
def poll_plain(a):
    n = 0
    while a[0] == 0:
        n += 1
    return n


@njit(nogil=True)
def poll_acquire(a):
    n = 0
    while load_acquire(a, 0) == 0:
        n += 1
    return n


@njit(nogil=True)
def poll_relaxed(a):
    n = 0
    while load_relaxed(a, 0) == 0:
        n += 1
    return n


POLLERS = {"plain": poll_plain, "acquire": poll_acquire, "relaxed": poll_relaxed}


def thread_cpu_s(pid: int, tid: int) -> float:
    """User + system CPU time of one thread, from /proc."""
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_spinning(pid: int, tid: int, timeout_s: float = 60.0) -> None:
    base = thread_cpu_s(pid, tid)
    deadline = time.monotonic() + timeout_s
    while thread_cpu_s(pid, tid) - base < SPIN_CPU_BEFORE_STORE_S:
        if time.monotonic() > deadline:
            raise AssertionError("the poller never started spinning")
        time.sleep(0.02)


def say(line: str) -> None:
    """One write per line: print() writes the newline separately, and two threads'
    lines would interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def poller_main(load: str, setter: str, instance: str) -> None:
    """Poll a zeroed int64 until it becomes non-zero; print 'returned' then.
    setter 'thread': a thread of this process stores 1 once the poller spins, and
    prints 'set'. setter 'process': the word is seq 0 of the instance's params
    segment, which the test process sets once the poller spins."""
    poll = POLLERS[load]
    if setter == "thread":
        word = np.zeros(1, dtype=np.int64)
    else:
        seg = attach(instance, "params")
        word = seg.seqs
    poll.compile((typeof(word),))  # compiled before anyone can store

    def store() -> None:
        wait_until_spinning(os.getpid(), threading.main_thread().native_id)
        word[0] = 1
        say("set")

    if setter == "thread":
        threading.Thread(target=store, daemon=True).start()
    say("waiting")
    n = poll(word)
    say(f"returned {n}")


def start(load: str, setter: str, instance: str = "-") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "poll", load, setter, instance],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_line(proc: subprocess.Popen, expected: str) -> list[str]:
    seen = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"exited before '{expected}': {seen} {proc.stderr.read()}")
        seen.append(line.strip())
        if line.strip() == expected:
            return seen


@pytest.fixture
def instance():
    name = f"test{os.getpid()}o"
    try:
        yield name
    finally:
        InstanceMemory.unlink_all(name)


def test_polling_when_acquire_or_relaxed_load_then_returns_and_plain_load_hangs(instance):
    # Arrange: every case at once, so the 10 s of the control overlap the rest.
    params = create(instance, SEGMENT_BY_NAME["params"], lock=False)
    procs = {
        ("plain", "thread"): start("plain", "thread"),
        ("acquire", "thread"): start("acquire", "thread"),
        ("relaxed", "thread"): start("relaxed", "thread"),
        ("acquire", "process"): start("acquire", "process", instance),
    }
    try:
        # Act: each poller is spinning when the word is set.
        for (_load, setter), proc in procs.items():
            if setter == "thread":
                wait_for_line(proc, "set")
            else:
                wait_for_line(proc, "waiting")
                wait_until_spinning(proc.pid, proc.pid)
                params.seqs[0] = 1
        stored_at = time.monotonic()
        # Assert
        for (load, setter), proc in procs.items():
            if load == "plain":
                continue
            left = max(0.5, stored_at + AFTER_STORE_S - time.monotonic())
            proc.wait(timeout=left)  # raises if it is still spinning
            out = proc.stdout.read()  # what follows the line we waited for
            assert proc.returncode == 0, proc.stderr.read()
            assert out.strip().startswith("returned"), (load, setter, out)
        control = procs[("plain", "thread")]
        left = max(0.5, stored_at + AFTER_STORE_S - time.monotonic())
        with pytest.raises(subprocess.TimeoutExpired):
            control.wait(timeout=left)
        assert control.poll() is None, "the plain-load loop saw the store"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        params.close()
    assert control.returncode == -9  # killed by us, never returned


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "poll":
    poller_main(sys.argv[2], sys.argv[3], sys.argv[4])
