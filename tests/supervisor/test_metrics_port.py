"""A taken metrics port stops the start, naming the port (issue 17): in ``mmctl start``'s
checks, and in the supervisor when the port is taken between those checks and its bind.
Real sockets; the start fails before any process or segment exists."""

import os
import socket

import pytest
from appliance_helpers import mmctl, write_config

from appliance.config import load_config
from appliance.supervisor.start_checks import StartRefused
from appliance.supervisor.supervisor import Supervisor
from shm_layout.shm import existing_segments


@pytest.fixture
def taken():
    """A port someone else listens on (a Prometheus server, another instance)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def _config(tmp_path, port):
    cfg, _ = write_config(tmp_path)
    text = cfg.read_text().replace("metrics_port = ", f"metrics_port = {port}\n# was ")
    cfg.write_text(text)
    return cfg


def test_start_when_metrics_port_taken_then_mmctl_start_fails_naming_the_port(tmp_path, taken):
    instance = f"mport{os.getpid()}"
    cfg = _config(tmp_path, taken)
    p = mmctl("start", "--instance", instance, "--config", cfg, check=False, timeout=120)
    assert p.returncode != 0 and "running" not in p.stdout
    assert f"metrics port {taken} on 127.0.0.1" in p.stderr and "risk.metrics_port" in p.stderr
    assert existing_segments(instance) == []


def test_prepare_when_port_taken_after_the_checks_then_start_refused_and_nothing_created(tmp_path, taken):
    instance = f"mprep{os.getpid()}"
    cfg = load_config(_config(tmp_path, taken))
    sup = Supervisor(cfg, instance, None, plan=[None] * 5)
    try:
        with pytest.raises(StartRefused, match=f"metrics port {taken} on 127.0.0.1"):
            sup.prepare(verdict=None)  # the bind comes before the clock is recorded
        assert existing_segments(instance) == []
    finally:
        if getattr(sup, "lock", None) is not None:
            os.close(sup.lock.fd)
