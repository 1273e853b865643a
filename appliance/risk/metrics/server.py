"""Serving the collector over HTTP from a socket that is already listening: the one
the supervisor bound and passed (``runtime/metrics_socket.py``), or, for a risk
process started by hand, one bound here (a taken port raises ``MetricsPortError``)."""

from __future__ import annotations

import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

from appliance.runtime import metrics_socket


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        """Scrapes every few seconds are not news: nothing on stderr."""


class _ListeningServer(ThreadingMixIn, WSGIServer):
    """A WSGI server over a socket bound and listening before it exists."""

    daemon_threads = True

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.getsockname()[:2], _QuietHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        host, port = sock.getsockname()[:2]
        self.server_name, self.server_port = host, port  # no reverse lookup of the host
        self.setup_environ()


def serve_socket(registry: CollectorRegistry, sock: socket.socket) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``registry`` at ``/metrics`` on ``sock`` from a daemon thread."""
    httpd = _ListeningServer(sock)
    httpd.set_app(make_wsgi_app(registry))
    t = threading.Thread(target=httpd.serve_forever, name="metrics", daemon=True)
    t.start()
    return httpd, t


def serve(collector, host: str, port: int) -> tuple[WSGIServer, threading.Thread] | None:
    """Serve ``collector``: on the supervisor's socket when one was passed, else on
    ``host:port`` (None when port is 0: the exporter is off)."""
    sock = metrics_socket.inherited()
    if sock is None:
        if port == 0:
            return None
        sock = metrics_socket.listen(host, port)
    registry = CollectorRegistry()
    registry.register(collector)
    return serve_socket(registry, sock)
