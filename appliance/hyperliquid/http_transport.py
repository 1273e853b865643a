"""HTTP keep-alive to ``/info`` and ``/exchange`` (``http.client``, no new dependency),
and the ``Reply`` every transport returns (``ws_post_transport`` gives the same;
``transports.make_transport`` picks one).

One persistent connection, reopened after any error. ``http.client`` connects (TLS
included) and parses each answer; the request itself is one ``sendall`` of a head
built once per path plus the body (``putrequest`` / ``putheader`` validated and
formatted the same few header lines on every order: tens of µs on the order's path). ``post`` returns
``Reply(status, body, wire_ns)``: ``status`` is the HTTP status (0 = no answer:
timeout, reset; the request may or may not have reached the venue), ``body`` the
parsed JSON (None for 429's ``null`` or an unparsable body, whose text is in
``text``), ``wire_ns`` the CLOCK_REALTIME stamp taken just before the request
bytes were written to the socket (tick-to-wire).

Every request is bounded and counts as progress: ``beat`` (the process's heartbeat,
``ctx.beat``) is called before it and every ``bounded_net.BEAT_SLICE_S`` while it
waits; the lookup and connect take at most ``timeout_s``, the answer at most
``timeout_s`` after the request left. ``observe(latency_ms, answered)`` gets each
request's response time (``venue_health``).
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from . import bounded_net
from .bounded_net import Beat

log = logging.getLogger(__name__)

Observe = Callable[[float, bool], None]  # (response time in ms, answered at all)
MIN_READ_S = 0.05  # reading an answer that has started to arrive: at least this long


def no_observe(latency_ms: float, answered: bool) -> None:
    pass


@dataclass
class Reply:
    status: int
    body: object = None
    text: str = ""
    wire_ns: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class HttpTransport:
    def __init__(self, base_url: str, timeout_s: float = 1.5, beat: Beat | None = None,
                 observe: Observe | None = None) -> None:
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        self.timeout_s = timeout_s
        self.beat: Beat = beat or bounded_net.no_beat
        self.observe: Observe = observe or no_observe
        self._conn: http.client.HTTPConnection | None = None
        # The Host header as http.client writes it (an IPv6 literal bracketed, the port
        # only when not the scheme's, a non-ASCII name IDNA-encoded)
        host = self.host if self.host.isascii() else self.host.encode("idna").decode("ascii")
        host = f"[{host}]" if ":" in host else host
        self._netloc = host if self.port == (443 if self.https else 80) else f"{host}:{self.port}"
        self._heads: dict[str, bytes] = {}  # path -> the request's head up to its length
        self.requests = 0
        self.failures = 0
        self.reconnects = 0
        self.timeouts = 0

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        c = cls(self.host, self.port, timeout=self.timeout_s)
        # Lookup and TCP connect bounded and beating (http.client's own hook for it);
        # the TLS handshake is bounded by the socket timeout.
        c._create_connection = lambda addr, timeout=None, source=None: bounded_net.connect(
            addr[0], addr[1], self.timeout_s, self.beat)
        c.connect()
        self.reconnects += 1
        return c

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None

    def post(self, path: str, payload: dict | bytes) -> Reply:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.requests += 1
        for attempt in (0, 1):
            wire_ns = 0
            self.beat()
            t_sent = time.monotonic()
            try:
                if self._conn is None:
                    self._conn = self._connect()
                sock = self._conn.sock
                sock.settimeout(self.timeout_s)
                request = b"%s%d\r\n\r\n%s" % (self._heads.get(path) or self._head(path), len(body), body)
                wire_ns = time.time_ns()
                t_sent = time.monotonic()
                sock.sendall(request)
                deadline = t_sent + self.timeout_s
                if not bounded_net.wait_readable(sock, deadline, self.beat):
                    self.timeouts += 1
                    raise TimeoutError(f"no answer in {self.timeout_s:g} s")
                sock.settimeout(max(MIN_READ_S, deadline - time.monotonic()))
                r = http.client.HTTPResponse(sock, method="POST")
                r.begin()
                raw = r.read()
                status = r.status
                if r.will_close:  # the venue closes it after this answer
                    self.close()
            except (OSError, http.client.HTTPException) as e:
                self.close()
                # A stale keep-alive connection fails before anything is sent: retry once.
                # After a timeout the request may have arrived: never resend it blindly.
                if attempt == 0 and isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                                   ConnectionResetError)) and not isinstance(
                                                       e, TimeoutError):
                    continue
                self.failures += 1
                self.observe((time.monotonic() - t_sent) * 1e3, False)
                return Reply(0, None, "", wire_ns, f"{type(e).__name__}: {e}")
            self.observe((time.monotonic() - t_sent) * 1e3, True)
            try:
                parsed = orjson.loads(raw) if raw else None
                text = ""
            except orjson.JSONDecodeError:
                parsed, text = None, raw.decode(errors="replace")[:500]
            return Reply(status, parsed, text, wire_ns)
        return Reply(0, None, "", 0, "unreachable")  # pragma: no cover

    def _head(self, path: str) -> bytes:
        """The bytes http.client's ``putrequest`` / ``putheader`` would write for a JSON
        POST to ``path``, up to the length's value: built once, not per request."""
        h = self._heads[path] = (f"POST {path} HTTP/1.1\r\nHost: {self._netloc}\r\n"
                                 "Content-Type: application/json\r\nContent-Length: ").encode("ascii")
        return h

    def info(self, req: dict) -> Reply:
        return self.post("/info", req)

    def exchange(self, body: dict) -> Reply:
        return self.post("/exchange", body)

    def keepalive(self) -> None:
        """HTTP keep-alive needs nothing from the step loop (the websocket one pings)."""
