"""`mmctl sweep` as a user runs it: a 3 x 3 grid x 2 real captures (60 s of each) on a
local Ray, then on a real two-node Ray cluster on loopback; each time the rows equal the
same backtests run one by one (digest, P&L, attribution, markouts, every outcome)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ray_helpers import (
    BN_BTC,
    BN_ETH,
    LoopbackCluster,
    mmctl,
    need_capture,
    require_ray,
    same_outcome,
)

from appliance.research.rows import outcome, param_column
from appliance.research.sweep import SweepOptions, prepare
from appliance.research.table import read_results
from appliance.research.task import direct_row

pytestmark = pytest.mark.timeout(1500)  # numba compiles and Ray starts on a loaded 2-core box

# one-value keys: the drop rule and no volume budget (issue 16's defaults move losing levels
# out and ration requotes: no fill in 60 s), so that the rows compared have fills
GRID = ('"quote.gamma" = [0.05, 0.3, 1.0]\n[quote]\nmin_spread_bps = [2.0, 8.0, 20.0]\n'
        'epnl_move_out = [false]\n[gateway]\nrequote_requests_per_usd = [0.0]\n')
MAX_SECONDS = 60.0


def _sweep_args(grid: Path, data: list[str], out: Path) -> list[str]:
    args = ["sweep", "--grid", str(grid), "--max-seconds", str(MAX_SECONDS), "--out", str(out)]
    for d in data:
        args += ["--data", d]
    return args


@pytest.fixture(scope="module")
def one_by_one(tmp_path_factory):
    """The grid file, the data, and every task run one by one in this process (which
    also leaves the kernels compiled in the cache the Ray workers load from)."""
    require_ray()
    data = [need_capture(BN_BTC), need_capture(BN_ETH)]
    grid = tmp_path_factory.mktemp("grid") / "sweep.toml"
    grid.write_text(GRID)
    _, tasks = prepare(SweepOptions(grid, tuple(data), max_seconds=MAX_SECONDS))
    return grid, data, [direct_row(t) for t in tasks]


def _assert_rows_equal(rows: list[dict], expected: list[dict]) -> None:
    assert [r["task"] for r in rows] == list(range(len(expected)))
    for got, want in zip(rows, expected, strict=True):
        assert same_outcome(outcome(got), outcome(want)), (outcome(got), outcome(want))


def test_sweep_when_local_ray_then_rows_equal_one_by_one(one_by_one, tmp_path):
    # Arrange
    grid, data, expected = one_by_one
    out = tmp_path / "out"
    # Act
    r = mmctl(*_sweep_args(grid, data, out), "--workers", "2", "--object-store-mb", "200")
    # Assert
    assert r.returncode == 0, r.stdout + r.stderr
    rows, meta = read_results(out / "results.parquet")
    assert len(rows) == 18 == meta["tasks"] and meta["points"] == 9
    _assert_rows_equal(rows, expected)
    assert {r[param_column("quote.gamma")] for r in rows} == {0.05, 0.3, 1.0}
    assert {r["data"] for r in rows} == {"btcusdt_20240808.gz", "ethusdt_20240808.gz"}
    # the grid matters: some points trade differently on the same data
    assert len({(r["digest"], r["orders_placed"]) for r in rows if r["coin"] == "BTC"}) > 1
    assert sum(r["fills"] for r in rows) > 0
    assert "[18/18]" in r.stderr and "ranked by mean pnl_usd" in r.stdout
    assert len(meta["nodes_used"]) == 1 and meta["cluster"]["address"] == "local"
    for png in ("ranking.png", "params.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "summary.txt").read_text().count("quote.gamma=") == 9


@pytest.fixture
def cluster():
    require_ray()
    c = LoopbackCluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def test_sweep_when_two_node_cluster_then_tasks_on_both_nodes_and_rows_equal(one_by_one, cluster,
                                                                             tmp_path):
    # Arrange
    grid, data, expected = one_by_one
    out = tmp_path / "out"
    # Act
    r = mmctl(*_sweep_args(grid, data, out), "--address", cluster.address, env=cluster.env)
    # Assert
    assert r.returncode == 0, r.stdout + r.stderr + cluster.logs()
    rows, meta = read_results(out / "results.parquet")
    _assert_rows_equal(rows, expected)
    assert meta["cluster"]["nodes"] == 2 and meta["cluster"]["address"] == cluster.address
    assert len({r["node_id"] for r in rows}) == 2, [r["node_id"] for r in rows]
    assert set(meta["nodes_used"]) == {r["node_id"] for r in rows}
