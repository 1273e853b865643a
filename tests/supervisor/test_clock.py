"""Clock checks against a fake SNTP responder on loopback, the kernel's adjtimex state,
and the `check-clock` command."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from appliance.cli.check_clock import check_clock as check_clock_command
from appliance.supervisor import clock
from appliance.supervisor.clock import (
    STA_UNSYNC,
    KernelClock,
    check_clock,
    kernel_clock,
    ntp_to_unix_ns,
    parse_server,
    sntp_query,
    unix_ns_to_ntp,
)

pytestmark = pytest.mark.timeout(30)

QUERY_TIMEOUT_S = 2.0
ROUNDING_NS = 4  # ns lost to 2^-32 s fractions and integer halving, both ends


class FakeSntpServer:
    """Answers SNTP requests on 127.0.0.1 with a clock shifted by ``offset_ns``."""

    def __init__(self, offset_ns: int, *, stratum: int = 2, wrong_originate: bool = False,
                 reply: bool = True) -> None:
        self.offset_ns = offset_ns
        self.stratum = stratum
        self.wrong_originate = wrong_originate
        self.reply = reply
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # lets the thread notice stop
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                request, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            t2_ns = time.time_ns() + self.offset_ns
            self.requests += 1
            if not self.reply:
                continue
            (originate,) = struct.unpack_from("!Q", request, 40)
            if self.wrong_originate:
                originate ^= 0xDEAD_BEEF
            header = struct.pack("!BBbbII4sQ", (0 << 6) | (4 << 3) | 4, self.stratum, 6, -20,
                                 0, 0, b"TEST", unix_ns_to_ntp(t2_ns))
            t3_ns = time.time_ns() + self.offset_ns
            body = struct.pack("!QQQ", originate, unix_ns_to_ntp(t2_ns), unix_ns_to_ntp(t3_ns))
            self.sock.sendto(header + body, peer)

    def __enter__(self) -> FakeSntpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@contextmanager
def silent_udp_port() -> Iterator[str]:
    """A bound UDP port that never answers (no ICMP unreachable either)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def assert_offset_close(sample: clock.NtpSample, injected_ns: int) -> None:
    # With both ends on one clock the true offset is the injected one, and NTP's
    # error is bounded by half the measured round trip: no wall-clock tolerance needed.
    assert sample.error is None, sample.error
    assert sample.offset_ns is not None and sample.delay_ns is not None
    assert abs(sample.offset_ns - injected_ns) <= sample.delay_ns // 2 + ROUNDING_NS


# --- SNTP ------------------------------------------------------------------------------


@pytest.mark.parametrize("injected_ns", [250_000_000, 2_000_000, -40_000_000])
def test_query_when_server_offset_injected_then_measured_offset_matches(injected_ns: int) -> None:
    with FakeSntpServer(injected_ns) as server:
        sample = sntp_query(server.address, timeout_s=QUERY_TIMEOUT_S)
    assert_offset_close(sample, injected_ns)
    assert sample.stratum == 2
    assert sample.delay_ns >= 0


def test_query_when_originate_timestamp_wrong_then_reply_rejected() -> None:
    with FakeSntpServer(0, wrong_originate=True) as server:
        sample = sntp_query(server.address, timeout_s=QUERY_TIMEOUT_S)
    assert sample.offset_ns is None and sample.delay_ns is None
    assert sample.error is not None and "originate timestamp" in sample.error


@pytest.mark.parametrize("stratum", [0, 16])
def test_query_when_stratum_out_of_range_then_error_sample(stratum: int) -> None:
    with FakeSntpServer(0, stratum=stratum) as server:
        sample = sntp_query(server.address, timeout_s=QUERY_TIMEOUT_S)
    assert sample.offset_ns is None
    assert sample.error is not None


def test_query_when_server_silent_then_error_sample_not_exception() -> None:
    with silent_udp_port() as address:
        sample = sntp_query(address, timeout_s=0.2)
    assert sample.server == address
    assert sample.offset_ns is None and sample.stratum is None
    assert sample.error is not None and "no reply" in sample.error


def test_query_when_port_closed_then_error_sample_not_exception() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    sample = sntp_query(address, timeout_s=QUERY_TIMEOUT_S)  # nobody listens any more
    assert sample.offset_ns is None
    assert sample.error


@pytest.mark.parametrize("server", ["127.0.0.1:notaport", "127.0.0.1:70000", "[::1", ""])
def test_query_when_address_malformed_then_error_sample(server: str) -> None:
    sample = sntp_query(server, timeout_s=0.2)
    assert sample.offset_ns is None
    assert sample.error


@pytest.mark.parametrize(("server", "expected"), [
    ("time.example", ("time.example", 123)),
    ("10.0.0.1:1123", ("10.0.0.1", 1123)),
    ("[::1]:123", ("::1", 123)),
    ("[::1]", ("::1", 123)),
    ("fe80::1", ("fe80::1", 123)),
])
def test_parse_server_when_forms_vary_then_host_and_port(server: str,
                                                         expected: tuple[str, int]) -> None:
    assert parse_server(server) == expected


def test_ntp_timestamp_when_round_tripped_then_within_one_ns() -> None:
    for t_ns in (0, 1_700_000_000_123_456_789, 2_085_978_496_000_000_001):  # last: after 2036
        assert abs(ntp_to_unix_ns(unix_ns_to_ntp(t_ns)) - t_ns) <= 1


def test_query_when_ipv6_loopback_bracketed_then_answer_or_error_sample() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.bind(("::1", 0))
    except OSError as err:
        pytest.skip(f"no IPv6 loopback here: {err}")
    with sock:
        sample = sntp_query(f"[::1]:{sock.getsockname()[1]}", timeout_s=0.2)
    assert sample.error is not None and "no reply" in sample.error


# --- verdict ---------------------------------------------------------------------------


def test_check_when_offset_beyond_limit_then_not_ok() -> None:
    with FakeSntpServer(250_000_000) as server:
        verdict = check_clock([server.address], max_offset_ms=100, timeout_s=QUERY_TIMEOUT_S)
    assert not verdict.ok
    assert verdict.offset_ns is not None and verdict.offset_ns > 100_000_000
    assert any("exceeds" in r for r in verdict.reasons)


def test_check_when_offset_within_limit_then_ok() -> None:
    with FakeSntpServer(2_000_000) as server:
        verdict = check_clock([server.address], max_offset_ms=100, timeout_s=QUERY_TIMEOUT_S)
    assert verdict.ok, verdict.reasons
    assert verdict.reasons == ()
    assert_offset_close(verdict.samples[0], 2_000_000)


def test_check_when_three_servers_then_offset_is_median_of_answers() -> None:
    with (FakeSntpServer(10_000_000) as a, FakeSntpServer(30_000_000) as b,
          FakeSntpServer(900_000_000) as c, silent_udp_port() as silent):
        verdict = check_clock([a.address, silent, b.address, c.address], max_offset_ms=100,
                              timeout_s=0.5)
    assert [s.error is None for s in verdict.samples] == [True, False, True, True]
    assert_offset_close(verdict.samples[2], 30_000_000)
    assert verdict.offset_ns is not None
    assert abs(verdict.offset_ns - 30_000_000) <= verdict.samples[2].delay_ns // 2 + ROUNDING_NS
    assert verdict.ok, verdict.reasons


def test_check_when_ntp_required_and_none_answers_then_not_ok() -> None:
    with silent_udp_port() as silent:
        verdict = check_clock([silent], max_offset_ms=100, timeout_s=0.2, require_ntp=True)
    assert not verdict.ok
    assert verdict.offset_ns is None
    assert any("require_ntp" in r for r in verdict.reasons)


def test_check_when_ntp_optional_and_none_answers_then_ok() -> None:
    with silent_udp_port() as silent:
        verdict = check_clock([silent], max_offset_ms=100, timeout_s=0.2)
    assert verdict.ok
    assert verdict.samples[0].error is not None


def _fake_kernel(synced: bool) -> KernelClock:
    return KernelClock(synced=synced, state=0 if synced else 5,
                       status_flags=0 if synced else STA_UNSYNC, max_error_us=16_000_000,
                       est_error_us=16_000_000, offset_us=0.0)


@pytest.mark.parametrize(("synced", "require", "ok"), [
    (False, True, False), (True, True, True), (False, False, True),
])
def test_check_when_no_servers_then_verdict_follows_kernel_sync_requirement(
        monkeypatch: pytest.MonkeyPatch, synced: bool, require: bool, ok: bool) -> None:
    monkeypatch.setattr(clock, "kernel_clock", lambda: _fake_kernel(synced))
    verdict = check_clock([], max_offset_ms=50, require_kernel_sync=require, require_ntp=True)
    assert verdict.ok is ok
    assert verdict.samples == () and verdict.offset_ns is None
    assert (not ok) == any("kernel" in r for r in verdict.reasons)


def test_check_when_adjtimex_refused_and_sync_required_then_not_ok(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> KernelClock:
        raise PermissionError(1, "adjtimex: Operation not permitted")

    monkeypatch.setattr(clock, "kernel_clock", refused)
    verdict = check_clock([], max_offset_ms=50, require_kernel_sync=True)
    assert not verdict.ok
    assert verdict.kernel.state == -1
    assert "unreadable" in verdict.reasons[0]


def test_verdict_when_serialized_then_json_and_text_carry_the_facts() -> None:
    with FakeSntpServer(250_000_000) as server, silent_udp_port() as silent:
        verdict = check_clock([server.address, silent], max_offset_ms=100, timeout_s=0.3)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["ok"] is False
    assert data["samples"][0]["server"] == server.address
    assert data["samples"][1]["error"]
    assert data["kernel"]["max_error_us"] == verdict.kernel.max_error_us
    text = verdict.render()
    assert "kernel clock:" in text and "max error" in text
    assert f"ntp {server.address}: offset +2" in text and "stratum 2" in text
    assert f"ntp {silent}: error:" in text
    assert "NOT OK" in text and verdict.reasons[0] in text


# --- kernel ----------------------------------------------------------------------------


def test_kernel_clock_when_read_then_values_are_sane() -> None:
    k = kernel_clock()
    assert 0 <= k.state <= 5
    assert k.max_error_us >= 0 and k.est_error_us >= 0
    assert k.synced == (not k.status_flags & STA_UNSYNC and k.state != 5)
    if not k.synced:
        assert k.state == 5 or k.status_flags & STA_UNSYNC


# --- CLI -------------------------------------------------------------------------------


@pytest.mark.parametrize(("injected_ns", "exit_code"), [(250_000_000, 1), (2_000_000, 0)])
def test_cli_when_offset_injected_then_exit_code_follows_limit(injected_ns: int,
                                                               exit_code: int) -> None:
    with FakeSntpServer(injected_ns) as server:
        result = CliRunner().invoke(check_clock_command, [
            "--server", server.address, "--max-offset-ms", "100", "--json"])
    assert result.exit_code == exit_code, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is (exit_code == 0)
    assert_offset_close(clock.NtpSample(**data["samples"][0]), injected_ns)
    if exit_code:
        assert "exceeds" in result.stderr


def test_cli_when_text_output_then_reasons_printed() -> None:
    with FakeSntpServer(250_000_000) as server:
        result = CliRunner().invoke(check_clock_command, [
            "--server", server.address, "--max-offset-ms", "100"])
    assert result.exit_code == 1
    assert "NOT OK" in result.output and "exceeds the limit of 100 ms" in result.output


def test_cli_when_config_missing_then_click_error() -> None:
    result = CliRunner().invoke(check_clock_command, ["--config", "/nonexistent/mm.toml"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_cli_when_config_names_servers_then_they_are_used(tmp_path) -> None:
    with FakeSntpServer(2_000_000) as server:
        config = tmp_path / "mm.toml"
        config.write_text(f'[clock]\nntp_servers = ["{server.address}"]\nmax_offset_ms = 1.0\n')
        result = CliRunner().invoke(check_clock_command, ["--config", str(config), "--json"])
    assert result.exit_code == 1, result.output  # 2 ms against a 1 ms limit from the file
    assert json.loads(result.stdout)["samples"][0]["server"] == server.address
