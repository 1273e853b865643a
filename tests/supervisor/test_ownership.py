"""One instance, one set: the instance lock, its holders, leftover ending (real
processes, real flock, no appliance)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from appliance.runtime.control import pid_alive
from appliance.supervisor import ownership

SLEEPER = "import sys, time; time.sleep(60)"


def _sleeper(instance: str, **kw) -> subprocess.Popen:
    # argv carries "appliance" and "--instance NAME", as our processes' command lines do
    return subprocess.Popen([sys.executable, "-c", SLEEPER, "appliance.fake", "--instance", instance],
                            **kw)


def test_lock_when_held_then_second_take_refused_until_released(tmp_path):
    first = ownership.try_lock(tmp_path)
    assert first is not None
    assert ownership.lock_owner_pid(tmp_path) == os.getpid()
    assert ownership.try_lock(tmp_path) is None
    os.close(first.fd)
    again = ownership.try_lock(tmp_path)
    assert again is not None
    os.close(again.fd)


def test_lock_when_handed_to_a_child_then_held_until_the_child_dies(tmp_path):
    lock = ownership.try_lock(tmp_path)
    child = _sleeper("own-a", pass_fds=(lock.fd,))
    try:
        os.close(lock.fd)  # the "supervisor" is gone; its child still holds the lock
        assert ownership.try_lock(tmp_path) is None
        assert child.pid in ownership.lock_holders(tmp_path)
    finally:
        child.kill()
        child.wait()
    relock = ownership.try_lock(tmp_path)
    assert relock is not None
    os.close(relock.fd)


def test_instance_of_when_command_lines_vary_then_instance_found():
    assert ownership.instance_of("python -m appliance.gateway --instance hl1 --config x") == "hl1"
    assert ownership.instance_of("python -m appliance.cli start --instance=abc") == "abc"
    assert ownership.instance_of("/usr/bin/mmctl start --foreground") == "default"
    assert ownership.instance_of("python -m http.server") is None


def test_end_leftovers_when_a_child_survives_then_ended_and_named(tmp_path):
    lock = ownership.try_lock(tmp_path)
    child = _sleeper("own-b", pass_fds=(lock.fd,))
    os.close(lock.fd)
    other = _sleeper("someone-else")  # another instance's process: never touched
    try:
        ownership.write_pids(tmp_path, 0, {"feed": child.pid, "quote": other.pid}, 0)
        ended = ownership.end_leftovers("own-b", tmp_path, [])
        assert any(f"feed pid {child.pid}" in e for e in ended), ended
        assert child.wait(5) is not None
        assert pid_alive(other.pid)
    finally:
        for p in (child, other):
            p.kill()
            p.wait()


def test_end_leftovers_when_sigterm_ignored_then_sigkill(tmp_path):
    deaf = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print(1, flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", deaf, "appliance.fake", "--instance", "own-c"],
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"1"  # SIGTERM is ignored from here on
        ended = ownership.end_pids([("gateway", child.pid)], "own-c", grace_s=0.5)
        assert ended == [f"gateway pid {child.pid} (SIGKILL after SIGTERM)"]
        assert child.wait(5) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_end_leftovers_when_supervisor_alive_then_refused(tmp_path):
    sup = subprocess.Popen([sys.executable, "-c", SLEEPER, "appliance.supervisor", "--instance", "own-d"])
    try:
        # until the child has exec'd: its command line names the supervisor
        deadline = time.monotonic() + 10.0
        while "appliance.supervisor" not in ownership.cmdline(sup.pid):
            assert time.monotonic() < deadline, "the stand-in supervisor did not start"
            time.sleep(0.01)
        with pytest.raises(ownership.InstanceBusy, match="already running"):
            ownership.end_leftovers("own-d", tmp_path, [("supervisor", sup.pid)])
        assert pid_alive(sup.pid)
    finally:
        sup.kill()
        sup.wait()
