"""How the supervisor starts a child: forked by the fork server, or a fresh interpreter.

``supervisor.child_start = "fork"``: the supervisor becomes a child subreaper and runs
``fork_server`` (one interpreter that has imported numpy, numba and the five process
modules and loaded their cached kernels); each child is forked from it and shares
those pages copy-on-write, and it skips the imports and the kernel loads. The first
server is forked from the supervisor itself (``fork_run.py``: numpy and numba are in
it already); one started again from the supervision loop is a new interpreter.
``"spawn"``: ``python -m appliance.NAME`` per child, as before.

Fork mode never waits on the server for long and never blocks a start on it: the
first start waits for the server's imports (bounded by ``READY_WAIT_S``), a request
for its answer (``REQUEST_TIMEOUT_S``). A server that fails, hangs or dies is killed,
said, and started again in the background; meanwhile children are spawned. After
``MAX_SERVER_DEATHS`` deaths in ``SERVER_DEATH_WINDOW_S`` it is given up for the run
and every child is spawned (said once).
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import orjson

from . import fork_server
from .fork_run import fork_run, single_threaded
from .forked_child import ChildProcess, ForkedChild, become_subreaper, parent_of, reap_strays

log = logging.getLogger("supervisor")

CHILD_START_MODES = ("fork", "spawn")
READY_WAIT_S = 120.0  # the first start: the server's imports (~2 s quiet, more under load)
REQUEST_TIMEOUT_S = 10.0  # one fork: milliseconds
STOP_WAIT_S = 5.0
MAX_SERVER_DEATHS = 3
SERVER_DEATH_WINDOW_S = 300.0
MAX_MESSAGE = 1 << 16


class ForkServerError(RuntimeError):
    pass


class ChildStarter:
    def __init__(self, mode: str, instance: str, keep_fds: tuple[int, ...],
                 preload_kernels: bool = True) -> None:
        if mode not in CHILD_START_MODES:
            raise ValueError(f"supervisor.child_start: '{mode}' is not one of fork, spawn")
        self.mode = mode
        self.instance = instance
        self.keep_fds = keep_fds  # the server holds these for the children (lock, metrics)
        self.preload_kernels = preload_kernels
        self.server: ChildProcess | None = None
        self.sock: socket.socket | None = None
        self.ready = False
        self.waited = False
        self.deaths: collections.deque = collections.deque()
        self._env: dict[str, str] = {}

    @property
    def server_pid(self) -> int:
        return self.server.pid if self.server is not None and self.server.poll() is None else 0

    # --- the server -----------------------------------------------------------
    def begin(self, env: dict[str, str]) -> None:
        """Fork mode: become a subreaper and start the server (its imports run while
        the supervisor goes on). Must run before the supervisor starts a thread."""
        self._env = dict(env)
        if self.mode != "fork":
            return
        if not become_subreaper():
            self._give_up("PR_SET_CHILD_SUBREAPER refused")
            return
        self._start_server()

    def _start_server(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, "-m", "appliance.supervisor.fork_server", "--instance",
               self.instance, "--sock", str(theirs.fileno()), "--parent", str(os.getpid())]
        if not self.preload_kernels:
            cmd.append("--no-preload")
        try:
            if single_threaded():  # the first start: numpy and numba are imported already
                self.server = fork_run(lambda: fork_server.run(cmd[3:]), title=" ".join(cmd),
                                       stream=None, keep_fds=(theirs.fileno(), *self.keep_fds),
                                       env=self._env)
            else:  # a restart from the supervision loop (it has threads): a new interpreter
                self.server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=self._env,
                                               pass_fds=(theirs.fileno(), *self.keep_fds))
        except OSError as e:
            ours.close()
            self._give_up(f"cannot start the fork server: {e}")
            return
        finally:
            theirs.close()
        self.sock = ours
        self.ready = False
        log.info("fork server pid %d starting (%s; imports the five process modules once; "
                 "the children are forked from it)", self.server.pid,
                 "forked from the supervisor" if isinstance(self.server, ForkedChild)
                 else "a new interpreter")

    def _give_up(self, why: str) -> None:
        self.mode = "spawn"
        log.warning("%s: children are started as fresh interpreters (supervisor.child_start "
                    "= \"spawn\") for the rest of this run", why)

    def _recv(self, timeout: float | None) -> dict | None:
        """The server's next message (None at timeout); ForkServerError when it is gone."""
        assert self.sock is not None
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except (TimeoutError, BlockingIOError):
            return None
        except OSError as e:
            raise ForkServerError(f"fork server unreachable: {e}") from None
        if not data:
            raise ForkServerError("fork server closed its end")
        return orjson.loads(data)

    def _await_ready(self, timeout: float) -> bool:
        if self.ready:
            return True
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(max(0.0, deadline - time.monotonic()))
            if msg is None:
                return False
            if "error" in msg:
                raise ForkServerError(f"fork server refused to serve: {msg['error']}")
            if msg.get("ready"):
                self.ready = True
                log.info("fork server pid %d ready (imports %.1f s; kernels: %s)", msg["pid"],
                         msg["import_s"], msg.get("kernels", "?"))
                return True

    def _abandon(self, why: str) -> None:
        """Kill the server; any child it started whose pid we did not take is killed."""
        log.warning("fork server: %s; killing it and starting it again", why)
        proc, sock = self.server, self.sock
        self.server, self.sock, self.ready = None, None, False
        if proc is not None:
            proc.kill()
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                log.error("fork server pid %d not reaped after SIGKILL", proc.pid)
        if sock is not None:
            sock.setblocking(False)
            while True:
                try:
                    data = sock.recv(MAX_MESSAGE)
                except OSError:
                    break
                if not data:
                    break
                pid = orjson.loads(data).get("pid", 0)
                if pid and parent_of(pid) == os.getpid():
                    ForkedChild(pid).kill()
                    ForkedChild(pid).wait(STOP_WAIT_S)
            sock.close()
        self._died()

    def _died(self) -> None:
        now = time.monotonic()
        self.deaths.append(now)
        while self.deaths and now - self.deaths[0] > SERVER_DEATH_WINDOW_S:
            self.deaths.popleft()
        if len(self.deaths) >= MAX_SERVER_DEATHS:
            self._give_up(f"fork server failed {len(self.deaths)} times in "
                          f"{SERVER_DEATH_WINDOW_S:g} s")
        else:
            self._start_server()

    def check(self, known: set[int]) -> bool:
        """From the supervision loop: a dead server is said and started again; exited
        strays are reaped. True when the server's pid changed (to be recorded)."""
        if self.mode != "fork":
            return False
        reap_strays(known | {self.server_pid})
        if self.server is not None and self.server.poll() is not None:
            rc = self.server.returncode
            self.server = None
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            log.warning("fork server exited with code %s; starting it again (children "
                        "restarted meanwhile are spawned)", rc)
            self._died()
            return True
        if self.server is not None and not self.ready:
            try:
                self._await_ready(0.0)
            except ForkServerError as e:
                self._abandon(str(e))
                return True
        return False

    def stop(self) -> None:
        """Close our end (the server exits on it), then SIGTERM, then SIGKILL."""
        proc, self.server = self.server, None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if proc is None:
            return
        for signal_it in (None, proc.terminate, proc.kill):
            if signal_it is not None:
                signal_it()
            try:
                proc.wait(STOP_WAIT_S)
                return
            except subprocess.TimeoutExpired:
                continue
        log.error("fork server pid %d did not exit", proc.pid)

    # --- a child --------------------------------------------------------------
    def start(self, cmd: list[str], env: dict[str, str], fds: tuple[int, ...],
              cpus: set[int] | None, out: int | None) -> ChildProcess:
        """Start ``cmd`` (``python -m appliance.NAME ARGS``) with ``env``, the
        descriptors ``fds`` kept open, pinned to ``cpus``, stdout and stderr to ``out``
        (None: inherited). The caller closes ``out``."""
        if self.mode == "fork" and self.server is not None:
            try:
                child = self._fork(cmd, env, fds, cpus, out)
            except ForkServerError as e:
                self._abandon(str(e))
                child = None
            if child is not None:
                return child
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None, pass_fds=fds)

    def _fork(self, cmd: list[str], env: dict[str, str], fds: tuple[int, ...],
              cpus: set[int] | None, out: int | None) -> ForkedChild | None:
        """The server's child, or None when it is not ready (yet): spawn this one."""
        first = not self.waited  # only the first start waits for the imports
        self.waited = True
        if not self._await_ready(READY_WAIT_S if first else 0.0):
            if first:
                raise ForkServerError(f"not ready after {READY_WAIT_S:g} s")
            return None
        req = {"module": cmd[2], "args": cmd[3:], "env": env, "title": " ".join(cmd),
               "cpus": sorted(cpus) if cpus else None,
               "close_fds": [fd for fd in self.keep_fds if fd not in fds]}
        assert self.sock is not None
        self.sock.settimeout(REQUEST_TIMEOUT_S)
        try:
            socket.send_fds(self.sock, [orjson.dumps(req)], [out] if out is not None else [])
        except OSError as e:
            raise ForkServerError(f"request not sent: {e}") from None
        msg = self._recv(REQUEST_TIMEOUT_S)
        if msg is None:
            raise ForkServerError(f"no answer in {REQUEST_TIMEOUT_S:g} s")
        if "error" in msg:
            raise ForkServerError(f"could not fork {cmd[2]}: {msg['error']}")
        pid = int(msg["pid"])
        if parent_of(pid) != os.getpid():  # not re-parented to us: we could not wait for it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise ForkServerError(f"{cmd[2]} pid {pid} is not the supervisor's child")
        return ForkedChild(pid)
