"""Choosing the transport of ``[gateway] transport``: "http" (keep-alive ``/exchange``)
or "ws_post" (actions as websocket ``post`` requests, info over HTTP). Both return
the same ``Reply``, so the callers never know which one runs.

A module of its own so that neither transport imports the other's factory: the
websocket one builds on the HTTP one (info requests), never the reverse.
"""

from __future__ import annotations

from .bounded_net import Beat
from .http_transport import HttpTransport, Observe
from .ws_post_transport import WsPostTransport

TRANSPORTS = ("http", "ws_post")


def make_transport(kind: str, base_url: str, timeout_s: float, beat: Beat | None = None,
                   observe: Observe | None = None) -> HttpTransport | WsPostTransport:
    """``beat``: the heartbeat hook, called while a request waits; ``observe``: each
    request's response time (``gateway.venue_health``)."""
    if kind == "ws_post":
        return WsPostTransport(base_url, timeout_s, beat=beat, observe=observe)
    if kind != "http":
        raise ValueError(f"gateway.transport {kind!r}: one of {TRANSPORTS}")
    return HttpTransport(base_url, timeout_s, beat=beat, observe=observe)
