"""The unit file passes `systemd-analyze verify` (which needs no systemd as PID 1)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

UNIT_SOURCE = Path(__file__).resolve().parents[2] / "systemd" / "mm-appliance@.service"
UNIT_NAME = "mm-appliance@default.service"
INSTALLED_MMCTL = "/usr/local/bin/mmctl"


def test_verify_when_unit_instantiated_then_no_errors_or_warnings(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify checks that ExecStart/ExecStop are executable: point them at one that exists
    executable = shutil.which("mmctl") or sys.executable
    unit = tmp_path / UNIT_NAME
    unit.write_text(UNIT_SOURCE.read_text().replace(INSTALLED_MMCTL, executable))

    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                            timeout=90, cwd=tmp_path)

    output = result.stdout + result.stderr
    about_unit = [line for line in output.splitlines() if UNIT_NAME in line or str(unit) in line]
    assert result.returncode == 0, output
    assert about_unit == [], output


def test_unit_when_read_then_required_settings_present() -> None:
    text = UNIT_SOURCE.read_text()
    for setting in ("Type=notify", "NotifyAccess=main", "WatchdogSec=20", "Restart=on-failure",
                    "RestartSec=2", "LimitMEMLOCK=infinity", "TimeoutStartSec=660",
                    "TimeoutStopSec=30", "KillMode=mixed",
                    "ExecStart=/usr/local/bin/mmctl start --foreground --instance %i "
                    "--config /etc/mm/%i.toml",
                    "ExecStop=/usr/local/bin/mmctl stop --instance %i"):
        assert setting + "\n" in text, setting
    # each of these would break /dev/shm sharing, SCHED_FIFO, the JIT or adjtimex
    for breaking in ("PrivateTmp=", "PrivateDevices=", "PrivateIPC=", "RemoveIPC=",
                     "ProtectClock=", "RestrictRealtime=", "MemoryDenyWriteExecute="):
        assert not any(line.startswith(breaking) for line in text.splitlines()), breaking
