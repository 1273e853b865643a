"""Deaths that used to leave orders resting unwatched, against the local venue that
``mmctl start`` supervises: the supervisor kill -9'd (three times), a child that
outlives it, the gateway kill -9'd while the venue refuses ``scheduleCancel``.
Every "no order rests" is the venue's own ``openOrders``, read while it still answers."""

import os
import signal
import time
import urllib.error

import pytest
from appliance_helpers import force_cleanup, mmctl, status, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, venue_open_orders, venue_url

from appliance.runtime.control import pid_alive
from appliance.supervisor.ownership import read_pids
from tools.soak import set_pids


def _open_orders(url: str):
    """The venue's openOrders, or None when it does not answer."""
    try:
        return venue_open_orders(url)
    except (OSError, urllib.error.URLError, ValueError):
        return None


@pytest.fixture
def inst(tmp_path):
    instance = f"death{os.getpid()}"
    cfg, _ = write_config(tmp_path, TRADING_CONFIG)
    yield instance, cfg, tmp_path
    mmctl("stop", "--instance", instance, check=False)
    force_cleanup(instance)


def _assert_one_set(instance, tmp) -> None:
    """One supervisor, five children and the fork server that forked them: exactly the
    processes the supervisor recorded, no more."""
    recorded = {pid for name, pid in read_pids(tmp / f"state-{instance}") if name != "venue"}
    assert len(recorded) == 7, recorded
    assert sorted(set_pids(instance)) == sorted(recorded)


def _start_and_quote(instance, cfg, tmp) -> str:
    mmctl("start", "--instance", instance, "--config", cfg)
    url = venue_url(tmp, instance)
    assert wait_for(lambda: len(_open_orders(url) or []) >= 1, 60), "no order rests at the venue"
    return url


def test_supervisor_kill9_three_times_then_book_emptied_set_gone_and_restart_is_one_set(inst):
    instance, cfg, tmp = inst
    for round_ in range(3):
        url = _start_and_quote(instance, cfg, tmp)
        st = status(instance)
        _assert_one_set(instance, tmp)
        venue_pid = st["venue"]["pid"]
        t0 = time.monotonic()
        os.kill(st["supervisor"]["pid"], signal.SIGKILL)
        assert wait_for(lambda u=url: _open_orders(u) == [], 15), "orders rest after the supervisor died"
        t_empty = time.monotonic() - t0
        assert wait_for(lambda v=venue_pid: not set_pids(instance) and not pid_alive(v), 20), \
            f"survivors: {set_pids(instance)}, venue alive: {pid_alive(venue_pid)}"
        t_gone = time.monotonic() - t0
        assert status(instance)["state"] == "supervisor dead"
        print(f"round {round_}: book empty {t_empty:.2f} s, set gone {t_gone:.2f} s after kill -9")
    _start_and_quote(instance, cfg, tmp)
    _assert_one_set(instance, tmp)


def test_start_when_a_child_outlived_its_supervisor_then_it_is_ended_and_named(inst):
    instance, cfg, tmp = inst
    _start_and_quote(instance, cfg, tmp)
    st = status(instance)
    feed = next(p["pid"] for p in st["processes"] if p["name"] == "feed")
    os.kill(feed, signal.SIGSTOP)  # deaf to its death signal: it survives the supervisor
    os.kill(st["supervisor"]["pid"], signal.SIGKILL)
    assert wait_for(lambda: set_pids(instance) == [feed], 20), set_pids(instance)
    p = mmctl("start", "--instance", instance, "--config", cfg)
    assert f"ended a process left by a dead supervisor: feed pid {feed}" in p.stderr, p.stderr
    assert not pid_alive(feed)
    _assert_one_set(instance, tmp)


def test_gateway_kill9_when_schedule_cancel_refused_then_last_resort_canceller_empties_book(inst):
    instance, cfg, tmp = inst
    url = _start_and_quote(instance, cfg, tmp)
    # The local venue refuses scheduleCancel below its volume requirement, as Hyperliquid does.
    assert status(instance)["dead_man_switch"]["state"] != "active"
    gw = next(p["pid"] for p in status(instance)["processes"] if p["name"] == "gateway")
    before = status(instance)["last_resort_canceller"]
    assert wait_for(lambda: len(_open_orders(url) or []) >= 1, 30)
    t0 = time.monotonic()
    os.kill(gw, signal.SIGKILL)
    assert wait_for(lambda: _open_orders(url) == [], 15), "orders rest with the gateway dead"
    print(f"gateway kill -9 -> empty book in {time.monotonic() - t0:.2f} s")
    after = wait_for(lambda: (lambda c: c if c["runs"] > before["runs"] else None)(
        status(instance)["last_resort_canceller"]), 10)
    assert after and after["cancelled"] > before["cancelled"], after
