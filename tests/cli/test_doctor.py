"""mmctl doctor: each finding with its fix, exit 1 when something would stop a start."""

import json
import os
import socket
import subprocess
import sys

MMCTL = [sys.executable, "-m", "appliance.cli"]


def _doctor(tmp_path, toml: str, *args, env=None):
    cfg = tmp_path / "mm.toml"
    cfg.write_text(toml)
    return subprocess.run([*MMCTL, "doctor", "--config", str(cfg), "--instance",
                           f"doc{os.getpid()}", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _by_check(out: str) -> dict:
    return {f["check"]: f for f in json.loads(out)}


def test_doctor_when_box_fine_then_every_check_listed_and_exit_0(tmp_path):
    p = _doctor(tmp_path, f'[appliance]\nstate_dir = "{tmp_path}/{{instance}}"\n'
                '[risk]\nmetrics_port = 0\n', "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    found = _by_check(p.stdout)
    assert set(found) == {"python", "cores", "clock", "memlock", "shm", "numba cache",
                          "state dir", "ports", "key"}
    assert all(f["status"] in ("ok", "warn") for f in found.values())


def test_doctor_when_port_taken_and_key_readable_then_fails_naming_both(tmp_path):
    key = tmp_path / "hl.key"
    key.write_text("0x" + "11" * 32)
    key.chmod(0o644)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = _doctor(tmp_path, f'[appliance]\nstate_dir = "{tmp_path}/{{instance}}"\n'
                    f'[risk]\nmetrics_port = {port}\n'
                    f'[gateway]\nnetwork = "testnet"\nkey_file = "{key}"\n')
    assert p.returncode == 1
    assert f"metrics port {port}" in p.stdout
    assert "has mode 0644" in p.stdout and "fix: chmod 600" in p.stdout
    assert "11" * 32 not in p.stdout + p.stderr  # the secret never printed
    assert p.stdout.strip().endswith("2 problem(s)")
