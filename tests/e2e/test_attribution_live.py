"""Live P&L attribution end to end: the appliance trades against the local venue (the
Hyperliquid client, the default); ``mmctl report`` shows the session's components
summing to its P&L, the metrics endpoint carries them, ``--plot`` draws them."""

import json
import os
import urllib.request

import pytest
from appliance_helpers import force_cleanup, inspect, mmctl, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, venue_info, venue_url, wait_quoting

pytestmark = pytest.mark.timeout(900)  # a cold numba cache: every process compiles first
COMPONENTS = ("spread_usd", "adverse_selection_usd", "inventory_usd", "funding_usd", "fees_usd")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attr")
    instance = f"attr{os.getpid()}"
    cfg, port = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        yield {"instance": instance, "tmp": tmp, "cfg": cfg, "port": port,
               "url": venue_url(tmp, instance)}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


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
    mmctl("kill", "--reason", "attribution check", "--instance", inst, "--config", app["cfg"])
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
        mmctl("kill", "--reset", "--reason", "check over", "--instance", inst, "--config", app["cfg"])


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
    got = wait_for(lambda: mmctl("report", "--instance", inst, "--config", app["cfg"], "--plot", out,
                                 check=False).returncode == 0, 120, interval_s=1.0)
    assert got and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
