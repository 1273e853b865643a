"""sd_notify datagrams to a real AF_UNIX socket, as systemd's NOTIFY_SOCKET would receive."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.supervisor.sdnotify import SdNotifier

pytestmark = pytest.mark.timeout(30)

RECV_TIMEOUT_S = 5.0


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(RECV_TIMEOUT_S)
    with sock:
        yield sock, path


def recv_text(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_notify_when_socket_set_then_ready_watchdog_stopping_arrive(
        notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    notifier = SdNotifier({"NOTIFY_SOCKET": path})
    try:
        assert notifier.enabled
        assert notifier.ready()
        assert recv_text(sock) == "READY=1"
        assert notifier.watchdog()
        assert recv_text(sock) == "WATCHDOG=1"
        assert notifier.stopping()
        assert recv_text(sock) == "STOPPING=1"
    finally:
        notifier.close()


def test_ready_when_status_given_then_one_datagram_carries_both(
        notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    notifier = SdNotifier({"NOTIFY_SOCKET": path})
    try:
        assert notifier.ready("5 processes up")
        assert recv_text(sock) == "READY=1\nSTATUS=5 processes up"
        assert notifier.status("quoting BTC")
        assert recv_text(sock) == "STATUS=quoting BTC"
    finally:
        notifier.close()


def test_notify_when_abstract_socket_then_datagram_arrives() -> None:
    name = f"mm-test-notify-{os.getpid()}-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(RECV_TIMEOUT_S)
        notifier = SdNotifier({"NOTIFY_SOCKET": "@" + name})
        try:
            assert notifier.ready()
            assert recv_text(sock) == "READY=1"
        finally:
            notifier.close()


def test_watchdog_interval_when_usec_set_for_this_pid_then_half_of_it() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "10000000",
           "WATCHDOG_PID": str(os.getpid())}
    assert SdNotifier(env).watchdog_interval_s == 5.0


def test_watchdog_interval_when_pid_unset_then_half_of_usec() -> None:
    assert SdNotifier({"WATCHDOG_USEC": "3000000"}).watchdog_interval_s == 1.5


def test_watchdog_interval_when_pid_is_another_process_then_none() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "10000000",
           "WATCHDOG_PID": str(os.getpid() + 1)}
    assert SdNotifier(env).watchdog_interval_s is None


@pytest.mark.parametrize("usec", ["", "0", "ten", "-5"])
def test_watchdog_interval_when_usec_missing_or_bad_then_none(usec: str) -> None:
    assert SdNotifier({"WATCHDOG_USEC": usec}).watchdog_interval_s is None


def test_notify_when_no_socket_then_disabled_and_calls_return_false() -> None:
    notifier = SdNotifier({})
    assert not notifier.enabled
    assert notifier.watchdog_interval_s is None
    assert notifier.ready() is False
    assert notifier.watchdog() is False
    assert notifier.stopping() is False
    assert notifier.status("x") is False
    notifier.close()
    notifier.close()  # idempotent


def test_notify_when_socket_path_gone_then_false_not_exception(tmp_path: Path) -> None:
    notifier = SdNotifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    try:
        assert notifier.enabled
        assert notifier.ready() is False
    finally:
        notifier.close()


def test_notifier_when_env_omitted_then_reads_os_environ(
        monkeypatch: pytest.MonkeyPatch, notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    notifier = SdNotifier()
    try:
        assert notifier.watchdog()
        assert recv_text(sock) == "WATCHDOG=1"
    finally:
        notifier.close()
