"""The local venue's start in two halves: ``launch`` returns at once (the supervisor
starts the estimator and the quote meanwhile), ``wait_listening`` returns once the port
answers and only then hands the URL to the children started later; a venue that exits
first is an error. A real child process stands in for the venue (a socket that listens
after a delay): no venue imports, no kernels."""

import os
import sys

import pytest

from appliance.config import load_config
from appliance.config.state_files import VENUE_URL_FILE
from appliance.hyperliquid.venue_access import VENUE_URL_ENV
from appliance.supervisor.local_venue import LocalVenue, port_open

LISTEN_AFTER = """
import socket, sys, time
time.sleep(float(sys.argv[2]))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)
"""


class _SlowVenue(LocalVenue):
    def __init__(self, cfg, instance, delay_s: float, exit_code: int | None = None) -> None:
        super().__init__(cfg, instance, None)
        self.delay_s, self.exit_code = delay_s, exit_code

    def _cmd(self) -> list[str]:
        if self.exit_code is not None:
            return [sys.executable, "-c", f"import sys; sys.exit({self.exit_code})"]
        return [sys.executable, "-c", LISTEN_AFTER, str(self.port), str(self.delay_s)]


def _answers(venue: LocalVenue) -> bool:
    return port_open(venue.host, venue.port)


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
        silent_at_launch = venue.proc.poll() is None and not _answers(venue)
        url_before = os.environ.get(VENUE_URL_ENV)
        venue.wait_listening(30.0)
        # Assert
        assert silent_at_launch  # launch returned before the port answered
        assert url_before is None  # children started before the venue answers get no URL
        assert os.environ[VENUE_URL_ENV] == venue.url
        assert (tmp_path / "lv" / VENUE_URL_FILE).read_text().strip() == venue.url
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
