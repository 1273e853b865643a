"""`mmctl sweep --search optuna`: a small seeded search over the first 30 s of a real
capture on a local Ray, two trials at a time. The same seed gives the same trials and
rows (the trials are told in trial order, so completion order does not matter); the
best trial's value equals its backtests rerun one by one."""

from __future__ import annotations

import pytest
from ray_helpers import BN_BTC, mmctl, need_capture, same_outcome

from appliance.config import load_config
from appliance.research.rows import outcome
from appliance.research.search import SearchOptions, objective, run_search, trial_point, trial_tasks
from appliance.research.space import load_space
from appliance.research.table import read_results
from appliance.research.task import direct_row

pytestmark = pytest.mark.timeout(1500)  # numba compiles and Ray starts on a loaded 2-core box

SPACE = ('"quote.gamma" = {low = 0.05, high = 1.0, log = true}\n'
         "[quote]\nmin_spread_bps = {low = 2.0, high = 20.0}\n")
MAX_SECONDS = 30.0
TRIALS = 4


@pytest.fixture(scope="module")
def space_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("space") / "space.toml"
    p.write_text(SPACE)
    return p


def _opts(space_file, out, seed: int) -> SearchOptions:
    return SearchOptions(space_file, (need_capture(BN_BTC),), TRIALS, search_seed=seed, parallel=2,
                         out_dir=out, max_seconds=MAX_SECONDS)


def test_search_when_same_seed_then_same_trials_and_best_equals_one_by_one(local_ray, space_file, tmp_path):
    # Arrange
    told = []
    # Act
    a = run_search(_opts(space_file, tmp_path / "a", 7), on_trial=told.append)
    b = run_search(_opts(space_file, tmp_path / "b", 7))
    c = run_search(_opts(space_file, tmp_path / "c", 8))
    # Assert: reproducible with the seed, and the seed matters
    assert [t["trial"] for t in told] == list(range(TRIALS))
    assert [t["params"] for t in a.trials] == [t["params"] for t in b.trials]
    assert [t["value"] for t in a.trials] == [t["value"] for t in b.trials]
    assert [t["params"] for t in a.trials] != [t["params"] for t in c.trials]
    assert len(a.rows) == len(b.rows) == TRIALS  # one capture, one seed: a backtest a trial
    for x, y in zip(a.rows, b.rows, strict=True):
        assert same_outcome(outcome(x), outcome(y))
    # the best trial's value, rerun one by one
    best = a.best
    assert best["value"] == max(t["value"] for t in a.trials)
    base = load_config()
    space = load_space(space_file, base)
    point = trial_point(best["trial"], best["params"], space, base)
    tasks = trial_tasks(point, [f"replay:{need_capture(BN_BTC)}"], _opts(space_file, tmp_path, 7), 0)
    assert objective([direct_row(t) for t in tasks], "pnl_usd") == best["value"]
    # the table is the grid sweep's, one row per backtest, with the trial
    rows, meta = read_results(tmp_path / "a" / "results.parquet")
    assert [r["trial"] for r in rows] == list(range(TRIALS)) and meta["search"] == "optuna"
    assert meta["best"]["trial"] == best["trial"] and meta["search_seed"] == 7
    assert {"param.quote.gamma", "param.quote.min_spread_bps", "pnl_usd", "digest"} <= set(rows[0])
    assert "search trials (optuna tpe, seed 7) ranked by mean pnl_usd" in a.summary
    assert (tmp_path / "a" / "search.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_when_grid_and_search_both_or_space_missing_then_message(space_file, tmp_path):
    data = need_capture(BN_BTC)
    r = mmctl("sweep", "--grid", str(space_file), "--search", "optuna", "--space", str(space_file),
              "--data", data)
    assert r.returncode != 0 and "not both" in r.stderr and "Traceback" not in r.stderr
    r = mmctl("sweep", "--search", "optuna", "--data", data)
    assert r.returncode != 0 and "needs both" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('"quote.gamm" = {low = 0.1, high = 1.0}\n')
    r = mmctl("sweep", "--search", "optuna", "--space", str(bad), "--data", data)
    assert r.returncode != 0 and "space key 'quote.gamm'" in r.stderr and "Traceback" not in r.stderr
