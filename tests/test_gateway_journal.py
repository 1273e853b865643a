"""The gateway journal: append, replay, a torn last line, and a writer killed
with SIGKILL mid-write (real subprocesses)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.gateway.journal import Journal, read_journal

REPO = Path(__file__).resolve().parents[1]


def test_journal_when_appended_then_replayed_in_order_after_reopen(tmp_path):
    p = tmp_path / "gw.journal"
    with Journal(p, fsync="always") as j:
        j.append("order", cloid="0x01", coin=0, is_buy=True, px=100.5, sz=0.1, tif="Alo")
        j.append("ack", cloid="0x01", oid=77, status="resting")
        j.append("fill", oid=77, tid=5, sz=0.1, px=100.5)
    assert oct(p.stat().st_mode & 0o777) == "0o600"
    j2 = Journal(p)
    assert [r["k"] for r in j2] == ["order", "ack", "fill"]
    assert [r["n"] for r in j2] == [1, 2, 3] and j2.records[1]["oid"] == 77
    assert j2.append("cancel", oid=77) == 4
    j2.close()
    recs, st = read_journal(p)
    assert [r["n"] for r in recs] == [1, 2, 3, 4] and st.torn_tail_bytes == 0 and st.gaps == 0


def test_journal_when_last_line_torn_then_dropped_and_truncated_before_next_append(tmp_path):
    p = tmp_path / "gw.journal"
    with Journal(p, fsync="never") as j:
        for i in range(5):
            j.append("fill", tid=i)
    whole = p.read_bytes()
    p.write_bytes(whole + whole.splitlines(keepends=True)[0][:17])  # half a line, no newline
    recs, st = read_journal(p)
    assert len(recs) == 5 and st.torn_tail_bytes == 17
    with Journal(p, fsync="never") as j:
        assert j.replay_stats.torn_tail_bytes == 17
        assert j.append("fill", tid=5) == 6
    recs, st = read_journal(p)
    assert [r["n"] for r in recs] == list(range(1, 7)) and st.torn_tail_bytes == 0


def test_journal_when_last_line_complete_but_damaged_or_middle_line_corrupt_then_skipped(tmp_path):
    p = tmp_path / "gw.journal"
    with Journal(p, fsync="never") as j:
        for i in range(4):
            j.append("fill", tid=i)
    lines = p.read_bytes().splitlines(keepends=True)
    bad_mid = lines[1].replace(b'"tid":1', b'"tid":9')  # CRC no longer matches
    bad_last = lines[3][:-5] + b"}\n"
    p.write_bytes(lines[0] + bad_mid + lines[2] + bad_last)
    recs, st = read_journal(p)
    assert [r["n"] for r in recs] == [1, 3]
    assert st.corrupt == 1 and st.gaps == 1 and st.torn_tail_bytes == len(bad_last)


_CHILD = textwrap.dedent("""
    import os, sys, time
    from appliance.gateway.journal import Journal
    j = Journal(sys.argv[1], fsync=sys.argv[2])
    mode = sys.argv[3]
    if mode == "torn":
        for i in range(10):
            j.append("fill", tid=i, pad="x" * 100)
        line = b'0badc0de {"n":11,"k":"fill","tid":10,"pad":"xxxxxxx'
        os.write(j._fd, line)          # the first half of a write...
        print("torn", flush=True)
        time.sleep(60)                 # ...killed before the rest
    else:
        print("go", flush=True)
        i = 0
        while True:
            j.append("fill", tid=i, pad="y" * (i % 3000))
            i += 1
""")


def _spawn(path: Path, fsync: str, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), fsync, mode], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"journal child died: {proc.stderr.read().decode()[-2000:]}")
    return proc


def test_journal_when_writer_killed_mid_write_then_replay_keeps_every_complete_record(tmp_path):
    p = tmp_path / "gw.journal"
    proc = _spawn(p, "never", "torn")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    recs, st = read_journal(p)
    assert [r["tid"] for r in recs] == list(range(10)) and st.torn_tail_bytes > 0
    with Journal(p, fsync="always") as j:
        assert j.append("fill", tid=10) == 11
    recs, st = read_journal(p)
    assert [r["n"] for r in recs] == list(range(1, 12)) and st.torn_tail_bytes == 0


@pytest.mark.parametrize("fsync", ["never", "always"])
def test_journal_when_killed_at_random_moments_then_always_replays_a_clean_prefix(tmp_path, fsync):
    rng = random.Random(4)
    p = tmp_path / "gw.journal"
    expected_next = 1
    for _ in range(4):
        proc = _spawn(p, fsync, "loop")
        # let it write for a random moment, then kill -9
        try:
            proc.wait(rng.uniform(0.05, 0.3))
        except subprocess.TimeoutExpired:
            pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        recs, st = read_journal(p)
        ns = [r["n"] for r in recs]
        assert ns == list(range(1, len(ns) + 1)), "no record lost or duplicated"
        assert st.corrupt == 0 and st.gaps == 0
        assert len(ns) >= expected_next - 1, "a restart never loses what was replayed"
        expected_next = len(ns) + 1
    assert expected_next > 4
