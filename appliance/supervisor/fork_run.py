"""Start a process of the set by forking this interpreter instead of starting a new one
(issue 18, start-up time).

``mmctl start`` has imported the config, numpy and numba before it starts the
supervisor, and the supervisor has them all before it starts the fork server and the
local venue; a fresh ``python -m ...`` imports them again (0.4-0.7 CPU-s each, the whole
of the supervisor's own start-up). A forked process keeps them and runs the same
module, as ``python -m`` would.

Only from a single-threaded process (``single_threaded``: a fork copies one thread, and
any other thread's locks with it): callers that have started a thread (the supervision
loop, restarting a dead venue or fork server) start a new interpreter as before.

In the child, before the module runs: its own session or process group if asked,
the default SIGINT/SIGTERM handling and an empty signal mask, stdin from /dev/null,
stdout and stderr to ``stream``, every other descriptor closed but ``keep_fds``
(the parent's log files, sockets and pipes are not the child's), the root logger's
handlers dropped (they write to the parent's files), the environment replaced when
``env`` is given, the command line ``title`` (``setproctitle``: tools that find the
set's processes by command line see what a spawned one would show), and the parent's
objects frozen out of the collector (``gc.freeze``: their pages stay shared). The child
never returns into the parent's code: it runs the module, then exits as an
interpreter does (non-daemon threads joined, atexit callbacks, streams flushed)
with ``os._exit``.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import runpy
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .forked_child import ForkedChild

CHILD_FAILED_RC = 70  # the child's set-up raised before its module ran
UNCAUGHT_RC = 1  # its module raised: the traceback and the code an interpreter gives
# numpy's BLAS starts its threads when numpy is imported, unless told not to
BLAS_SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                          "MKL_NUM_THREADS": "1"}


def single_threaded() -> bool:
    """True when this process has one thread (native ones counted: ``/proc/self/task``)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


@contextmanager
def no_blas_threads() -> Iterator[None]:
    """Around the imports of a process that will fork the set's processes (``mmctl
    start``, the supervisor): numpy's BLAS starts no thread. Set for the imports only:
    the processes started later get the environment this one was given."""
    added = {k: v for k, v in BLAS_SINGLE_THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def run_module(module: str, args: list[str]) -> None:
    """Run ``module`` as ``python -m module args`` does (its SystemExit propagates)."""
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def fork_run(target: Callable[[], int | None], *, title: str, stream: int | None,
             keep_fds: tuple[int, ...] = (), env: dict[str, str] | None = None,
             new_session: bool = False, new_group: bool = False) -> ForkedChild:
    """Fork; the child runs ``target()`` and exits with its result (or its SystemExit's
    code). ``stream``: the child's stdout and stderr (None: this process's). The
    caller closes ``stream``. Raises OSError when the fork fails."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        if new_group:  # said by both sides: no window where a signal to the group misses it
            try:
                os.setpgid(pid, pid)
            except OSError:
                pass  # the child moved (or exited) first: its own call is the one that counts
        return ForkedChild(pid)
    rc = CHILD_FAILED_RC
    try:
        _become(title, stream, keep_fds, env, new_session, new_group)
        rc = UNCAUGHT_RC
        rc = _exit_code(target)
    except BaseException:  # noqa: BLE001 - nothing may unwind into the parent's frames
        traceback.print_exc()
    finally:
        exit_now(rc)


def _become(title: str, stream: int | None, keep_fds: tuple[int, ...],
            env: dict[str, str] | None, new_session: bool, new_group: bool) -> None:
    if new_session:
        os.setsid()
    elif new_group:
        os.setpgid(0, 0)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.getLogger().handlers.clear()  # the parent's files: not closed, just not ours
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if stream is not None:
        os.dup2(stream, 1)
        os.dup2(stream, 2)
    keep = {0, 1, 2, *keep_fds}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed
    for fd in keep_fds:
        os.set_inheritable(fd, True)  # as Popen's pass_fds: an exec later keeps them
    try:  # before the environment changes: the title takes the old one's memory
        import setproctitle

        setproctitle.setproctitle(title)
    except ImportError:
        print(f"setproctitle is not installed: pid {os.getpid()} ({title}) shows its "
              "parent's command line", file=sys.stderr)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    gc.freeze()  # the parent's objects: never scanned here, so their pages stay shared


def _exit_code(target: Callable[[], int | None]) -> int:
    try:
        rc = target()
    except SystemExit as e:
        rc = e.code
    if rc is None:
        return 0
    if isinstance(rc, int):
        return rc
    print(rc, file=sys.stderr)  # sys.exit("message"), as the interpreter says it
    return 1


def exit_now(rc: int) -> None:
    """What an interpreter does at exit (non-daemon threads joined, atexit callbacks,
    streams flushed), then ``os._exit``: no teardown of the objects. In a forked child
    the parent's frames below the fork must never run again (their ``finally`` blocks
    are the parent's); in a parent whose forked child lives on, freeing every object
    writes to the pages the two still share, which the kernel then copies (0.4-0.7 s
    at the end of ``mmctl start``, measured)."""
    try:
        me = threading.current_thread()
        for t in threading.enumerate():
            if t is not me and not t.daemon:
                t.join()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    os._exit(rc)
