"""Actions over the websocket ``post`` method (``[gateway] transport = "ws_post"``).

Request: ``{"method": "post", "id": N, "request": {"type": "action", "payload": BODY}}``
with BODY the signed ``/exchange`` JSON; answer: ``{"channel": "post", "data": {"id": N,
"response": {"type": "action", "payload": ...}}}`` or ``{"type": "error", "payload":
"429 null"}``. Each request gets its own id (strictly increasing per transport); the
gateway waits up to ``timeout_s`` for the frame with that id and drops anything else
(pongs, late answers to requests that already timed out). The answer becomes the
same ``Reply`` the HTTP transport gives, so the response handling is shared:
``action`` -> status 200 and its payload; an ``error`` whose text starts with an
HTTP status ("429 null", "400 ...") -> that status; no answer -> status 0 (fate
unknown: the gateway reconciles, it never resends blindly).

The connection is opened lazily, pinged when idle (the server drops a silent one
after 60 s) and reopened after any error. As over HTTP, every request is bounded
(lookup and connect, then the answer, each within ``timeout_s``) and beats the
heartbeat while it waits (``beat``); ``observe`` gets each response time. ``info``
requests stay on HTTP keep-alive (``HttpTransport``): only actions take the websocket.
"""

from __future__ import annotations

import logging
import ssl
import time
from urllib.parse import urlsplit

import orjson
import websocket

from . import bounded_net
from .bounded_net import Beat
from .http_transport import HttpTransport, Observe, Reply, no_observe
from .venue_access import ws_url

log = logging.getLogger(__name__)

PING_IDLE_S = 20.0


def reply_from_post(response: object, wire_ns: int) -> Reply:
    """The ``response`` object of a ``post`` frame -> Reply (HTTP-equivalent status)."""
    if not isinstance(response, dict):
        return Reply(502, None, str(response)[:500], wire_ns, "bad post response")
    typ, payload = response.get("type"), response.get("payload")
    if typ in ("action", "info"):
        if typ == "info" and isinstance(payload, dict) and "data" in payload:
            payload = payload["data"]
        return Reply(200, payload, "", wire_ns)
    text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    head = text.split(" ", 1)[0]
    status = int(head) if head.isdigit() else 400
    if status == 429:
        return Reply(429, None, "", wire_ns)
    body = None
    rest = text[len(head):].strip() if head.isdigit() else text
    try:
        body = orjson.loads(rest) if rest else None
    except orjson.JSONDecodeError:
        pass
    return Reply(status, body, text[:500], wire_ns)


class WsPostTransport:
    def __init__(self, base_url: str, timeout_s: float = 1.5,
                 info_transport: HttpTransport | None = None, beat: Beat | None = None,
                 observe: Observe | None = None) -> None:
        self.url = ws_url(base_url.rstrip("/"))
        self.timeout_s = timeout_s
        self.beat: Beat = beat or bounded_net.no_beat
        self.observe: Observe = observe or no_observe
        self.http = info_transport or HttpTransport(base_url, timeout_s, beat=beat, observe=observe)
        self._ws: websocket.WebSocket | None = None
        self._next_id = 0
        self._last_io = 0.0
        self.requests = 0
        self.failures = 0
        self.reconnects = 0
        self.timeouts = 0
        self.stale_answers = 0  # answers to requests that had already timed out

    # --- connection ------------------------------------------------------------
    def _connect(self) -> websocket.WebSocket:
        # Our own bounded, beating lookup and TCP connect; TLS and the upgrade are
        # bounded by the socket timeout.
        u = urlsplit(self.url)
        secure = u.scheme == "wss"
        host, port = u.hostname or "", u.port or (443 if secure else 80)
        sock = bounded_net.connect(host, port, self.timeout_s, self.beat)
        try:
            if secure:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            ws = websocket.create_connection(self.url, timeout=self.timeout_s, socket=sock,
                                             enable_multithread=False)
        except Exception:
            sock.close()
            raise
        self.reconnects += 1
        self._last_io = time.monotonic()
        return ws

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=0.2)
            except Exception:  # noqa: BLE001 - best effort
                pass
        self.http.close()

    def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.abort()
            except Exception:  # noqa: BLE001
                pass

    def keepalive(self) -> None:
        """Ping a connection that has been quiet (call from the step loop)."""
        if self._ws is not None and time.monotonic() - self._last_io >= PING_IDLE_S:
            try:
                self._ws.send('{"method":"ping"}')
                self._last_io = time.monotonic()
            except Exception:  # noqa: BLE001
                self._drop()

    # --- requests ----------------------------------------------------------------
    def post_request(self, typ: str, payload: dict | bytes) -> Reply:
        """One ``post`` of ``typ`` ("action" | "info"); waits for its answer."""
        self.requests += 1
        self._next_id += 1
        req_id = self._next_id
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        msg = b'{"method":"post","id":%d,"request":{"type":"%s","payload":%s}}' % (
            req_id, typ.encode(), raw)
        for attempt in (0, 1):
            wire_ns = 0
            self.beat()
            t0 = time.monotonic()
            try:
                if self._ws is None:
                    self._ws = self._connect()
                ws = self._ws
                ws.settimeout(self.timeout_s)  # _await left a slice on it
                wire_ns = time.time_ns()
                t0 = time.monotonic()
                ws.send(msg.decode())
            except Exception as e:  # noqa: BLE001 - nothing left: a retry cannot double it
                self._drop()
                if attempt == 0:
                    continue
                self.failures += 1
                self.observe((time.monotonic() - t0) * 1e3, False)
                return Reply(0, None, "", wire_ns, f"{type(e).__name__}: {e}")
            r = self._await(req_id, wire_ns)
            self.observe((time.monotonic() - t0) * 1e3, r.status != 0)
            return r
        return Reply(0, None, "", 0, "unreachable")  # pragma: no cover

    def _await(self, req_id: int, wire_ns: int) -> Reply:
        deadline = time.monotonic() + self.timeout_s
        ws = self._ws
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timeouts += 1
                self.failures += 1
                return Reply(0, None, "", wire_ns, f"TimeoutError: no post answer to id {req_id}")
            try:
                self.beat()  # waiting on a bounded answer is progress
                ws.settimeout(min(left, bounded_net.BEAT_SLICE_S))
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as e:  # noqa: BLE001 - closed, reset: the fate is unknown
                self._drop()
                self.failures += 1
                return Reply(0, None, "", wire_ns, f"{type(e).__name__}: {e}")
            self._last_io = time.monotonic()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self._drop()
                self.failures += 1
                return Reply(0, None, "", wire_ns, "websocket closed by the server")
            try:
                frame = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(frame, dict) or frame.get("channel") != "post":
                continue  # pong, error of another request ...
            d = frame.get("data")
            if not isinstance(d, dict) or d.get("id") != req_id:
                self.stale_answers += 1
                continue
            return reply_from_post(d.get("response"), wire_ns)

    def exchange(self, body: dict | bytes) -> Reply:
        return self.post_request("action", body)

    def info(self, req: dict) -> Reply:
        return self.http.info(req)

    def post(self, path: str, payload: dict | bytes) -> Reply:
        return self.exchange(payload) if path == "/exchange" else self.http.post(path, payload)
