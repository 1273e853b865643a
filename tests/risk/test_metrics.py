"""The exporter's collector (appliance/risk/metrics/) over real segments: what it
exports, under which names and labels, and that promtool accepts the text."""

import numpy as np
import pytest
from metrics_helpers import config, populate, scrape_text
from prometheus_helpers import promtool, sample_names, sample_value, samples
from risk_helpers import fresh_segments

from appliance.risk.metrics.families import LE_OCTAVES, latency_histogram
from appliance.runtime import latency
from shm_layout.constants import LAT_BUCKETS


@pytest.fixture
def mem():
    with fresh_segments("rmet") as m:
        yield m


@pytest.fixture
def text(mem, tmp_path):
    return scrape_text(mem, config(), "alpha", populate(mem, tmp_path))


def test_latency_histogram_when_samples_recorded_then_cumulative_buckets_exact_and_sum_estimated():
    hist = np.zeros(LAT_BUCKETS, np.uint32)
    for ns in (3_000, 3_000, 50_000_000):
        latency.record(hist, ns)
    fam = latency_histogram("x_seconds", "doc", [], [([], hist)])
    buckets = {float(s.labels["le"]): s.value for s in fam.samples if s.name == "x_seconds_bucket"}
    assert len(buckets) == len(LE_OCTAVES) + 1
    assert buckets[2**11 / 1e9] == 0 and buckets[2**12 / 1e9] == 2  # 3 µs lies in (2.048, 4.096] µs
    assert buckets[2**25 / 1e9] == 2 and buckets[2**26 / 1e9] == 3  # 50 ms in (33.6, 67.1] ms
    assert buckets[float("inf")] == 3
    (total,) = [s.value for s in fam.samples if s.name == "x_seconds_sum"]
    assert total == pytest.approx(0.050006, rel=0.1)  # bucket midpoints: within 9 %


def test_scrape_when_every_family_has_data_then_promtool_check_metrics_is_clean(text):
    p = promtool("check", "metrics", stdin=text)
    assert p.returncode == 0, p.stdout + p.stderr


def test_scrape_when_scraped_then_every_sample_carries_the_instance_label(text):
    assert {s.labels.get("mm_instance") for s in samples(text)} == {"alpha"}


def test_scrape_when_populated_then_figures_collected_but_once_unexported_are_there(text):
    v = lambda name, **lab: sample_value(text, name, **lab)  # noqa: E731
    assert v("mm_orders_sent_total", coin="BTC", action="modify") == 3.0
    assert v("mm_orders_rejected_total", coin="BTC") == 2.0
    assert v("mm_orders_placed_total", coin="BTC") == 10.0
    assert v("mm_requests_sent_total", coin="BTC") == 13.0  # the address budget's debit
    assert v("mm_volume_usd_total", coin="BTC") == 5_000.0
    assert v("mm_fees_usd", coin="BTC") == 0.25
    assert v("mm_pnl_realized_usd", coin="BTC") == 2.0 and v("mm_pnl_unrealized_usd", coin="BTC") == 1.5
    assert v("mm_account_pnl_session_usd") == pytest.approx(2.25)  # 3.25 now, 1.0 at the start
    assert v("mm_account_drawdown_usd") == pytest.approx(1.75)  # from the 5.0 peak
    assert v("mm_margin_utilization_ratio") == pytest.approx(0.01)
    assert v("mm_leverage_ratio", coin="BTC") == 1.0
    assert v("mm_markout_bps", coin="BTC", horizon_seconds="0.5") == 0.5
    assert v("mm_markout_bps", coin="BTC", horizon_seconds="30") == -0.5
    assert v("mm_feed_ws_connects_total") == 3.0
    assert v("mm_kill_info", reason="mmctl: drill", source="mmctl") == 1.0
    assert v("mm_event_to_ladder_seconds_count") == 3.0 and v("mm_tick_to_wire_seconds_count") == 1.0
    assert v("mm_build_info") == 1.0 and v("mm_pnl_session_usd", coin="BTC") == 3.25


def test_scrape_when_renamed_then_old_names_and_quantile_gauges_are_gone(text):
    names = sample_names(text)
    assert not names & {"mm_daily_pnl", "mm_position", "mm_spread_bps", "mm_sigma", "mm_rate_headroom"}
    assert not any("quantile" in s.labels for s in samples(text))
    assert "mm_event_to_ladder_seconds_bucket" in names


def test_scrape_when_nothing_written_yet_then_families_present_and_no_kill_info(mem):
    text = scrape_text(mem, config(), "beta", None)
    assert sample_value(text, "mm_kill_active") == 0.0
    assert "mm_kill_info" not in sample_names(text)
    assert not any(n.startswith("mm_gateway_http") for n in sample_names(text))  # no gateway.json
