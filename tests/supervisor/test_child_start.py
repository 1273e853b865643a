"""The fork server and the supervisor's child starter, with real processes.

Each test drives ``ChildStarter`` in its own interpreter (it makes that process a child
subreaper, which pytest itself must not become: orphans would turn into its zombies).
The child run is ``python -m http.server`` (lives until killed) or a process module on
an instance that does not exist (exits at once with a traceback on its stream).
"""

import json
import subprocess
import sys
import textwrap

import pytest

from appliance.config import ConfigError, load_config

DRIVER = textwrap.dedent("""
    import json, os, signal, sys, time
    from appliance.supervisor.child_start import ChildStarter
    from appliance.supervisor.forked_child import ForkedChild, parent_of

    os.environ["MM_SUPERVISOR_PID"] = str(os.getpid())
    out_path = sys.argv[1]
    st = ChildStarter("fork", "cstest", ())
    st.begin(dict(os.environ))
    res = {}

    def start(cmd, cpus=None):
        out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            return st.start([sys.executable, "-m", *cmd], dict(os.environ, CS_MARK="1"), (),
                            cpus, out)
        finally:
            os.close(out)

    def wait_until(pred, s=30.0):
        end = time.monotonic() + s
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.01)
        return False

    def facts(c):
        wait_until(lambda: "http.server" in open(f"/proc/{c.pid}/cmdline").read())
        return {"forked": isinstance(c, ForkedChild), "parent_is_us": parent_of(c.pid) == os.getpid(),
                "cmdline": open(f"/proc/{c.pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode(),
                "cpus": sorted(os.sched_getaffinity(c.pid)),
                "stdout": os.readlink(f"/proc/{c.pid}/fd/1")}

    c = start(["http.server", "0", "--bind", "127.0.0.1"], {0})
    res["live"] = facts(c)
    c.kill()
    res["live"]["rc_after_kill9"] = c.wait(10)
    c = start(["timeit", "-n", "1", "-r", "1", "import os; assert os.environ['CS_MARK'] == '1'"])
    res["env_rc"] = c.wait(60)
    c = start(["appliance.feed", "--instance", "no-such-instance-cs"])
    res["module_rc"] = c.wait(60)
    res["module_forked"] = isinstance(c, ForkedChild)

    server = st.server_pid
    os.kill(server, signal.SIGKILL)
    wait_until(lambda: st.check(set()), 10)
    res["server_restarted"] = st.server_pid not in (0, server)
    c = start(["http.server", "0", "--bind", "127.0.0.1"])
    res["while_importing_forked"] = isinstance(c, ForkedChild)
    c.kill(); c.wait(10)
    wait_until(lambda: (st.check(set()), st.ready)[1], 120)
    c = start(["http.server", "0", "--bind", "127.0.0.1"])
    res["after_restart"] = facts(c)
    c.kill(); c.wait(10)
    hung = st.server_pid
    os.kill(hung, signal.SIGSTOP)  # a server that never answers
    c = start(["http.server", "0", "--bind", "127.0.0.1"])
    res["hung_spawned"] = not isinstance(c, ForkedChild) and c.poll() is None
    res["hung_replaced"] = st.server_pid not in (0, hung) and not os.path.exists(f"/proc/{hung}")
    c.kill(); c.wait(10)
    old = st.server_pid
    st.stop()
    res["server_stopped"] = not os.path.exists(f"/proc/{old}") or parent_of(old) != os.getpid()
    print(json.dumps(res))
""")


@pytest.fixture(scope="module")
def driven(tmp_path_factory):
    out = tmp_path_factory.mktemp("cs") / "child.out"
    p = subprocess.run([sys.executable, "-c", DRIVER, str(out)], capture_output=True, text=True,
                       timeout=280)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), out, p.stderr


def test_fork_when_child_started_then_it_is_the_supervisors_pinned_titled_and_logs_to_its_stream(driven):
    res, out, _ = driven
    live = res["live"]
    assert live["forked"] and live["parent_is_us"]
    assert "-m http.server 0 --bind 127.0.0.1" in live["cmdline"]
    assert "fork_server" not in live["cmdline"]
    assert live["cpus"] == [0]
    assert live["stdout"] == str(out)
    assert res["env_rc"] == 0, "the child runs with the env of its request"
    assert live["rc_after_kill9"] == -9


def test_fork_when_process_module_fails_then_its_exit_code_and_traceback_reach_the_supervisor(driven):
    res, out, _ = driven
    assert res["module_forked"]
    assert res["module_rc"] == 1
    assert "SegmentMissing" in out.read_text()


def test_fork_server_killed_then_said_restarted_children_spawned_meanwhile_and_forked_after(driven):
    res, _, stderr = driven
    assert res["server_restarted"]
    assert "fork server exited with code -9; starting it again" in stderr
    assert not res["while_importing_forked"], "a start does not wait on a restarting server"
    assert res["after_restart"]["forked"] and res["after_restart"]["parent_is_us"]
    assert res["server_stopped"]


def test_fork_server_hung_then_the_start_falls_back_to_spawn_and_the_server_is_replaced(driven):
    res, _, stderr = driven
    assert "fork server: no answer in 10 s; killing it and starting it again" in stderr
    assert res["hung_spawned"], "the child was spawned instead, and runs"
    assert res["hung_replaced"], "the hung server was killed (and reaped) and another started"


def test_config_when_child_start_unknown_then_refused(tmp_path):
    cfg = tmp_path / "mm.toml"
    cfg.write_text('[supervisor]\nchild_start = "thread"\n')
    with pytest.raises(ConfigError, match="supervisor.child_start"):
        load_config(str(cfg))
    cfg.write_text('[supervisor]\nchild_start = "spawn"\n')
    assert load_config(str(cfg)).supervisor.child_start == "spawn"
