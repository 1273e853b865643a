"""`mmctl venue` / `python -m appliance.venue` as a real process; replayed markets;
market-side faults (depth gaps, stalls)."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from venue_server_helpers import DEMO_ADDRESS, Ws, post_info, start_venue, wait_for

from appliance.hyperliquid.demo_key import DEMO_PRIVATE_KEY_HEX

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
HL_CAPTURE = DATA / "hyperliquid" / "btc_ws_20250126.gz"


def _start_cli(*args) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "appliance.venue", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if m:
            for _ in range(2 + sum(1 for a in args if a == "--fund")):
                lines.append(proc.stdout.readline())
            return proc, m.group(1), lines
    proc.kill()
    raise AssertionError(f"venue did not start: {lines} {proc.stderr.read()}")


def test_cli_when_started_then_serves_prints_accounts_and_stops_on_sigterm():
    other = "0x" + "ab" * 20
    proc, url, lines = _start_cli("--port", "0", "--source", "synthetic", "--fund", f"{other}:5000")
    try:
        text = "".join(lines)
        assert DEMO_ADDRESS in text and other in text and "5,000.00 USDC" in text
        assert DEMO_PRIVATE_KEY_HEX[2:] not in text  # never a key
        r = requests.post(url + "/info", json={"type": "meta"}, timeout=10)
        assert r.status_code == 200 and r.json()["universe"][0]["name"] == "BTC"
        chs = requests.post(url + "/info", json={"type": "clearinghouseState", "user": other}).json()
        assert float(chs["marginSummary"]["accountValue"]) == pytest.approx(5000.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "venue stopped" in out


def test_cli_when_bad_fund_spec_then_usage_error():
    r = subprocess.run([sys.executable, "-m", "appliance.venue", "--fund", "nonsense"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "ADDRESS:USDC" in r.stderr


@pytest.mark.skipif(not HL_CAPTURE.exists(), reason=f"capture missing: {HL_CAPTURE}")
def test_replay_when_hyperliquid_capture_then_real_book_served():
    v = start_venue(source=f"replay:{HL_CAPTURE}", speed=50.0)
    try:
        book = post_info(v, {"type": "l2Book", "coin": "BTC"}).json()
        bids, asks = book["levels"]
        assert len(bids) == 20 and len(asks) == 20
        assert 90_000 < float(bids[0]["px"]) < float(asks[0]["px"]) < 120_000
        assert all(lv["n"] >= 1 for lv in bids)
    finally:
        v.stop()


def test_faults_when_depth_gap_and_stall_then_books_withheld():
    v = start_venue()
    try:
        admin = v.url + "/_faults"
        ws = Ws(v)
        ws.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
        ws.until(lambda m: m["channel"] == "l2Book", what="a book")
        requests.post(admin, json={"depth_gap_share": 1.0})
        # book events dropped before the engine
        wait_for(lambda: requests.get(admin).json()["counters"].get("depth_gap", 0) > 0, 10.0,
                 "book events dropped by the depth_gap fault")
        requests.post(admin, json={"clear": True, "ws_stall_s": 1.0})
        t0 = time.monotonic()
        ws.send({"method": "ping"})
        ws.until(lambda m: m["channel"] == "pong", what="pong after the stall")
        assert time.monotonic() - t0 >= 0.8
        ws.close()
    finally:
        v.stop()


def test_admin_when_not_loopback_then_not_exposed():
    # The server binds loopback by default; the admin route refuses other peers.
    from appliance.venue.server.app import _loopback

    class Req:
        remote = "10.1.2.3"

    assert not _loopback(Req())
