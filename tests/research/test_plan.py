"""The tasks of a sweep: seeds per synthetic market, a capture once unless latency
jitter makes the seed matter, one data key per set of equal events, clear errors."""

from __future__ import annotations

import pytest
from ray_helpers import BN_BTC, need_capture

from appliance.config import load_config
from appliance.research.grid import parse_grid
from appliance.research.plan import PlanError, data_label, data_spec, plan_tasks

BASE = load_config()


def test_plan_when_synthetic_and_capture_then_seeds_only_where_they_matter():
    capture = data_spec(need_capture(BN_BTC))
    grid = parse_grid('"quote.gamma" = [0.1, 0.3]\n', BASE)
    tasks = plan_tasks(grid, [capture, "synthetic:quiet"], n_seeds=3)
    seed = BASE.feed.seed
    # per point: the capture once, the scenario with 3 seeds
    assert [(t.point.index, data_label(t.spec), t.seed) for t in tasks[:4]] == [
        (0, "btcusdt_20240808.gz", seed), (0, "synthetic:quiet", seed),
        (0, "synthetic:quiet", seed + 1), (0, "synthetic:quiet", seed + 2)]
    assert len(tasks) == 8 and [t.index for t in tasks] == list(range(8))
    # both points read the same events: one data key per (source, seed)
    assert len({t.data for t in tasks}) == 4
    assert tasks[0].data.coin == "BTC" and tasks[0].data.duration_s is None
    assert tasks[1].data.duration_s == BASE.backtest.synthetic_duration_s


def test_plan_when_latency_jitter_then_a_capture_runs_every_seed():
    capture = data_spec(need_capture(BN_BTC))
    grid = parse_grid('"backtest.order_latency_jitter_ms" = [0.0, 5.0]\n', BASE)
    tasks = plan_tasks(grid, [capture], n_seeds=2, max_seconds=30.0)
    assert [(t.point.index, t.seed) for t in tasks] == [
        (0, BASE.feed.seed), (1, BASE.feed.seed), (1, BASE.feed.seed + 1)]
    assert {t.data.duration_s for t in tasks} == {30.0}
    assert len({t.data for t in tasks}) == 1  # a capture's events do not depend on the seed


def test_plan_when_grid_changes_how_data_is_read_then_separate_data_keys():
    grid = parse_grid('"feed.synthetic_events_per_s" = [20.0, 50.0]\n', BASE)
    tasks = plan_tasks(grid, ["synthetic"], n_seeds=1)
    assert len({t.data for t in tasks}) == 2


@pytest.mark.parametrize("grid_text, kwargs, message", [
    ('"backtest.preset" = ["unified", "fancy"]\n', {}, "unknown backtest.preset 'fancy'"),
    ('"quote.gamma" = [0.1]\n', {"n_seeds": 0}, "--seeds: at least 1"),
    ('"quote.gamma" = [0.1]\n', {"max_seconds": -1.0}, "--max-seconds: must be > 0"),
])
def test_plan_when_arguments_wrong_then_error_names_them(grid_text, kwargs, message):
    grid = parse_grid(grid_text, BASE)
    with pytest.raises(PlanError, match=message):
        plan_tasks(grid, ["synthetic:quiet"], **{"n_seeds": 1, **kwargs})


def test_data_spec_when_missing_file_then_error_and_paths_become_replays(tmp_path):
    with pytest.raises(PlanError, match="data file not found"):
        data_spec(str(tmp_path / "nope.gz"))
    f = tmp_path / "x.gz"
    f.write_bytes(b"")
    assert data_spec(str(f)) == f"replay:{f}" == data_spec(f"replay:{f}")
    assert data_spec("synthetic:quiet") == "synthetic:quiet"
