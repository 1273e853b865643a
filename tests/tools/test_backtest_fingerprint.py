"""tools/backtest_fingerprint.py on a short slice: the same run twice gives the same
digest, and a run that trades differently gives another one."""

import pytest

from tools.backtest_fingerprint import RUNS, fingerprint, main

SLICE = 3_000  # events of toxic_burst (seed 2): enough for requotes, orders and samples


def test_fingerprint_when_the_same_slice_runs_twice_then_the_digests_are_equal():
    source, seed, chunk, over = RUNS["toxic_burst_s2"]
    a = fingerprint(source, seed, chunk, over, events=SLICE)
    b = fingerprint(source, seed, 1000, over, events=SLICE)  # other chunks: the same run
    assert a == b
    assert a["events"] == SLICE and a["requotes"] > 0 and a["samples"] > 0
    assert len(a["sha256"]) == 64


def test_fingerprint_when_the_latency_differs_then_the_digest_differs():
    source, seed, chunk, _ = RUNS["toxic_burst_s2"]
    a = fingerprint(source, seed, chunk, {}, events=SLICE)
    b = fingerprint(source, seed, chunk, {"order_latency_ms": 35.0}, events=SLICE)
    assert a["sha256"] != b["sha256"]


def test_main_when_a_run_is_named_then_it_writes_its_digest_as_json(tmp_path, capsys):
    out = tmp_path / "fp.json"
    assert main(["--runs", "toxic_burst_s2", "--events", "500", "--json", str(out)]) == 0
    text = out.read_text()
    assert '"toxic_burst_s2"' in text and '"sha256"' in text
    assert "toxic_burst_s2" in capsys.readouterr().out


def test_run_all_when_the_capture_is_missing_then_it_names_the_path(tmp_path):
    from tools.backtest_fingerprint import run_all

    with pytest.raises(FileNotFoundError, match="btcusdt"):
        run_all(tmp_path, ["btcusdt"], events=10)
