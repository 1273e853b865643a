"""The sd_notify(3) protocol without libsystemd: newline-separated KEY=VALUE text in one
AF_UNIX datagram to the socket systemd names in NOTIFY_SOCKET.

Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op returning False, so the
supervisor calls it unconditionally. Nothing here raises: a lost notification must never
take the appliance down; a missed watchdog ping is exactly what systemd is there to judge.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class SdNotifier:
    _sock: socket.socket | None = None  # class default keeps close() safe after a failed init

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_interval_s = _watchdog_interval_s(env)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1 (half of WatchdogSec, as sd_watchdog_enabled(3)
        advises), or None when systemd expects no pings from this process."""
        return self._watchdog_interval_s

    def notify(self, text: str) -> bool:
        """Send ``text`` as one datagram; False if disabled or the send failed."""
        if self._address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.sendto(text.encode(), self._address)
        except (OSError, UnicodeError):
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1" if status is None else f"READY=1\nSTATUS={status}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # Linux abstract namespace
    if value.startswith("/"):
        return value
    return None  # unset, or a transport we do not speak (e.g. vsock:)


def _watchdog_interval_s(env: Mapping[str, str]) -> float | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
        pid_text = env.get("WATCHDOG_PID")
        # systemd sets WATCHDOG_PID to the main pid; a child that inherited it must not ping
        if pid_text is not None and int(pid_text) != os.getpid():
            return None
    except ValueError:
        return None
    return usec / 2 / 1_000_000 if usec > 0 else None
