"""The exporter served the way the appliance serves it: the supervisor's bound socket
passed to the risk process (``MM_METRICS_FD``). Two instances on one box: each its own
port and its own ``mm_instance`` label."""

import os

import pytest
from appliance_helpers import free_port
from metrics_helpers import config
from prometheus_helpers import samples, scrape
from risk_helpers import fresh_segments

from appliance.risk import metrics
from appliance.runtime import metrics_socket


@pytest.fixture
def two_instances():
    with fresh_segments("mxa") as a, fresh_segments("mxb") as b:
        yield {"a": a, "b": b}


def _serve_as_risk(monkeypatch, mem, instance: str, port: int):
    """Bind as the supervisor does, then serve as a spawned risk process does."""
    sock = metrics_socket.listen("127.0.0.1", port)
    monkeypatch.setenv(metrics_socket.METRICS_FD_ENV, str(sock.fileno()))
    sock.detach()  # the descriptor now belongs to the "risk process" below
    served = metrics.serve(metrics.ApplianceCollector(mem, config(), instance), "127.0.0.1", port)
    monkeypatch.delenv(metrics_socket.METRICS_FD_ENV)
    return served


def test_two_instances_when_served_on_one_box_then_distinct_ports_and_instance_labels(
        monkeypatch, two_instances):
    servers = {}
    try:
        for name, mem in two_instances.items():
            servers[name] = _serve_as_risk(monkeypatch, mem, f"inst-{name}", free_port())
        ports = {name: s[0].socket.getsockname()[1] for name, s in servers.items()}
        assert ports["a"] != ports["b"]
        for name, port in ports.items():
            labels = {s.labels.get("mm_instance") for s in samples(scrape(port))}
            assert labels == {f"inst-{name}"}
    finally:
        for httpd, _ in servers.values():
            httpd.shutdown()
            httpd.server_close()


def test_serve_when_started_by_hand_on_a_taken_port_then_error_names_the_port(two_instances):
    holder = metrics_socket.listen("127.0.0.1", 0)
    port = holder.getsockname()[1]
    try:
        assert os.environ.get(metrics_socket.METRICS_FD_ENV) is None
        with pytest.raises(metrics_socket.MetricsPortError, match=f"metrics port {port} on 127.0.0.1"):
            metrics.serve(metrics.ApplianceCollector(two_instances["a"], config(), "x"), "127.0.0.1", port)
    finally:
        holder.close()
