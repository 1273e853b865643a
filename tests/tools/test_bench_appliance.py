"""mmctl bench appliance runs a real instance and reports every figure."""

import json
import math
import subprocess
import sys


def test_bench_appliance_when_run_then_every_figure_present_and_finite(tmp_path):
    out = tmp_path / "app.json"
    res = subprocess.run([sys.executable, "-m", "appliance.cli", "bench", "appliance", "--seconds", "2",
                          "--events-per-s", "500", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    r = json.loads(out.read_text())
    assert r["events_published"] > 0 and r["ladders"] > 0
    assert 0 < r["event_to_ladder_us"]["p50"] <= r["event_to_ladder_us"]["p99"]
    assert set(r["memory_mib"]) == {"feed", "estimator", "quote", "gateway", "risk"}
    for m in r["memory_mib"].values():
        assert m and 0 < m["uss_mib"] <= m["pss_mib"] <= m["rss_mib"]
    assert 0 < r["pss_total_mib"] <= r["rss_total_mib"]
    assert r["shared_memory_mib"] > 0
    assert len(r["kill_file_to_no_orders_ms"]) == 5
    assert all(0 < ms < 30_000 for ms in r["kill_file_to_no_orders_ms"])
    for name, secs in r["restart_to_healthy_s"].items():
        assert secs is not None and math.isfinite(secs) and secs > 0, name
