"""The shipped Grafana dashboard (ops/grafana/): valid JSON Grafana can provision, on the
provisioned data source, and every query names only metrics the exporter exports (the
names come from a scrape of the real collector, not from a list)."""

import json
from pathlib import Path

import pytest
import yaml
from metrics_helpers import config, populate, scrape_text
from prometheus_helpers import sample_names
from promql_names import metric_names
from risk_helpers import fresh_segments

GRAFANA = Path(__file__).resolve().parents[2] / "ops" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "mm-appliance.json"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> set[str]:
    with fresh_segments("graf") as mem:
        text = scrape_text(mem, config(), "g", populate(mem, tmp_path_factory.mktemp("graf")))
    return sample_names(text)


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _targets(dash: dict) -> list[dict]:
    return [t for p in dash["panels"] if p["type"] != "row" for t in p["targets"]]


def test_dashboard_when_parsed_then_provisionable_on_the_shipped_data_source(dashboard):
    ds = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "mm-prometheus.yml").read_text())
    uid = ds["datasources"][0]["uid"]
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)  # ids are unique
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        if p["type"] != "row":
            assert p["datasource"]["uid"] == uid and p["targets"], p["title"]
    assert all(t["datasource"]["uid"] == uid for t in _targets(dashboard))


def test_dashboard_when_queried_then_every_metric_is_exported(dashboard, exported):
    used = set()
    for t in _targets(dashboard):
        names = metric_names(t["expr"])
        assert names, t["expr"]
        missing = names - exported
        assert not missing, f"{t['expr']}: not exported: {sorted(missing)}"
        used |= names
    # what the issue asks the dashboard to show is there
    for name in ("mm_pnl_component_usd", "mm_position_limit_coins", "mm_quote_half_spread_bps",
                 "mm_markout_bps", "mm_fills_total", "mm_event_to_ladder_seconds_bucket",
                 "mm_tick_to_wire_seconds_bucket", "mm_rate_limit_headroom_ratio", "mm_restarts_total",
                 "mm_model_score"):
        assert name in used, name


def test_dashboard_when_queried_then_every_query_follows_the_instance_variable(dashboard):
    for t in _targets(dashboard):
        assert 'mm_instance=~"$instance"' in t["expr"], t["expr"]


def test_metric_names_when_labels_and_groupings_then_only_metrics():
    expr = 'sum by (mm_instance, le) (rate(mm_x_bucket{mm_instance=~"$i",q="mm_no"}[5m])) / on (mm_y) up'
    assert metric_names(expr) == {"mm_x_bucket", "up"}
