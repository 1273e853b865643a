"""Helpers for the tests that use Debian's ``prometheus`` package (promtool, a real
Prometheus server) and that read the exporter's text.

Without the package a test skips, saying so; under CI (env ``CI`` set) it fails instead:
CI installs the package (``.ci/run``), so a missing one is a broken CI, not a reason to
pass quietly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from appliance_helpers import end_process, free_port, wait_for
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "ops" / "prometheus"
PROMETHEUS_START_S = 60.0


def need(tool: str) -> str:
    """The path of ``tool``; skip without it, or fail under CI."""
    path = shutil.which(tool)
    if path:
        return path
    why = f"{tool} is not installed (Debian: apt-get install prometheus)"
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI must install it (.ci/run)")
    pytest.skip(why)


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([need("promtool"), *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def scrape(port: int, host: str = "127.0.0.1") -> str:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def samples(text: str) -> list:
    """Every sample of an exposition text (prometheus_client's parser)."""
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def sample_names(text: str) -> set[str]:
    """Names of the series in an exposition text (``_bucket``, ``_total``... included)."""
    return {s.name for s in samples(text)}


def sample_value(text: str, name: str, **labels) -> float | None:
    """The value of the one sample ``name`` whose labels include ``labels`` (None: none)."""
    for s in samples(text):
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


@contextmanager
def prometheus_server(tmp: Path, targets: list[str], scrape_interval: str = "1s"):
    """A real Prometheus on a free loopback port with its own storage, loading the shipped
    scrape config (ops/prometheus/prometheus.yml) and alert rules with the targets and
    intervals replaced. Yields its base URL."""
    exe = need("prometheus")
    cfg = yaml.safe_load((OPS / "prometheus.yml").read_text())
    cfg["global"].update(scrape_interval=scrape_interval, evaluation_interval=scrape_interval)
    job = cfg["scrape_configs"][0]
    job["static_configs"] = [{"targets": targets}]
    job["scrape_timeout"] = scrape_interval
    cfg["rule_files"] = [str(OPS / "alerts.yml")]
    path = tmp / "prometheus.yml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([exe, f"--config.file={path}", f"--storage.tsdb.path={tmp / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = wait_for(lambda: urllib.request.urlopen(url + "/-/ready", timeout=2).status == 200,
                         PROMETHEUS_START_S, interval_s=0.2, transient=(OSError,))
        assert ready, f"prometheus not ready: {(tmp / 'prometheus.log').read_text()[-2000:]}"
        yield url
    finally:
        end_process(proc)
        log.close()


def api(url: str, path: str, **params) -> dict:
    q = ("?" + urllib.parse.urlencode(params)) if params else ""
    with urllib.request.urlopen(f"{url}/api/v1/{path}{q}", timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]


def firing(url: str, alertname: str) -> list[dict]:
    """The alerts named ``alertname`` that are firing now (their labels)."""
    return [a["labels"] for a in api(url, "alerts")["alerts"]
            if a["labels"].get("alertname") == alertname and a["state"] == "firing"]
