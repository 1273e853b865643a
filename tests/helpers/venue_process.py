"""The local venue as its own process on 127.0.0.1, for tests of what talks to it over
the network: started, waited for until it answers ``/info`` (not merely accepts a
connection: its first answers may wait on compilation), stopped; and its fault switch."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appliance_helpers import end_process

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers_info(url: str) -> bool:
    req = urllib.request.Request(url + "/info", json.dumps({"type": "meta"}).encode(),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def venue_process(*args: str) -> Iterator[str]:
    """A venue on a free port with a synthetic market; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "appliance.venue", "--port", str(port),
                             "--source", "synthetic", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not _answers_info(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the venue did not answer /info (exit {proc.poll()})")
            time.sleep(0.1)
        yield url
    finally:
        end_process(proc)


def faults(url: str, **spec) -> dict:
    """Set (or with ``clear=True`` clear) the venue's injected faults."""
    req = urllib.request.Request(url + "/_faults", json.dumps(spec).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())
