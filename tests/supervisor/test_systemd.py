"""The supervisor under systemd's eyes: sd_notify READY/WATCHDOG/STOPPING on a
datagram socket bound by the test, and start-up after a crashed run."""

import os
import socket
import subprocess
import sys

from appliance_helpers import force_cleanup, write_config

from shm_layout import InstanceMemory


def test_foreground_when_notify_socket_then_ready_watchdog_stopping(tmp_path):
    instance = f"sdn{os.getpid()}"
    cfg, _ = write_config(tmp_path)
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(1.0)
    # A crashed run left its segments behind: its supervisor pid is long gone.
    stale = InstanceMemory.create(instance, lock=False)
    stale.control.records[0]["supervisor_pid"] = 2**22 + 12345
    stale.close()
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="1000000")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", "start", "--foreground", "--instance",
             instance, "--config", str(cfg), "--duration", "6"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        got = []
        try:
            while proc.poll() is None or not got or got[-1] != "STOPPING=1":
                try:
                    got.append(sock.recv(4096).decode())
                except TimeoutError:
                    if proc.poll() is not None:
                        break
        finally:
            out = proc.communicate(timeout=240)[0]
        assert proc.returncode == 0, out
        ready = [i for i, m in enumerate(got) if "READY=1" in m]
        assert ready, got
        watchdogs = [i for i, m in enumerate(got) if m == "WATCHDOG=1"]
        assert len(watchdogs) >= 2 and watchdogs[0] > ready[0]  # only once healthy
        assert got[-1] == "STOPPING=1"
        assert "removing segments left by a crashed run" in out
        assert InstanceMemory.unlink_all(instance) == []  # the stop unlinked everything
    finally:
        sock.close()
        force_cleanup(instance)
