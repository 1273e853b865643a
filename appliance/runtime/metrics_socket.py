"""The metrics exporter's listening socket: bound by the supervisor, served by risk.

Why the supervisor binds it: a port that is taken must stop ``mmctl start`` with the
port's name, not surface later as a line in ``risk.log`` while the start reports
success (and the port serves another instance's numbers). The supervisor binds
``risk.metrics_host:risk.metrics_port`` before it creates anything, refuses the start
when that fails, and hands the listening descriptor to every risk process it spawns
(``MM_METRICS_FD``). A restarted risk process serves the same socket, so the port is
never released to someone else between two risk processes, and scrapes that arrive
meanwhile wait in the backlog.
"""

from __future__ import annotations

import os
import socket

METRICS_FD_ENV = "MM_METRICS_FD"  # the listening descriptor the risk process serves
BACKLOG = 16  # scrapes waiting while a risk process restarts


class MetricsPortError(RuntimeError):
    """The exporter's port cannot be bound; the message names host, port and fix."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (SO_REUSEADDR: a quick restart of the
    appliance is not refused for connections in TIME_WAIT; a live listener still is)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise MetricsPortError(f"metrics exporter: cannot resolve risk.metrics_host {host!r}: {e}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(BACKLOG)
    except OSError as e:
        sock.close()
        raise MetricsPortError(
            f"metrics port {port} on {host} cannot be bound ({e.strerror or e}): another "
            f"instance or a Prometheus server has it; give this instance its own "
            f"risk.metrics_port (0 disables the exporter)") from None
    return sock


def probe(host: str, port: int) -> None:
    """MetricsPortError if ``host:port`` cannot be bound now (nothing is kept)."""
    listen(host, port).close()


def inherited() -> socket.socket | None:
    """The listening socket the supervisor passed (``MM_METRICS_FD``), or None."""
    fd = os.environ.get(METRICS_FD_ENV)
    if not fd:
        return None
    return socket.socket(fileno=int(fd))
