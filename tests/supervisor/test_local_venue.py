"""The local venue's start in two halves: ``launch`` returns at once (the supervisor
starts the estimator and the quote meanwhile), ``wait_listening`` returns once the venue
reports the URL it listens on and only then hands it to the children started later; a
venue that exits first is an error, and a port that merely answers, or a report left by
another process, is never taken for the venue. A real child process stands in for the
venue (a socket that listens after a delay, then reports as the venue's ``--ready-file``
does): no venue imports, no kernels."""

import os
import socket
import sys

import pytest

from appliance.config import load_config
from appliance.config.state_files import VENUE_URL_FILE
from appliance.hyperliquid.venue_access import VENUE_URL_ENV
from appliance.supervisor.local_venue import LocalVenue
from appliance.venue.command import write_ready_file

LISTEN_AFTER = """
import os, socket, sys, time
from appliance.venue.command import write_ready_file
time.sleep(float(sys.argv[2]))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
write_ready_file(sys.argv[3], "http://127.0.0.1:%d" % s.getsockname()[1]); time.sleep(30)
"""


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class _SlowVenue(LocalVenue):
    def __init__(self, cfg, instance, delay_s: float, exit_code: int | None = None) -> None:
        super().__init__(cfg, instance, None)
        self.delay_s, self.exit_code = delay_s, exit_code

    def _cmd(self) -> list[str]:
        if self.exit_code is not None:
            return [sys.executable, "-c", f"import sys; sys.exit({self.exit_code})"]
        return [sys.executable, "-c", LISTEN_AFTER, str(self.port), str(self.delay_s),
                str(self.ready_path)]


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.delenv(VENUE_URL_ENV, raising=False)
    p = tmp_path / "c.toml"
    p.write_text(f'[appliance]\nstate_dir = "{tmp_path}/{{instance}}"\n')
    (tmp_path / "lv").mkdir()
    return load_config(str(p))


def test_launch_when_the_venue_listens_late_then_returns_at_once_and_wait_hands_over_the_url(cfg, tmp_path):
    # Arrange
    venue = _SlowVenue(cfg, "lv", delay_s=1.0)
    try:
        # Act
        venue.launch()
        silent_at_launch = venue.proc.poll() is None and venue.reported_url() is None
        url_before = os.environ.get(VENUE_URL_ENV)
        venue.wait_listening(30.0)
        # Assert
        assert silent_at_launch  # launch returned before the venue listened
        assert url_before is None  # children started before the venue answers get no URL
        assert venue.port > 0 and port_open(venue.host, venue.port)  # the port it bound
        assert os.environ[VENUE_URL_ENV] == venue.url
        assert (tmp_path / "lv" / VENUE_URL_FILE).read_text().strip() == venue.url
    finally:
        venue.stop()


def test_wait_listening_when_a_stranger_answers_and_a_stale_report_exists_then_takes_only_its_venues_url(cfg):
    # Arrange: another process listens on a port and a report naming it (and another pid)
    # is left in the state dir, as an earlier venue or another instance could leave them.
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        stranger_port = stranger.getsockname()[1]
        venue = _SlowVenue(cfg, "lv", delay_s=0.5)
        write_ready_file(str(venue.ready_path), f"http://127.0.0.1:{stranger_port}")
        try:
            # Act
            venue.launch()
            venue.wait_listening(30.0)
            # Assert
            assert venue.port not in (0, stranger_port)
            assert os.environ[VENUE_URL_ENV] == f"http://127.0.0.1:{venue.port}"
            assert venue.reported_url() == venue.url
        finally:
            venue.stop()


def test_wait_listening_when_the_venue_exits_first_then_raises_naming_its_exit_code(cfg):
    # Arrange
    venue = _SlowVenue(cfg, "lv", delay_s=0.0, exit_code=3)
    venue.launch()
    # Act / Assert
    with pytest.raises(RuntimeError, match="exited with code 3"):
        venue.wait_listening(30.0)
    assert VENUE_URL_ENV not in os.environ
