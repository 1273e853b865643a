"""tools/bench_backtest.py's rounds: the sides interleave (baseline, ours, hftbacktest per
round) and each side's median is over every run of every round. The children are faked:
the real ones are what `mmctl bench backtest` runs (tests/cli/test_backtest.py)."""

import pytest

from tools import bench_backtest as bb


def _fake_side(side: str, walls: list[float]) -> dict:
    r = {"events": 1000, "wall_s_runs": walls, "wall_s": walls[0], "compile_s": 0.5,
         "seconds_simulated": 10.0, "parse_s": 1.0, "convert_s": 1.0, "orders_placed": 10,
         "orders_modified": 0, "fills": 2, "digest": "d" * 64}
    if side == "ours":
        r["profile"] = None
    return r


@pytest.fixture
def fake_children(monkeypatch, tmp_path):
    calls = []
    walls = {"base": iter([[0.30, 0.31], [0.29, 0.32], [0.33, 0.30]]),
             "ours": iter([[0.10, 0.12], [0.11, 0.13], [0.09, 0.10]]),
             "hftbacktest": iter([[0.20, 0.21], [0.22, 0.19], [0.20, 0.20]])}

    def spawn(side, path, repeats, root=None):
        key = "base" if root is not None else side
        calls.append(key)
        return _fake_side(side, next(walls[key]))

    monkeypatch.setattr(bb, "_spawn", spawn)
    monkeypatch.setattr(bb, "hbt_version", lambda: "2.4.4")
    cap = tmp_path / "cap.gz"
    cap.write_bytes(b"")
    base = tmp_path / "main"
    (base / "appliance").mkdir(parents=True)
    return calls, str(cap), str(base)


def test_bench_when_a_baseline_is_given_then_sides_interleave_per_round(fake_children):
    calls, cap, base = fake_children
    r = bb.run_backtest_bench(cap, repeats=2, rounds=3, baseline=base)
    assert calls == ["base", "ours", "hftbacktest"] * 3
    assert r["ours"]["wall_s_runs"] == [0.10, 0.12, 0.11, 0.13, 0.09, 0.10]
    assert r["ours"]["wall_s"] == pytest.approx(0.105)
    assert r["hftbacktest"]["wall_s"] == pytest.approx(0.20)
    assert r["whole_file_speedup"] == pytest.approx(0.20 / 0.105)
    assert r["speedup_vs_baseline"] == pytest.approx(0.305 / 0.105)
    assert len(r["load_avg_1m"]) == 3
    text = bb.render(r)
    assert "baseline wall s (median)" in text and "digest same" in text and "3 rounds" in text


def test_bench_when_no_baseline_then_only_ours_and_hftbacktest_run(fake_children):
    calls, cap, _ = fake_children
    r = bb.run_backtest_bench(cap, repeats=2, rounds=2)
    assert calls == ["ours", "hftbacktest"] * 2
    assert "baseline" not in r and "baseline" not in bb.render(r)


def test_bench_when_the_baseline_is_not_a_checkout_then_clear_error(fake_children, tmp_path):
    _, cap, _ = fake_children
    with pytest.raises(FileNotFoundError, match="not a checkout"):
        bb.run_backtest_bench(cap, baseline=str(tmp_path / "nowhere"))
