"""The fork server: one interpreter that imports what the five processes import, then
forks each child from itself, so the pages those imports built are shared
copy-on-write instead of rebuilt privately by each child (issue 18).

Once imported, it loads from numba's cache the kernels the processes call
(``kernel_preload.py``; never compiles: a cold cache adds nothing), so their machine
code is shared too and a child does not load its own.

Run by the supervisor (``supervisor.child_start = "fork"``, ``child_start.py``) as
``python -m appliance.supervisor.fork_server --instance NAME --sock FD --parent PID``
with the instance lock (and the metrics socket) at the supervisor's descriptor numbers:
forked from the supervisor (``fork_run.py``, which has numpy and numba imported
already) when it is single-threaded, else a new interpreter.
It is single-threaded, checked before the first fork: BLAS and pyarrow's jemalloc would
each start a thread at import, so their thread pools are set to none here (a forked
child starts without them either way: their fork handlers stop them).

Protocol, over a ``SOCK_SEQPACKET`` pair: the server sends ``{"ready": ...}`` once the
imports and the kernels are loaded (or ``{"error": ...}`` and exits). Each request is one message
``{"module", "args", "env", "cpus", "close_fds", "title"}`` with the child's stdout and
stderr stream as an optional passed descriptor; the answer is ``{"pid": N}`` or
``{"error": ...}``. The server forks twice: the middle process exits at once and is
reaped here, so the child is re-parented to the supervisor (a child subreaper), which
waits for it, kills it and restarts it as its own. The child runs its module only
after the answer is sent (a pipe), so a server that dies mid-request never leaves a
child the supervisor does not know. A closed socket (the supervisor gone) ends the
server; so does the supervisor's death (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import select
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass

MAX_MESSAGE = 1 << 20
GO_TIMEOUT_S = 60.0  # a child waits this long at most for the server's go
# Set in the server only (not in the children's env): no BLAS or jemalloc thread here.
SINGLE_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
PROCESS_MODULES = ("appliance.feed", "appliance.estimator", "appliance.quote",
                   "appliance.gateway", "appliance.risk")


@dataclass(frozen=True)
class ChildSpec:
    """What a forked child runs once it leaves the server loop: ``python -m module args``."""

    module: str
    args: list[str]


def _say(sock: socket.socket, msg: dict) -> None:
    import orjson

    sock.send(orjson.dumps(msg))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def import_all() -> float:
    """Import numpy, numba and the five process modules (imports only: no kernel is
    compiled or loaded at import); the seconds it took."""
    t0 = time.monotonic()
    import numba  # noqa: F401
    import numpy  # noqa: F401

    for m in PROCESS_MODULES:
        importlib.import_module(f"{m}.process")
    return time.monotonic() - t0


def _fork_child(sock: socket.socket, req: dict, stream: int | None) -> ChildSpec | None:
    """Serve one request: in the server, answer and return None; in the child, return
    its ChildSpec (the caller leaves the loop and runs it)."""
    go_r, go_w = os.pipe()
    pid_r, pid_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    middle = os.fork()
    if middle == 0:  # nothing of the server's loop may run in the middle process
        try:
            os.close(go_w)
            os.close(pid_r)
            child = os.fork()
            if child == 0:
                os.close(pid_w)
                try:
                    return _become_child(sock, req, stream, go_r)
                except BaseException:  # noqa: BLE001 - nor in the child before its module
                    traceback.print_exc()
                    sys.stderr.flush()
                    os._exit(70)
            os.write(pid_w, child.to_bytes(8, "little"))
        except BaseException:  # noqa: BLE001
            os._exit(71)
        os._exit(0)
    os.close(go_r)
    os.close(pid_w)
    if stream is not None:
        os.close(stream)
    _, status = os.waitpid(middle, 0)  # the child is the supervisor's from here on
    data = os.read(pid_r, 8)
    os.close(pid_r)
    if status != 0 or len(data) != 8:
        os.close(go_w)
        _say(sock, {"error": f"fork failed (middle process status {status})"})
        return None
    try:
        _say(sock, {"pid": int.from_bytes(data, "little")})
    except OSError:
        os.close(go_w)  # the supervisor did not get the pid: the child must not run
        raise
    os.write(go_w, b"g")
    os.close(go_w)
    return None


def _become_child(sock: socket.socket, req: dict, stream: int | None, go_r: int) -> ChildSpec:
    """In the forked child: wait for the go, then become ``python -m module args``."""
    os.close(sock.detach())
    ready, _, _ = select.select([go_r], [], [], GO_TIMEOUT_S)
    go = os.read(go_r, 1) if ready else b""
    os.close(go_r)
    if go != b"g":  # the server died or the supervisor did not take our pid
        os._exit(0)
    parent = int(req["env"].get("MM_SUPERVISOR_PID", "0") or 0)
    if parent and os.getppid() != parent:
        print(f"fork server: child {os.getpid()} has parent {os.getppid()}, not the "
              f"supervisor {parent}: not starting", file=sys.stderr)
        os._exit(72)
    if req["cpus"]:  # first: whoever sees this child's title sees it pinned
        os.sched_setaffinity(0, req["cpus"])
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if stream is not None:
        os.dup2(stream, 1)
        os.dup2(stream, 2)
        os.close(stream)
    for fd in req["close_fds"]:
        try:
            os.close(fd)
        except OSError:
            pass
    try:  # before the environment changes: the title takes the old one's memory
        import setproctitle

        setproctitle.setproctitle(req["title"])  # /proc/PID/cmdline as `python -m` shows it
    except ImportError:
        print("fork server: setproctitle is not installed: this child's command line is "
              "the fork server's", file=sys.stderr)
    os.environ.clear()
    os.environ.update(req["env"])
    return ChildSpec(req["module"], list(req["args"]))


def serve(sock: socket.socket) -> ChildSpec | int:
    """Answer spawn requests until the supervisor closes its end (0). In a forked child
    this returns the child's ChildSpec."""
    import orjson

    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 1)
        except OSError:
            return 0
        if not data:
            for fd in fds:
                os.close(fd)
            return 0
        try:
            req = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            for fd in fds:
                os.close(fd)
            try:
                _say(sock, {"error": f"bad request: {e}"})
            except OSError:
                return 1
            continue
        try:
            spec = _fork_child(sock, req, fds[0] if fds else None)
        except OSError as e:
            print(f"fork server: request for {req.get('module')} failed: {e}", file=sys.stderr)
            return 1
        if spec is not None:
            return spec
        gc.collect()
        gc.freeze()  # what the loop allocated joins the shared, never-scanned objects


def main(argv: list[str] | None = None) -> ChildSpec | int:
    ap = argparse.ArgumentParser(prog="appliance.supervisor.fork_server")
    ap.add_argument("--instance", default="default")  # for ownership checks by command line
    ap.add_argument("--sock", type=int, required=True)
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("--no-preload", action="store_true",
                    help="do not load the processes' cached kernels before forking")
    a = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C: the supervisor stops us
    from appliance.runtime.parent import set_death_signal

    set_death_signal(signal.SIGKILL)
    if os.getppid() != a.parent:
        return 1
    sock = socket.socket(fileno=a.sock)
    for k, v in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(k, v)
    try:
        import_s = import_all()
    except Exception as e:  # noqa: BLE001 - said to the supervisor, which spawns instead
        traceback.print_exc()
        return _last_word(sock, {"error": f"imports failed: {e!r}"}, 3)
    kernels = "not loaded here (--no-preload): each child loads its own"
    if not a.no_preload:  # loads what the cache has, never compiles: a cold cache is instant
        from .kernel_preload import preload_kernels

        try:
            kernels = preload_kernels().summary()
        except Exception as e:  # noqa: BLE001 - the children load their own, as before
            kernels = f"preloading kernels failed ({e!r}): each child loads its own"
    n = _threads()
    if n != 1:
        return _last_word(sock, {"error": f"{n} threads after the imports: a multi-threaded "
                                          "process is not forked"}, 3)
    gc.collect()
    gc.freeze()  # the collector never writes into the shared objects
    try:
        _say(sock, {"ready": True, "pid": os.getpid(), "import_s": round(import_s, 3),
                    "kernels": kernels})
    except OSError:  # the supervisor closed its end while we imported: stopping
        return 0
    return serve(sock)


def _last_word(sock: socket.socket, msg: dict, rc: int) -> int:
    """Say ``msg`` if the supervisor still listens; the server's exit code ``rc``."""
    try:
        _say(sock, msg)
    except OSError:
        pass
    return rc


def run_child(spec: ChildSpec) -> None:
    """Run the module as ``python -m`` does; its SystemExit ends this interpreter the
    usual way (threads joined, atexit, streams flushed)."""
    import runpy

    sys.argv = [spec.module, *spec.args]
    runpy.run_module(spec.module, run_name="__main__", alter_sys=True)


def run(argv: list[str] | None = None) -> int:
    """The server, and in each forked child its module: the exit code."""
    out = main(argv)
    if isinstance(out, ChildSpec):
        run_child(out)
        return 0
    return out


if __name__ == "__main__":
    sys.exit(run())
