"""fork_run: a process of the set forked from this interpreter, with real processes.

Each case forks from a driver interpreter of its own (never from pytest: a child that
unwound into the parent's frames would run pytest's), which prints its findings as
JSON. The children are short-lived and bounded.
"""

import json
import subprocess
import sys
import textwrap

DRIVER = textwrap.dedent("""
    import atexit, json, os, sys, threading, time
    from appliance.supervisor.fork_run import fork_run, run_module, single_threaded

    out_path = sys.argv[1]
    res = {"single_threaded_before": single_threaded()}

    def stream():
        return os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    # A pipe the child is not given: its write end must not outlive the parent's copy.
    r, w = os.pipe()
    kept_r, kept_w = os.pipe()

    def child():
        atexit.register(lambda: print("atexit ran in the child", flush=True))
        fds = []
        for fd in range(256):
            try:
                os.fstat(fd)
                fds.append(fd)
            except OSError:
                pass
        print(json.dumps({"pid": os.getpid(), "sid": os.getsid(0), "pgid": os.getpgid(0),
                          "fds": fds, "env": os.environ.get("FR_MARK"),
                          "stdin": os.readlink("/proc/self/fd/0")}), flush=True)
        os.write(kept_w, b"k")
        return 7

    try:
        s = stream()
        c = fork_run(child, title="python -m appliance.frtest --instance fr1", stream=s,
                     keep_fds=(kept_w,), env={"FR_MARK": "m", "PATH": os.environ["PATH"]},
                     new_session=True)
        os.close(s)
        res["cmdline"] = ""
        for _ in range(200):
            try:
                res["cmdline"] = open(f"/proc/{c.pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
            except OSError:
                break
            if "frtest" in res["cmdline"]:
                break
            time.sleep(0.005)
        res["rc"] = c.wait(30)
        res["kept_fd_written"] = os.read(kept_r, 1) == b"k"
        os.close(w)
        res["other_fd_closed_in_child"] = os.read(r, 1) == b""  # EOF: no copy of w left
        res["fds"] = {"r": r, "w": w, "kept_w": kept_w}

        s = stream()
        c = fork_run(lambda: sys.exit(3), title="python -m appliance.frtest2", stream=s,
                     new_group=True)
        os.close(s)
        res["exit_rc"] = c.wait(30)
        s = stream()
        c = fork_run(lambda: 1 / 0, title="python -m appliance.frtest3", stream=s)
        os.close(s)
        res["raise_rc"] = c.wait(30)
        s = stream()
        c = fork_run(lambda: run_module("json.tool", ["--help"]), title="python -m json.tool",
                     stream=s)
        os.close(s)
        res["module_rc"] = c.wait(30)
    finally:
        res["parent_finally_ran_in"] = os.getpid()
        print(json.dumps(res), flush=True)
    t = threading.Thread(target=time.sleep, args=(0.5,))
    t.start()
    res2 = {"single_threaded_with_a_thread": single_threaded()}
    t.join()
    print(json.dumps(res2), flush=True)
""")


def test_fork_run_when_forked_then_child_is_set_apart_and_exits_with_its_code(tmp_path):
    # Arrange
    out = tmp_path / "child.out"
    # Act
    p = subprocess.run([sys.executable, "-c", DRIVER, str(out)], capture_output=True, text=True,
                       timeout=120)
    # Assert
    assert p.returncode == 0, p.stdout + p.stderr
    lines = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert len(lines) == 2, p.stdout  # the parent's finally printed once: not in a child
    res, res2 = lines
    assert res["single_threaded_before"] is True
    assert res2["single_threaded_with_a_thread"] is False
    assert res["rc"] == 7
    assert "appliance.frtest --instance fr1" in res["cmdline"]
    assert res["kept_fd_written"] and res["other_fd_closed_in_child"]
    text = out.read_text()
    child = json.loads(next(ln for ln in text.splitlines() if ln.startswith("{")))
    assert child["sid"] == child["pid"] == child["pgid"]  # its own session
    assert child["env"] == "m"
    assert child["stdin"] == "/dev/null"
    assert res["fds"]["w"] not in child["fds"] and res["fds"]["r"] not in child["fds"]
    assert res["fds"]["kept_w"] in child["fds"]
    assert "atexit ran in the child" in text
    assert res["exit_rc"] == 3
    assert res["raise_rc"] == 1 and "ZeroDivisionError" in text  # as an interpreter exits
    assert res["module_rc"] == 0 and "usage:" in text
