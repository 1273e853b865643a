"""The supervisor as systemd runs the shipped unit (systemd/mm-appliance@.service)
reaches READY, logs every process to journald, and writes only where the unit lets it.

There is no systemd as PID 1 here, so the test builds the unit's conditions itself:

* a private mount namespace (``unshare -m``) in which the package, ``/root`` (the
  interpreter, ``ProtectHome=read-only``), ``/usr`` and ``/etc`` (``ProtectSystem=full``)
  are read-only bind mounts, and ``HOME`` names a directory that does not exist under a
  read-only one (``User=mm`` has no home);
* ``CACHE_DIRECTORY``, ``STATE_DIRECTORY`` and ``LOGS_DIRECTORY`` set to directories
  made first, as systemd makes them; the cache is the suite's numba cache base, as a
  unit's ``CacheDirectory=`` persists between starts (an empty one is a cold compile);
* ``NOTIFY_SOCKET``, ``WATCHDOG_USEC``, ``INVOCATION_ID``; ``JOURNAL_STREAM`` naming the
  supervisor's stderr and ``MM_JOURNAL_SOCKET`` a datagram socket the test reads, in
  place of ``/run/systemd/journal/socket``;
* a config that leaves ``state_dir`` at its default (the unit's StateDirectory= is
  used) and sets ``logs.files = "always"`` (files in LogsDirectory= besides the journal).
"""

import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from appliance_helpers import force_cleanup, free_port

import appliance
from appliance import numba_cache
from appliance.hyperliquid.demo_key import DEMO_PRIVATE_KEY_HEX
from shm_layout.constants import PROC_NAMES

PACKAGE_ROOT = Path(appliance.__file__).resolve().parents[1]
READ_ONLY = [str(PACKAGE_ROOT), "/root", "/usr", "/etc"]
PROCESSES = {"supervisor", "venue", *PROC_NAMES[:5]}


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0


class Datagrams:
    """Everything sent to a datagram socket, read on a thread (a full socket buffer
    would block the senders: the appliance's processes)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.5)
        self.got: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stop:
            try:
                self.got.append(self.sock.recv(1 << 20))
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def _fields(datagram: bytes) -> dict:
    out = {}
    for line in datagram.decode().splitlines():  # JSON messages hold no raw newline
        k, _, v = line.partition("=")
        out[k] = v
    return out


@pytest.mark.skipif(not _can_unshare(), reason="needs a private mount namespace (root, unshare -m)")
def test_supervisor_when_run_in_the_unit_s_sandbox_then_ready_with_journald_fields(tmp_path):
    instance = f"sbx{os.getpid()}"
    dirs = {k: tmp_path / k for k in ("lib", "log", "ro-home")}
    for d in dirs.values():
        d.mkdir(mode=0o755)
    cfg = tmp_path / "unit.toml"
    cfg.write_text(f'[risk]\nmetrics_port = {free_port()}\n[logs]\nfiles = "always"\n'
                   "position_every_s = 1.0\n")
    stderr_path = tmp_path / "stderr"  # the "journal stream"
    notify = Datagrams(tmp_path / "notify.sock")
    journal = Datagrams(tmp_path / "journal.sock")
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "HL_MM_CACHE_DIR", "XDG_CACHE_HOME")}
    stderr = open(stderr_path, "wb")  # noqa: SIM115 (closed below)
    st = os.fstat(stderr.fileno())
    env.update(HOME=str(dirs["ro-home"] / "mm"), CACHE_DIRECTORY=str(numba_cache._writable_base()),
               STATE_DIRECTORY=str(dirs["lib"]), LOGS_DIRECTORY=str(dirs["log"]),
               NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="2000000",
               INVOCATION_ID="0" * 32, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}",
               MM_JOURNAL_SOCKET=str(tmp_path / "journal.sock"), PYTHONUNBUFFERED="1")
    mounts = " && ".join(f"mount --bind -o ro {d} {d}" for d in [*READ_ONLY, str(dirs["ro-home"])])
    start = (f"exec {sys.executable} -m appliance.cli start --foreground --instance {instance} "
             f"--config {cfg} --duration 5")
    try:
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               f"{mounts} && {start}"], env=env, stdout=stderr, stderr=stderr,
                              timeout=280, cwd=tmp_path)
    finally:
        stderr.close()
        notify.close()
        journal.close()
        force_cleanup(instance)
    out = stderr_path.read_text(errors="replace")
    assert proc.returncode == 0, out[-3000:]
    assert any(b"READY=1" in m for m in notify.got), notify.got

    records = [_fields(d) for d in journal.got]
    assert {r["MM_PROCESS"] for r in records} == PROCESSES
    assert {r["MM_INSTANCE"] for r in records} == {instance}
    assert all(r["SYSLOG_IDENTIFIER"] == "mm-" + r["MM_PROCESS"] for r in records)
    shut = {r["MM_PROCESS"] for r in records if r.get("MM_EVENT") == "shutdown"}
    assert shut == PROCESSES - {"supervisor"}  # each child and the venue said what it did
    assert any(r.get("MM_EVENT") == "position" and r["MM_COIN"] == "BTC" for r in records)
    assert any("logs: journald" in r["MESSAGE"] for r in records)

    # State in StateDirectory=, files in LogsDirectory=/<instance>, 0600; nothing in /tmp/mm-*.
    assert (dirs["lib"] / "gateway-journal.jsonl").exists()
    assert not Path(f"/tmp/mm-{instance}").exists()
    logs = dirs["log"] / instance
    assert {p.name for p in logs.iterdir()} == {f"{p}.log" for p in PROCESSES}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs.iterdir())
    secret = DEMO_PRIVATE_KEY_HEX.removeprefix("0x")
    assert not any(secret in r["MESSAGE"] for r in records)
    assert not any(secret in p.read_text() for p in logs.iterdir()) and secret not in out
