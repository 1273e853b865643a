"""A first start on an empty numba cache: the stages are said as they happen, no
process is killed for compiling, and it ends quoting with the kill flag clear.
(`mmctl warm` is that start on the local venue, stopped once it quotes.)"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

MMCTL = [sys.executable, "-m", "appliance.cli"]


def _log_tails(out: str, lines: int = 40) -> str:
    """The last lines of the gateway's and the quote's logs a failed warm-up names."""
    m = re.search(r"See (\S+)/\*\.log", out)
    if not m:
        return ""
    tails = []
    for name in ("gateway", "quote", "supervisor"):
        f = Path(m.group(1)) / f"{name}.log"
        if f.is_file():
            tails.append(f"\n--- {f} ---\n" + "\n".join(f.read_text().splitlines()[-lines:]))
    return "".join(tails)


@pytest.mark.timeout(1500)
def test_warm_when_cache_empty_then_stages_said_and_quoting_without_a_kill(tmp_path):
    cache = tmp_path / "empty-cache"
    env = {**os.environ, "HL_MM_CACHE_DIR": str(cache)}
    log = tmp_path / "compile.jsonl"
    p = subprocess.run([*MMCTL, "warm", "--compile-log", str(log)], capture_output=True, text=True,
                       timeout=1400, env=env)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out + _log_tails(out)
    for stage in ("logs: ", "stage: local venue on", "stage: feed running",
                  "stage: estimator running", "stage: quote running", "stage: gateway running",
                  "stage: risk running", "stage: first market params for BTC",
                  "stage: all five processes healthy", "ready: quoting BTC"):
        assert stage in p.stderr, f"{stage!r} not said:\n{out}"
    assert "kill flag" not in out and "heartbeat stale" not in out, out
    assert "still starting" in p.stderr  # a cold compile shows its progress
    n_index = sum(1 for _ in cache.rglob("*.nbi"))
    assert n_index > 50 and f"warm: {n_index} kernel index files" in p.stdout
    # what each process compiled is said, and the log has a line per compile
    for proc in ("feed", "estimator", "quote", "gateway", "risk", "venue"):
        assert re.search(rf"compiled in {proc}: \d+ functions, [\d.]+ s", p.stdout), (proc, p.stdout)
    assert len(log.read_text().splitlines()) > 50
    # each process listed the kernels it calls, for the next start's fork server to load
    (lists,) = cache.glob("numba-*/preload")
    listed = {f.stem: json.loads(f.read_text())["kernels"] for f in lists.glob("*.json")}
    assert sorted(listed) == ["estimator", "feed", "gateway", "quote", "risk"], listed
    assert ["appliance.estimator.process", "drain"] in listed["estimator"]
    assert ["appliance.quote.process", "step"] in listed["quote"]
