"""Live model scores against the local venue (issue 14, "done when"): within two
minutes of trading, ``mmctl inspect scores`` shows pairs for the fill probability and
the adverse selection, and the Prometheus endpoint carries ``mm_model_score``,
``mm_model_samples`` and ``mm_model_degraded``."""

import json
import os
import urllib.request

import pytest
from appliance_helpers import force_cleanup, mmctl, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, venue_url, wait_quoting
from prometheus_helpers import sample_value

TRADING_S = 120.0  # the two minutes of trading


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scores")
    instance = f"sc{os.getpid()}"
    cfg, port = write_config(tmp, TRADING_CONFIG)
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        yield {"instance": instance, "url": venue_url(tmp, instance), "port": port}
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)


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
