"""One instance is one set of processes, whatever died.

* **The instance lock** (``<state_dir>/instance.lock``): the supervisor takes an
  exclusive ``flock`` and hands the descriptor to every child and the local venue,
  so the lock is held while *any* process of the set lives and the kernel releases
  it when the last one dies — a pid file cannot say that. The holder writes its
  pid into the file, so a second start can tell "running" from "left over".
* **Recorded pids**: the control block (supervisor, children, venue) and
  ``<state_dir>/pids.json`` (the same, on disk, in case the segments are gone, and
  the fork server that forks the children). A forked child's command line is set to
  the ``python -m appliance.NAME --instance ...`` it would have had if spawned.
* **Ending a dead supervisor's set** (``end_leftovers``): every recorded pid and
  every holder of the lock that is still alive and is one of ours (its command line
  names ``appliance.`` and the instance) gets SIGTERM — the gateway's last act is
  cancel-all — then SIGKILL after a grace. What was ended is returned, to be said.

Written by hand (``fcntl``, ``/proc``): no library does "flock shared with children
plus holder discovery", and it must work with a full disk (nothing is created
when the lock file exists).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.runtime.control import pid_alive

LOCK_NAME = "instance.lock"
PIDS_NAME = "pids.json"
TERM_GRACE_S = 4.0  # the gateway's graceful cancel-all is bounded at 3 s


class InstanceBusy(RuntimeError):
    """Another live set of this instance holds the lock."""


@dataclass
class InstanceLock:
    path: Path
    fd: int


def lock_path(state_dir: Path) -> Path:
    return Path(state_dir) / LOCK_NAME


def try_lock(state_dir: Path) -> InstanceLock | None:
    """Take the instance lock (non-blocking) and write our pid into it; None if held."""
    path = lock_path(state_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same; the pid is in the control block
    return InstanceLock(path, fd)


def lock_owner_pid(state_dir: Path) -> int:
    """The pid the lock's holder wrote, or 0."""
    try:
        return int(lock_path(state_dir).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def lock_holders(state_dir: Path) -> list[int]:
    """Every live process with the lock file open (the supervisor and the children
    it handed the descriptor to), found through ``/proc/*/fd``."""
    try:
        st = os.stat(lock_path(state_dir))
    except OSError:
        return []
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                fst = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if fst.st_ino == st.st_ino and fst.st_dev == st.st_dev:
                out.append(int(entry))
                break
    return sorted(out)


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def instance_of(cmd: str) -> str | None:
    """The instance a command line runs (``--instance NAME`` or ``--instance=NAME``;
    "default" when not given), or None for a command that is not an appliance one."""
    if "appliance" not in cmd and "mmctl" not in cmd:
        return None
    words = cmd.split()
    for i, w in enumerate(words):
        if w == "--instance" and i + 1 < len(words):
            return words[i + 1]
        if w.startswith("--instance="):
            return w.split("=", 1)[1]
    return "default"


def is_ours(pid: int, instance: str) -> bool:
    """A live appliance process of this instance (not a recycled pid). The local venue
    carries no instance: it is ours when recorded as ours (or holding our lock)."""
    c = cmdline(pid)
    if "appliance.venue" in c:
        return True
    return instance_of(c) == instance


def is_supervisor(pid: int, instance: str) -> bool:
    c = cmdline(pid)
    return (pid_alive(pid) and instance_of(c) == instance and "fork_server" not in c
            and ("appliance.supervisor" in c or " start" in c))


def write_pids(state_dir: Path, supervisor: int, children: dict[str, int], venue: int,
               fork_server: int = 0) -> None:
    """Record the set on disk (atomic replace); best effort: the control block has it
    too, except the fork server (``supervisor.child_start = "fork"``), recorded here only."""
    path = Path(state_dir) / PIDS_NAME
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps({"supervisor": supervisor, "children": children, "venue": venue,
                                   "fork_server": fork_server}))
        tmp.replace(path)
    except OSError:
        pass


def forget_pids(state_dir: Path) -> None:
    try:
        (Path(state_dir) / PIDS_NAME).unlink()
    except OSError:
        pass


def read_pids(state_dir: Path) -> list[tuple[str, int]]:
    try:
        d = json.loads((Path(state_dir) / PIDS_NAME).read_text())
    except (OSError, ValueError):
        return []
    out = [("supervisor", int(d.get("supervisor", 0)))]
    out += [(name, int(pid)) for name, pid in (d.get("children") or {}).items()]
    out.append(("fork server", int(d.get("fork_server", 0))))
    out.append(("venue", int(d.get("venue", 0))))
    return [(n, p) for n, p in out if p > 0]


def end_pids(named: list[tuple[str, int]], instance: str,
             grace_s: float = TERM_GRACE_S) -> list[str]:
    """SIGTERM each live pid of ours (venue last: the gateway cancels through it),
    SIGKILL what is left after ``grace_s``. Returns "name pid N (how)" per pid ended."""
    seen: dict[int, str] = {}
    for name, pid in named:
        if pid > 0 and pid != os.getpid() and pid not in seen and pid_alive(pid) and is_ours(pid, instance):
            seen[pid] = name
    if not seen:
        return []
    venue = [p for p, n in seen.items() if n == "venue"]
    others = [p for p in seen if p not in venue]
    how: dict[int, str] = {}
    for group in (others, venue):
        for pid in group:
            try:
                os.kill(pid, signal.SIGTERM)
                how[pid] = "SIGTERM"
            except OSError:
                how[pid] = "gone"
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(pid_alive(p) for p in group):
            time.sleep(0.05)
        for pid in group:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                    how[pid] = "SIGKILL after SIGTERM"
                except OSError:
                    pass
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and any(pid_alive(p) for p in seen):
        time.sleep(0.02)
    return [f"{seen[p]} pid {p} ({how.get(p, '?')})" for p in seen]


def end_leftovers(instance: str, state_dir: Path, control_pids: list[tuple[str, int]]) -> list[str]:
    """End every process of a dead supervisor's set: recorded in the control block or in
    pids.json, or holding the instance lock. Refuses (InstanceBusy) a live supervisor."""
    holders = lock_holders(state_dir)
    named = list(control_pids) + read_pids(state_dir)
    # A venue carries no instance name: it is ours only while it holds our lock.
    named = [(n, p) for n, p in named if n != "venue" or p in holders]
    named += [("lock holder", p) for p in holders]
    for name, pid in named:
        if name == "supervisor" and pid != os.getpid() and is_supervisor(pid, instance):
            raise InstanceBusy(f"instance '{instance}' is already running (supervisor pid {pid}); "
                               f"stop it first with: mmctl stop --instance {instance}")
    owner = lock_owner_pid(state_dir)
    if owner and owner != os.getpid() and is_supervisor(owner, instance):
        raise InstanceBusy(f"instance '{instance}' is already running (supervisor pid {owner}); "
                           f"stop it first with: mmctl stop --instance {instance}")
    return end_pids(named, instance)
