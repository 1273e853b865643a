"""`mmctl calibrate --ray`: calibrations as Ray tasks over real captures (the first 45 s of
the Binance USD-M BTC and ETH captures), each equal to the same calibration run one by
one; the outputs as `mmctl calibrate` writes them; bad arguments as messages."""

from __future__ import annotations

import gzip
import math
import tomllib

import pyarrow.parquet as pq
import pytest
from ray_helpers import BN_BTC, BN_ETH, mmctl, need_capture

from appliance.calibrate import CalibrationError
from appliance.config import load_config
from appliance.research.calib_jobs import plan_jobs, run_job_direct
from appliance.research.calib_run import CalibOptions, prepare, run

pytestmark = pytest.mark.timeout(1500)  # numba compiles and Ray starts on a loaded 2-core box

MAX_SECONDS = 45.0


def _same(a: object, b: object) -> bool:
    """Equal, a NaN equal to a NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _assert_same_result(got, want) -> None:
    assert got.overlay == want.overlay
    assert got.segments == want.segments and got.notes == want.notes
    assert len(got.rows) == len(want.rows)
    for g, w in zip(got.rows, want.rows, strict=True):
        for f in ("model", "metric", "default_in", "default_out", "calibrated_in", "calibrated_out"):
            assert _same(getattr(g, f), getattr(w, f)), (g, w)
    # the text differs only in its time stamp (the first line)
    assert got.text.split("\n", 1)[1] == want.text.split("\n", 1)[1]


@pytest.fixture(scope="module")
def pairs():
    return ((need_capture(BN_BTC), "BTC"), (need_capture(BN_ETH), "ETH"))


def test_calibrate_ray_when_folds_on_local_ray_then_each_equals_one_by_one(local_ray, pairs, tmp_path):
    # Arrange
    cfg = load_config()
    opts = CalibOptions(pairs, cfg, tmp_path / "out", mode="fold", max_seconds=MAX_SECONDS)
    done = []
    # Act
    res = run(opts, on_done=lambda job, info: done.append(job.index))
    # Assert
    assert sorted(done) == [0, 1] and len(res.results) == 2
    for job in res.jobs:
        assert job.test_data == (pairs[job.index],) and pairs[job.index] not in job.data
        want = run_job_direct(job, cfg, max_seconds=MAX_SECONDS)
        got = res.results[job.index]
        _assert_same_result(got, want)
        overlay = tmp_path / "out" / f"{job.name}.toml"
        assert overlay.read_text() == got.text
        load_config(overlay)  # the loader takes each overlay as it is
        assert tomllib.loads(overlay.read_text())["estimator"]["hawkes"]["mu_prior_per_s"] > 0
    table = pq.read_table(tmp_path / "out" / "calibrations.parquet").to_pylist()
    assert [r["name"] for r in table] == [j.name for j in res.jobs]
    assert table[0]["fit.estimator.hawkes.mu_prior_per_s"] == pytest.approx(
        res.results[0].overlay["estimator.hawkes"]["mu_prior_per_s"])
    scores = pq.read_table(tmp_path / "out" / "scores.parquet")
    assert scores.num_rows == sum(len(r.rows) for r in res.results.values())
    text = (tmp_path / "out" / "summary.txt").read_text()
    assert "fitted keys:" in text and "=== [1] fold_1_test_ethusdt_20240808_ETH ===" in text
    assert res.meta["calibrations"] == 2 and len(res.meta["loads"]) == 2  # each capture put once


def test_calibrate_ray_when_cli_per_capture_then_overlays_summary_and_progress(pairs, tmp_path):
    # Arrange
    out = tmp_path / "cal"
    # Act
    r = mmctl("calibrate", "--ray", "--data", pairs[0][0], "--data", pairs[1][0], "--out", str(out),
              "--max-seconds", str(MAX_SECONDS), "--no-backtests", "--workers", "2",
              "--object-store-mb", "200")
    # Assert
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(p.name for p in out.glob("*.toml")) == ["btcusdt_20240808_BTC.toml",
                                                         "ethusdt_20240808_ETH.toml"]
    for p in out.glob("*.toml"):
        assert p.read_text().startswith("# Calibrated by `mmctl calibrate`")
        load_config(p)
    assert "[2/2]" in r.stderr and "loaded" in r.stderr
    assert "2 calibrations in" in r.stdout and "hawkes buy" in r.stdout


def test_calibrate_ray_when_fold_with_one_capture_then_clear_error(tmp_path):
    with pytest.raises(CalibrationError, match="at least two"):
        prepare(CalibOptions((("a.gz", "BTC"),), load_config(), tmp_path, mode="fold"))
    with pytest.raises(CalibrationError, match="given twice"):
        plan_jobs([("a.gz", "BTC"), ("a.gz", "BTC")], "capture")
    with pytest.raises(CalibrationError, match="--per"):
        plan_jobs([("a.gz", "BTC")], "day")


def test_calibrate_ray_when_test_data_or_ray_options_misused_then_message_not_traceback(pairs, tmp_path):
    r = mmctl("calibrate", "--ray", "--data", pairs[0][0], "--test-data", pairs[1][0],
              "--out", str(tmp_path / "o"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "--test-data is not taken with --ray" in r.stderr
    r = mmctl("calibrate", "--data", pairs[0][0], "--workers", "4", "--out", str(tmp_path / "p.toml"))
    assert r.returncode != 0 and "go with --ray" in r.stderr


def test_calibrate_ray_when_capture_unreadable_then_calibration_error_naming_it(local_ray, tmp_path):
    bad = tmp_path / "btcusdt_garbage.gz"
    with gzip.open(bad, "wt") as f:
        f.write("not a frame\n" * 200)
    opts = CalibOptions(((str(bad), "BTC"),), load_config(), tmp_path / "out", max_seconds=MAX_SECONDS)
    with pytest.raises(CalibrationError, match="cannot read .*cannot tell the format"):
        run(opts)
