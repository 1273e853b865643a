"""Monitoring end to end (issue 17): one appliance trading on the local venue, scraped
by ``promtool check metrics`` and by a real Prometheus (Debian's package) loading the
shipped scrape config and alert rules. The target is up, series keep ``mm_instance``
beside Prometheus's ``instance``, and ``MMKillActive`` fires when the kill flag is
raised with ``mmctl kill``."""

import os

import pytest
from appliance_helpers import force_cleanup, mmctl, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, venue_url, wait_quoting
from prometheus_helpers import api, firing, need, prometheus_server, promtool, sample_value, scrape

pytestmark = pytest.mark.timeout(900)  # a cold numba cache: every process compiles first

TARGET_UP_S = 60.0
ALERT_S = 60.0  # scrape and evaluation every second; MMKillActive has no "for"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    need("promtool")  # before paying for a start
    tmp = tmp_path_factory.mktemp("prom")
    instance = f"pr{os.getpid()}"
    cfg, port = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        url = venue_url(tmp, instance)
        assert wait_quoting(url), "no order rests at the venue"
        yield {"instance": instance, "config": cfg, "port": port, "tmp": tmp}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


def test_live_scrape_when_quoting_then_promtool_check_metrics_is_clean(app):
    # the gateway has sent orders: tick-to-wire and event->ladder have samples
    def with_samples():
        t = scrape(app["port"])
        return t if sample_value(t, "mm_tick_to_wire_seconds_count") else None

    text = wait_for(with_samples, 60, interval_s=0.5)
    assert text, "no tick-to-wire sample exported"
    assert sample_value(text, "mm_event_to_ladder_seconds_count") > 0
    assert sample_value(text, "mm_orders_sent_total", coin="BTC", action="place") > 0
    p = promtool("check", "metrics", stdin=text)
    assert p.returncode == 0, p.stdout + p.stderr


def test_prometheus_when_scraping_then_target_up_and_kill_alert_fires(app, tmp_path):
    inst, target = app["instance"], f"127.0.0.1:{app['port']}"
    with prometheus_server(tmp_path, [target]) as url:
        up = wait_for(lambda: [r for r in api(url, "query", query='up{job="mm-appliance"}')["result"]
                               if r["value"][1] == "1"], TARGET_UP_S, interval_s=0.5)
        assert up and up[0]["metric"]["instance"] == target, api(url, "targets")
        (series,) = api(url, "query", query="mm_kill_active")["result"]
        assert series["metric"]["mm_instance"] == inst and series["metric"]["instance"] == target
        assert series["value"][1] == "0" and firing(url, "MMKillActive") == []

        mmctl("kill", "--reason", "drill: prometheus e2e", "--instance", inst, "--config", app["config"])
        try:
            alerts = wait_for(lambda: firing(url, "MMKillActive"), ALERT_S, interval_s=0.5)
            assert alerts, api(url, "rules")
            (a,) = alerts
            assert (a["mm_instance"], a["reason"], a["source"]) == (inst, "drill: prometheus e2e", "mmctl")
            assert a["severity"] == "critical" and a["instance"] == target
        finally:
            mmctl("kill", "--reset", "--reason", "drill over", "--instance", inst, "--config", app["config"])
