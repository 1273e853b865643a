"""The bytes ``HttpTransport`` writes for a request are the ones ``http.client`` wrote
(its head is built once per path, issue 18), keep-alive holds across requests, and a
``Connection: close`` answer is honoured; against a real loopback server."""

import http.client
import socket
import threading

import orjson
import pytest

from appliance.hyperliquid.http_transport import HttpTransport


class OneShotServer:
    """A loopback HTTP server that records every request's raw bytes and answers
    ``{"ok": n}``; with ``close=True`` each answer carries ``Connection: close``."""

    def __init__(self, close: bool = False) -> None:
        self.close = close
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(5.0)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn: socket.socket) -> None:
        conn.settimeout(5.0)
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, rest = buf.partition(b"\r\n\r\n")
                n = int(next(h.split(b":")[1] for h in head.split(b"\r\n")
                             if h.lower().startswith(b"content-length")))
                while len(rest) < n:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:n])
                buf = rest[n:]
                body = orjson.dumps({"ok": len(self.requests)})
                extra = b"Connection: close\r\n" if self.close else b""
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s"
                             b"Content-Length: %d\r\n\r\n%s" % (extra, len(body), body))
                if self.close:
                    return

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def server():
    s = OneShotServer()
    yield s
    s.stop()


def _http_client_bytes(port: int, path: str, body: bytes) -> bytes:
    """What http.client's putrequest / putheader / endheaders wrote (the old path)."""
    srv = OneShotServer()
    try:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5.0)
        c.putrequest("POST", path, skip_accept_encoding=True)
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        c.getresponse().read()
        c.close()
        return srv.requests[0].replace(b":%d" % srv.port, b":%d" % port)
    finally:
        srv.stop()


def test_post_when_sent_then_bytes_equal_http_client_and_the_connection_is_kept(server):
    t = HttpTransport(f"http://127.0.0.1:{server.port}", timeout_s=5.0)
    body = orjson.dumps({"type": "openOrders", "user": "0x" + "ab" * 20})
    r1 = t.post("/info", body)
    r2 = t.exchange({"action": {"type": "noop"}, "nonce": 1})
    assert (r1.status, r1.body, r2.status, r2.body) == (200, {"ok": 1}, 200, {"ok": 2})
    assert server.requests[0] == _http_client_bytes(server.port, "/info", body)
    assert server.requests[1].startswith(b"POST /exchange HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % server.port)
    assert server.connections == 1 and t.reconnects == 1 and r1.wire_ns > 0  # keep-alive
    t.close()


def test_post_when_the_venue_answers_connection_close_then_the_next_request_reconnects():
    srv = OneShotServer(close=True)
    try:
        t = HttpTransport(f"http://127.0.0.1:{srv.port}", timeout_s=5.0)
        assert [t.post("/info", b"{}").body for _ in range(3)] == [{"ok": 1}, {"ok": 2}, {"ok": 3}]
        assert srv.connections == 3 and t.reconnects == 3 and t.failures == 0
        t.close()
    finally:
        srv.stop()


def test_host_header_when_default_port_or_ipv6_then_as_http_client_writes_it():
    assert HttpTransport("https://api.hyperliquid.xyz")._netloc == "api.hyperliquid.xyz"
    assert HttpTransport("http://[::1]:3001")._netloc == "[::1]:3001"
    assert HttpTransport("http://localhost:80")._netloc == "localhost"
