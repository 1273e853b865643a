"""One appliance trading on the local venue (the Hyperliquid client, the default), shared
by the checks that only read it or raise and reset the kill flag, so a clean clone pays
for one start instead of three:

- monitoring (issue 17): ``promtool check metrics`` on a live scrape, and a real
  Prometheus (Debian's package) loading the shipped scrape config and alert rules: the
  target is up, series keep ``mm_instance`` beside Prometheus's ``instance``, and
  ``MMKillActive`` fires when the kill flag is raised with ``mmctl kill``;
- live model scores (issue 14): within two minutes of trading ``mmctl inspect scores``
  shows pairs for the fill probability and the adverse selection, and the endpoint
  carries ``mm_model_score``, ``mm_model_samples`` and ``mm_model_degraded``;
- live P&L attribution (issue 14): ``mmctl report`` shows the session's components
  summing to its P&L, the metrics carry them, ``--plot`` draws them.
"""

import json
import os
import urllib.request

import pytest
from appliance_helpers import force_cleanup, inspect, mmctl, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, venue_info, venue_url, wait_quoting
from prometheus_helpers import api, firing, prometheus_server, promtool, sample_value, scrape

pytestmark = pytest.mark.timeout(900)  # a cold numba cache: every process compiles first

COMPONENTS = ("spread_usd", "adverse_selection_usd", "inventory_usd", "funding_usd", "fees_usd")
TRADING_S = 120.0  # the two minutes of trading
TARGET_UP_S = 60.0
ALERT_S = 60.0  # scrape and evaluation every second; MMKillActive has no "for"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trading")
    instance = f"tr{os.getpid()}"
    cfg, port = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        url = venue_url(tmp, instance)
        # generous: on a cold numba cache every process compiles first (minutes on busy cores)
        assert wait_quoting(url, timeout_s=600), "no order rests at the venue"
        yield {"instance": instance, "tmp": tmp, "config": cfg, "port": port, "url": url}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


# --- monitoring ---------------------------------------------------------------------------

def test_live_scrape_when_quoting_then_promtool_check_metrics_is_clean(app):
    # the gateway has sent orders: tick-to-wire and event->ladder have samples. The histogram
    # is read live from shared memory, the sent counters from gateway.json (written once a
    # second), so wait for both rather than racing the status file
    def with_samples():
        t = scrape(app["port"])
        sent = sample_value(t, "mm_orders_sent_total", coin="BTC", action="place")
        return t if sample_value(t, "mm_tick_to_wire_seconds_count") and sent else None

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

# --- live model scores ----------------------------------------------------------------------

def _scores(instance: str) -> dict:
    return json.loads(mmctl("inspect", "scores", "--instance", instance, "--json").stdout)


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def test_scores_when_trading_two_minutes_then_fill_prob_and_as_have_samples_and_metrics_carry_them(app):
    inst = app["instance"]
    assert wait_quoting(app["url"]), "no order rests at the venue"

    def paired():
        m = _scores(inst)["models"]
        return m if m["fill_prob"]["samples"] > 0 and m["adverse_selection_1s"]["samples"] > 0 else None

    models = wait_for(paired, TRADING_S, interval_s=2.0)
    assert models, f"no fill-probability or AS pairs after {TRADING_S:g} s of trading: {_scores(inst)}"
    assert all(models[f"adverse_selection_{h}"]["horizon_s"] == float(h.rstrip("s"))
               for h in ("0.5s", "1s", "2s"))
    text = mmctl("inspect", "scores", "--instance", inst).stdout
    assert "fill_prob" in text and "adverse_selection_10s" in text

    def exported():
        t = _metrics(app["port"])
        n = sample_value(t, "mm_model_samples", model="fill_prob", coin="BTC")
        return t if n and "\nmm_model_score{" in t else None

    # a score needs 30 pairs: the drift forecast (one a second) has them first
    text = wait_for(exported, TRADING_S, interval_s=2.0, transient=(OSError,))
    assert text, "the metrics never carried a model score"
    assert sample_value(text, "mm_model_samples", model="adverse_selection_1s", coin="BTC") > 0
    assert sample_value(text, "mm_model_degraded", model="fill_prob", coin="BTC") in (0.0, 1.0)


# --- live P&L attribution -------------------------------------------------------------------

def _report(instance: str) -> dict:
    return json.loads(mmctl("report", "--instance", instance, "--json").stdout)


def _sums(a: dict) -> bool:
    return abs(sum(a[k] for k in COMPONENTS) + a["adjustment_usd"] - a["pnl_usd"]) <= 0.005


def test_report_when_trading_then_components_sum_to_the_session_pnl(app):
    inst = app["instance"]
    # generous: on a cold numba cache every process compiles first (minutes on busy cores)
    assert wait_quoting(app["url"], timeout_s=600), "no order rests at the venue"
    # up to ~90 s of trading for a few fills
    assert wait_for(lambda: len(venue_info(app["url"], "userFills")) >= 3, 90, interval_s=1.0), "no fills"
    mmctl("kill", "--reason", "attribution check", "--instance", inst, "--config", app["config"])
    try:
        n_fills = inspect(inst, "position")["fields"]["n_fills"]

        def caught_up():  # the watchdog has read every fill of the session the position counts
            r = _report(inst)
            b = r["coins"].get("BTC")
            return r if b and b["fills"] == n_fills - b["fills_before_session"] else None

        d = wait_for(caught_up, 30)
        assert d is not None, (_report(inst), n_fills)
        btc = d["coins"]["BTC"]
        assert btc["fills"] >= 3 and btc["volume_usd"] > 0 and btc["fees_paid_usd"] != 0
        assert btc["sums"] and btc["checks"] > 0 and btc["checks_failed"] == 0
        assert _sums(btc) and _sums(d["total"])
        assert btc["adjustments"] == 0 and btc["adjustment_usd"] == 0.0  # no position came from elsewhere
        assert btc["spread_usd"] != 0.0 and btc["fees_usd"] == pytest.approx(-btc["fees_paid_usd"])
        text = mmctl("report", "--instance", inst).stdout
        assert "sum holds" in text and "adverse selection $" in text
    finally:
        mmctl("kill", "--reset", "--reason", "check over", "--instance", inst, "--config", app["config"])


def test_metrics_when_trading_then_pnl_components_exported(app):
    assert wait_for(lambda: _report(app["instance"])["coins"], 60)
    body = urllib.request.urlopen(f"http://127.0.0.1:{app['port']}/metrics", timeout=10).read().decode()
    lines = [ln for ln in body.splitlines() if ln.startswith("mm_pnl_component_usd{")]
    got = {ln.split('component="')[1].split('"')[0] for ln in lines if 'coin="BTC"' in ln}
    assert got == {"spread", "adverse_selection", "inventory", "funding", "fees"}, lines
    assert "mm_pnl_attribution_residual_usd" in body and "mm_pnl_session_usd" in body


def test_report_plot_when_asked_then_png_of_the_session(app):
    inst, out = app["instance"], app["tmp"] / "session.png"
    # a snapshot of the components is journaled every few seconds once the position is marked
    assert wait_quoting(app["url"], timeout_s=600), "no order rests at the venue"
    got = wait_for(lambda: mmctl("report", "--instance", inst, "--config", app["config"], "--plot", out,
                                 check=False).returncode == 0, 120, interval_s=1.0)
    assert got and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
