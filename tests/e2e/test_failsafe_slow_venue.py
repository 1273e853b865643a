"""A slow venue degrades the quoting, never to a SIGKILL: the appliance trading against
the local venue that ``mmctl start`` supervises, with ``response_delay_ms`` injected
while a CPU hog loads the two shared cores. Every check is the supervisor's own
count of restarts, the control block, and what the venue itself says."""

import multiprocessing
import os
import signal
import time

import pytest
from appliance_helpers import force_cleanup, inspect, mmctl, status, wait_for, write_config
from hl_e2e_helpers import (
    TRADING_CONFIG,
    faults,
    gateway_stats,
    state,
    venue_open_orders,
    venue_szi,
    venue_url,
    wait_quoting,
)

from shm_layout import InstanceMemory

SLOW_S = 60.0
HOG_PROCESSES = 10  # with the appliance and the venue: a run queue of ~13 on 2 cores
HOG_WARMUP_S = 20.0  # the 1-min load average lags: near 10 by the end of the slow minute


def _spin() -> None:
    while True:
        pass


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slow")
    instance = f"slow{os.getpid()}"
    cfg, _ = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        yield {"instance": instance, "tmp": tmp, "url": venue_url(tmp, instance), "config": cfg}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


def _runnable() -> int:
    """Tasks running or waiting for a CPU right now (the load average's raw input)."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[0])


def _restarts(inst: str) -> dict:
    return {p["name"]: p["restarts"] for p in status(inst)["processes"]}


def _latency_ms(inst: str) -> float:
    mem = InstanceMemory.attach(inst, writable=False, names=["control"])  # no mmctl under load
    try:
        return float(mem.control.records[0]["gw_venue_latency_ms"])
    finally:
        mem.close()


def _settled(app) -> bool:
    """Nothing of ours rests (kill flag up) and our position equals the venue's."""
    pos = inspect(app["instance"], "position")["fields"]["position_sz"]
    return venue_open_orders(app["url"]) == [] and abs(pos - venue_szi(app["url"])) < 1e-9


def _no_heartbeat_kill(st: dict) -> bool:
    k = st["kill"]
    return not k["active"] or not any(w in k["reason"] for w in ("heartbeat", "restarts"))


def test_slow_venue_under_cpu_load_then_no_restart_and_position_equals_venue(app):
    inst, url = app["instance"], app["url"]
    assert wait_quoting(url), "no order rests at the venue"
    before = _restarts(inst)
    ctx = multiprocessing.get_context("fork")
    hogs = [ctx.Process(target=_spin, daemon=True) for _ in range(HOG_PROCESSES)]
    loads, latencies, runnable = [], [], []
    try:
        for h in hogs:
            h.start()
        time.sleep(HOG_WARMUP_S)
        faults(url, response_delay_ms=500)
        end = time.monotonic() + SLOW_S
        while time.monotonic() < end:
            time.sleep(2.0)
            loads.append(os.getloadavg()[0])
            runnable.append(_runnable())
            latencies.append(_latency_ms(inst))
    finally:
        faults(url, clear=True)
        for h in hogs:
            h.kill()
        for h in hogs:
            h.join(10)
    health = gateway_stats(app["tmp"], inst).get("venue_health", {})
    print(f"\nload average (1 min) during the slow venue: max {max(loads):.1f}, "
          f"samples {[round(x, 1) for x in loads]}; runnable tasks median "
          f"{sorted(runnable)[len(runnable) // 2]} on {os.cpu_count()} CPUs")
    print(f"gateway venue latency EWMA (ms): max {max(latencies):.0f}, "
          f"samples {[round(x) for x in latencies]}; venue health {health}")
    st = status(inst)
    assert _restarts(inst) == before, (before, st["processes"])  # zero restarts, any process
    assert _no_heartbeat_kill(st), st["kill"]
    assert st["last_resort_canceller"]["runs"] == 0  # the gateway never looked lost
    assert max(latencies) >= 400  # the gateway measured the slow venue
    log = (state(app["tmp"], inst) / "supervisor.log").read_text()
    assert "heartbeat stale" not in log
    # Quoting resumes, then everything is cancelled and the books compared.
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 60), "no quoting after the fault"
    mmctl("kill", "--reason", "slow venue test: compare the books", "--instance", inst)
    try:
        assert wait_for(lambda: _settled(app), 60), (
            inspect(inst, "position")["fields"]["position_sz"], venue_szi(url))
    finally:
        mmctl("kill", "--reset", "--reason", "slow venue test over", "--instance", inst,
              "--config", app["config"])


def test_venue_slower_than_pull_threshold_then_ladder_pulled_until_it_recovers(app):
    inst, url = app["instance"], app["url"]
    assert wait_quoting(url), "no order rests at the venue"
    before = _restarts(inst)
    try:
        faults(url, response_delay_ms=1200)  # answered, but above gateway.venue_pull_ms
        assert wait_for(lambda: gateway_stats(app["tmp"], inst).get("venue_health", {})
                        .get("state") == "pulled", 60), gateway_stats(app["tmp"], inst)
        assert wait_for(lambda: venue_open_orders(url) == [], 60), "orders still rest"
    finally:
        faults(url, clear=True)
    assert wait_for(lambda: gateway_stats(app["tmp"], inst)["venue_health"]["state"] == "ok", 60)
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 60), "no quoting after recovery"
    assert _restarts(inst) == before
    assert _no_heartbeat_kill(status(inst))


def test_gateway_hung_outside_io_then_heartbeat_stale_and_restarted(app):
    """Beating during bounded I/O must not hide a loop that is really stuck."""
    inst, url = app["instance"], app["url"]
    assert wait_quoting(url), "no order rests at the venue"
    gw = next(p for p in status(inst)["processes"] if p["name"] == "gateway")
    os.kill(gw["pid"], signal.SIGSTOP)  # hung: no step, no request, no heartbeat
    try:
        assert wait_for(lambda: _restarts(inst)["gateway"] == gw["restarts"] + 1, 60)
    finally:
        try:
            os.kill(gw["pid"], signal.SIGCONT)
        except ProcessLookupError:
            pass  # killed by the supervisor, as it should be
    log = (state(app["tmp"], inst) / "supervisor.log").read_text()
    assert "gateway heartbeat stale" in log
    assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 90), "no quoting after the restart"
