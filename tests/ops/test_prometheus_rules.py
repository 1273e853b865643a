"""The shipped Prometheus files (ops/prometheus/): the config and rules load, the rule
unit tests pass (``promtool test rules``), every alert is tested and has its runbook
section, and every metric a rule reads is exported."""

import re
from pathlib import Path

import pytest
import yaml
from metrics_helpers import config, populate, scrape_text
from prometheus_helpers import need, promtool, sample_names
from promql_names import metric_names
from risk_helpers import fresh_segments

OPS = Path(__file__).resolve().parents[2] / "ops"
RULES = yaml.safe_load((OPS / "prometheus" / "alerts.yml").read_text())
ALERTS = [r for g in RULES["groups"] for r in g["rules"] if "alert" in r]


def test_promtool_when_checking_the_shipped_config_then_config_and_rules_load():
    p = promtool("check", "config", "ops/prometheus/prometheus.yml")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in p.stdout


def test_promtool_when_running_the_rule_tests_then_they_pass():
    tests = sorted(str(p.relative_to(OPS.parent)) for p in (OPS / "prometheus").glob("*.test.yml"))
    assert tests
    p = promtool("test", "rules", *tests)
    assert p.returncode == 0, p.stdout + p.stderr


def test_rules_when_listed_then_each_alert_is_tested_and_has_a_runbook_section():
    tested = set()
    for path in (OPS / "prometheus").glob("*.test.yml"):
        for t in yaml.safe_load(path.read_text())["tests"]:
            for case in t["alert_rule_test"]:
                if case.get("exp_alerts"):
                    tested.add(case["alertname"])
    runbook = (OPS / "runbook.md").read_text()
    headings = re.findall(r"^#+ (.*)$", runbook, flags=re.M)
    for rule in ALERTS:
        name = rule["alert"]
        assert name in tested, f"{name}: no test where it fires"
        assert any(name in h for h in headings), f"{name}: no runbook section names it"
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
        assert anchor in slugs, f"{name}: runbook anchor #{anchor} is no heading"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> set[str]:
    with fresh_segments("prul") as mem:
        text = scrape_text(mem, config(), "r", populate(mem, tmp_path_factory.mktemp("prul")))
    return sample_names(text)


def test_rules_when_evaluated_then_every_metric_they_read_is_exported(exported):
    for rule in ALERTS:
        missing = metric_names(rule["expr"]) - exported - {"up"}
        assert not missing, f"{rule['alert']}: not exported: {sorted(missing)}"


def test_need_when_the_package_is_missing_then_skip_on_a_workstation_and_fail_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no promtool here
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install prometheus"):
        need("promtool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        need("promtool")
