"""The appliance trading through the Hyperliquid client against the local venue that
``mmctl start`` supervises by default, with the venue's fault injection: websocket
drop, gateway kill -9, 429 bursts, the kill switch. Every check compares with what
the venue itself says (openOrders, clearinghouseState, userFills)."""

import os
import random
import signal
import time
import urllib.request

import pytest
from appliance_helpers import force_cleanup, inspect, mmctl, status, wait_for, write_config
from hl_e2e_helpers import (
    TRADING_CONFIG,
    faults,
    gateway_stats,
    journal_fills,
    venue_info,
    venue_open_orders,
    venue_szi,
    venue_url,
    wait_quoting,
)
from prometheus_helpers import sample_value


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hl")
    instance = f"hl{os.getpid()}"
    cfg, port = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        yield {"instance": instance, "tmp": tmp, "url": venue_url(tmp, instance), "port": port}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


def _position(app) -> float:
    return inspect(app["instance"], "position")["fields"]["position_sz"]


def _gateway_pid(app) -> int:
    return next(p["pid"] for p in status(app["instance"])["processes"] if p["name"] == "gateway")


def _gateway_running_again(inst: str, old_pid: int) -> bool:
    gw = next(x for x in status(inst)["processes"] if x["name"] == "gateway")
    return gw["pid"] not in (0, old_pid) and gw["state"] == "running"


def _settled(app) -> bool:
    """Quiet book (kill flag up, nothing resting) and our position equals the venue's."""
    return abs(_position(app) - venue_szi(app["url"])) < 1e-9


def _halt_and_check(app) -> None:
    """Kill switch: nothing of ours rests at the venue; position equals clearinghouseState;
    every fill the venue reports was booked exactly once; then trading resumes."""
    inst, url = app["instance"], app["url"]
    mmctl("kill", "--reason", "test check", "--instance", inst)
    try:
        assert wait_for(lambda: venue_open_orders(url) == [], 15), "orders still rest at the venue"
        assert wait_for(lambda: gateway_stats(app["tmp"], inst).get("kill_verified"), 15)
        assert wait_for(lambda: _settled(app), 15), (_position(app), venue_szi(url))
        venue_fills = venue_info(url, "userFills")
        booked = journal_fills(app["tmp"], inst)
        assert sorted((f["tid"], f["oid"]) for f in booked) == sorted(
            (f["tid"], f["oid"]) for f in venue_fills)  # none lost, none twice
        st = gateway_stats(app["tmp"], inst)
        assert st["position_corrections"] == 0
    finally:
        mmctl("kill", "--reset", "--reason", "test over", "--instance", inst)


def test_trade_when_started_by_default_then_orders_rest_at_venue_and_fills_arrive(app):
    url = app["url"]
    assert wait_quoting(url), "no order rests at the venue"
    ours = {o["cloid"] for o in venue_info(url, "frontendOpenOrders")}
    assert all(c and c.startswith("0x6d6d") for c in ours)  # a cloid on every order
    assert wait_for(lambda: len(venue_info(url, "userFills")) >= 3, 60), "no fills"
    assert wait_for(lambda: inspect(app["instance"], "position")["fields"]["n_fills"] >= 3, 10)
    _halt_and_check(app)


def test_ws_drop_when_trading_then_reconnect_resubscribe_and_nothing_lost(app):
    inst, url = app["instance"], app["url"]
    before = gateway_stats(app["tmp"], inst)["reconciles"]
    fills_before = len(venue_info(url, "userFills"))
    faults(url, ws_drop=True)
    assert wait_for(lambda: gateway_stats(app["tmp"], inst)["reconciles"] > before, 20), "no resync"
    assert wait_for(lambda: len(venue_info(url, "userFills")) > fills_before, 60), "no fill after"
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 20), "not quoting after reconnect"
    _halt_and_check(app)


def test_gateway_kill9_when_trading_then_restart_reconciles_to_the_same_state(app):
    inst = app["instance"]
    rng = random.Random(4)
    for _ in range(3):
        time.sleep(rng.uniform(0.2, 2.5))
        pid = _gateway_pid(app)
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda old=pid: _gateway_running_again(inst, old), 30)
    assert wait_for(lambda: len(venue_open_orders(app["url"])) >= 2, 30), "not quoting after restarts"
    _halt_and_check(app)


def test_429_burst_when_trading_then_backoff_and_no_crash(app):
    inst, url = app["instance"], app["url"]
    restarts = next(p for p in status(inst)["processes"] if p["name"] == "gateway")["restarts"]
    faults(url, http_429_burst=5)  # the next 5 requests, the gateway's or ours
    assert wait_for(lambda: gateway_stats(app["tmp"], inst).get("http_429", 0) > 0, 20)
    assert wait_for(lambda: faults(url)["http_429_burst"] == 0, 40)
    placed = inspect(inst, "position")["fields"]["orders_placed"]
    assert wait_for(lambda: inspect(inst, "position")["fields"]["orders_placed"] > placed, 40)
    gw = next(p for p in status(inst)["processes"] if p["name"] == "gateway")
    assert gw["restarts"] == restarts and gw["alive"]
    assert not status(inst)["kill"]["active"]
    body = urllib.request.urlopen(f"http://127.0.0.1:{app['port']}/metrics", timeout=10).read().decode()
    assert "mm_gateway_http_429_total" in body and "mm_reducing_side_only" in body
    assert sample_value(body, "mm_dead_man_switch_active", state="refused",
                        mm_instance=inst) == 0.0  # young account: fallback


def test_kill_switch_when_raised_then_every_order_cancelled_at_venue(app):
    inst, url = app["instance"], app["url"]
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 30)
    mmctl("kill", "--reason", "drill", "--instance", inst)
    try:
        assert wait_for(lambda: venue_open_orders(url) == [], 10)
        placed = inspect(inst, "position")["fields"]["orders_placed"]
        time.sleep(1.0)
        assert venue_open_orders(url) == []
        assert inspect(inst, "position")["fields"]["orders_placed"] == placed
        assert wait_for(lambda: inspect(inst, "position")["fields"]["kill_active"] == 1, 5)
        # the address budget's debit (issue 16): every place, modify and cancel sent, counted
        # by the order sender for the quote kernel's request deficit
        f = inspect(inst, "position")["fields"]
        assert f["requests_sent"] >= f["orders_cancelled"] + 2  # two resting orders were placed
    finally:
        mmctl("kill", "--reset", "--reason", "test over", "--instance", inst)
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 30), "quoting did not resume"
