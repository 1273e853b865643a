"""Network calls with a bound on every blocking step, and a heartbeat while waiting.

The gateway's step loop is judged alive by its heartbeat. A request to the venue
must therefore never block past a known bound, and waiting on a slow (but
answering) venue must not look like a hung loop. Here:

* ``resolve``: ``getaddrinfo`` has no timeout of its own (a stuck resolver blocks for
  many seconds), so it runs on a helper thread and is waited for in slices; the last
  good answer per host is kept and used when a later lookup is slow or fails.
* ``connect``: a non-blocking TCP connect waited for in slices, within ``timeout_s``.
* ``wait_readable``: poll a socket in slices until data arrives or the deadline.

``beat`` (the process's ``ctx.beat``) is called before each slice: the loop is alive
while it waits on bounded I/O. A loop stuck anywhere else still goes stale.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import threading
import time
from collections.abc import Callable

Beat = Callable[[], None]

BEAT_SLICE_S = 0.25  # longest wait between two heartbeats while blocked on the venue


def no_beat() -> None:
    pass


def _ready(sock, events: int, timeout_s: float) -> bool:
    """poll(2) one socket (no FD_SETSIZE limit, unlike select); errors count as ready:
    the next call on the socket reports them."""
    p = select.poll()
    p.register(sock, events | select.POLLERR | select.POLLHUP)
    return bool(p.poll(timeout_s * 1000.0))


class _Resolver:
    """Bounded, cached ``getaddrinfo`` (one helper thread per lookup in flight)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], list] = {}
        self._lock = threading.Lock()

    def resolve(self, host: str, port: int, timeout_s: float, beat: Beat) -> list:
        try:
            ipaddress.ip_address(host)
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 0, "", (host, port))]
        except ValueError:
            pass
        key = (host, port)
        box: dict = {}

        def lookup() -> None:
            try:
                box["ok"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            except OSError as e:
                box["err"] = e

        t = threading.Thread(target=lookup, daemon=True, name="resolve")
        t.start()
        deadline = time.monotonic() + timeout_s
        while t.is_alive() and time.monotonic() < deadline:
            beat()
            t.join(min(BEAT_SLICE_S, max(0.0, deadline - time.monotonic())))
        if "ok" in box:
            with self._lock:
                self._cache[key] = box["ok"]
            return box["ok"]
        with self._lock:
            cached = self._cache.get(key)
        if cached:  # a slow or failing resolver: the last good answer still serves
            return cached
        if "err" in box:
            raise box["err"]
        raise TimeoutError(f"resolving {host} took more than {timeout_s:g} s")


_resolver = _Resolver()


def resolve(host: str, port: int, timeout_s: float, beat: Beat = no_beat) -> list:
    return _resolver.resolve(host, port, timeout_s, beat)


def connect(host: str, port: int, timeout_s: float, beat: Beat = no_beat) -> socket.socket:
    """A connected TCP socket (TCP_NODELAY, blocking with ``timeout_s``) within
    ``timeout_s`` in all (lookup and connect); OSError/TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    addrs = resolve(host, port, timeout_s, beat)
    err: OSError | None = None
    for family, stype, proto, _, addr in addrs:
        s = socket.socket(family, stype, proto)
        try:
            s.setblocking(False)
            rc = s.connect_ex(addr)
            if rc not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                raise OSError(rc, f"connect to {addr}: {errno.errorcode.get(rc, rc)}")
            while rc != 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"connect to {host}:{port} took more than {timeout_s:g} s")
                beat()
                if _ready(s, select.POLLOUT, min(BEAT_SLICE_S, left)):
                    rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if rc:
                        raise OSError(rc, f"connect to {addr}: {errno.errorcode.get(rc, rc)}")
                    break
            s.setblocking(True)
            s.settimeout(timeout_s)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError as e:
            s.close()
            err = e
            if time.monotonic() >= deadline:
                break
    raise err or OSError(f"no address for {host}:{port}")


def wait_readable(sock, deadline: float, beat: Beat = no_beat) -> bool:
    """Wait until ``sock`` has data (or was closed) or ``deadline`` (monotonic s)
    passes, beating every slice. True when readable."""
    pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted
    if pending is not None and pending():
        return True
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        beat()
        if _ready(sock, select.POLLIN, min(BEAT_SLICE_S, left)):
            return True
