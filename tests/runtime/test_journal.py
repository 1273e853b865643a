"""The gateway journal: append, replay, a torn last line, a writer killed with SIGKILL
mid-write (real subprocesses); a full or read-only disk (real small filesystems), and
the gateway's send paths over a failing journal (cancels still go out, orders do not)."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gateway_fakes import GatewayParts, remount, small_tmpfs

from appliance.gateway.reconcile_plan import LiveOrder, NewOrder
from appliance.runtime.journal import Journal, read_journal

REPO = Path(__file__).resolve().parents[2]


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
    from appliance.runtime.journal import Journal
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


# --- a full or read-only disk: the journal never raises, says why, counts -------------------

def _on_full_device(j: Journal) -> None:
    """Point the journal's descriptor at /dev/full: every write fails with ENOSPC."""
    os.close(j._fd)
    j._fd = os.open("/dev/full", os.O_WRONLY)


def test_journal_when_disk_full_then_append_returns_0_reports_enospc_and_file_unchanged(tmp_path):
    p = tmp_path / "gw.journal"
    seen: list[str] = []
    j = Journal(p, fsync="always", on_error=seen.append)
    assert j.append("fill", tid=1) == 1 and j.ok
    before = p.read_bytes()
    _on_full_device(j)
    assert j.append("cancel", oid=7) == 0
    assert j.append("place", cloid="0x01") == 0
    assert not j.ok and j.errno == errno.ENOSPC and j.errors == 2 and j.n == 1
    assert "ENOSPC" in j.error and "No space left on device" in j.error and str(p) in j.error
    assert seen == [j.error, j.error]
    j.close()  # tolerates the failing descriptor
    assert p.read_bytes() == before


def test_journal_when_a_partial_line_cannot_be_cut_back_then_the_next_record_is_still_whole(tmp_path):
    p = tmp_path / "gw.journal"
    j = Journal(p, fsync="never")
    j.append("fill", tid=1)
    os.write(j._fd, b'0badc0de {"n":2,"k":"fi')  # a write cut short by a full disk ...
    j._torn = True  # ... that ftruncate could not take back
    assert j.append("fill", tid=2) == 2
    j.close()
    recs, st = read_journal(p)
    assert [r["tid"] for r in recs] == [1, 2] and st.corrupt == 1 and st.torn_tail_bytes == 0


def test_journal_when_dir_cannot_be_created_then_starts_failed_and_recovers_later(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    p = blocker / "gw.journal"
    seen: list[str] = []
    j = Journal(p, on_error=seen.append)  # does not raise
    assert not j.ok and seen and "journal open" in seen[0] and str(p) in seen[0]
    assert j.append("place", cloid="0x01") == 0 and len(seen) == 2
    blocker.unlink()
    blocker.mkdir()
    assert j.append("place", cloid="0x01") == 1 and j.ok  # the disk came back
    j.close()
    assert [r["k"] for r in read_journal(p)[0]] == ["place"]


def test_journal_when_a_small_disk_fills_then_whole_records_only_and_resumes_after(tmp_path):
    with small_tmpfs(tmp_path / "mnt", "512k") as mnt:
        p = mnt / "gw.journal"
        j = Journal(p, fsync="always")
        (mnt / "other").write_bytes(b"x" * 400_000)  # logs and the like
        pad = "z" * 3000  # records do not divide the disk: the last write is partial
        ok = 0
        while j.append("fill", tid=ok, pad=pad):
            ok += 1
        assert j.errno == errno.ENOSPC and ok > 10
        recs, st = read_journal(p)
        assert [r["n"] for r in recs] == list(range(1, ok + 1))
        assert st.torn_tail_bytes == 0 and st.corrupt == 0  # the partial line was cut back
        assert "ENOSPC" in j.space_error()  # what a quiet gateway checks every second
        (mnt / "other").unlink()  # space again: the same journal goes on, numbering intact
        assert j.space_error() == ""
        assert j.append("fill", tid=ok) == ok + 1 and j.ok
        j.close()
        recs, st = read_journal(p)
        assert [r["n"] for r in recs] == list(range(1, ok + 2)) and st.gaps == 0


def test_journal_when_disk_read_only_then_starts_failed_with_erofs(tmp_path):
    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        p = mnt / "gw.journal"
        with Journal(p) as j:
            j.append("fill", tid=1)
        remount(mnt, "ro")
        seen: list[str] = []
        j = Journal(p, on_error=seen.append)
        assert [r["k"] for r in j.records] == ["fill"]  # still replayable
        assert not j.ok and j.errno == errno.EROFS and "EROFS" in seen[0]
        assert j.append("cancel", oid=1) == 0
        assert "EROFS" in j.space_error()
        j.close()


# --- fsync="interval" deferred (the gateway): never between a record and its order ---------

def _fsyncs(monkeypatch, fail: OSError | None = None, delay_s: float = 0.0) -> list:
    """Record every fsync (the thread it ran on, and when it ended) made by the journal."""
    import threading
    import time

    from appliance.runtime import journal as journal_mod
    from appliance.runtime import journal_sync

    calls: list = []

    def fsync(fd: int) -> None:
        time.sleep(delay_s)
        calls.append(("fsync", threading.current_thread().name))
        if fail is not None:
            raise fail

    monkeypatch.setattr(journal_sync.os, "fsync", fsync)
    monkeypatch.setattr(journal_mod.os, "fsync", fsync)
    return calls


def test_journal_when_sync_deferred_then_append_never_fsyncs_and_sync_due_does_on_a_thread(
        tmp_path, monkeypatch):
    calls = _fsyncs(monkeypatch)
    j = Journal(tmp_path / "gw.journal", fsync="interval", fsync_interval_s=0.0, defer_sync=True)
    assert j.append("place", cloid="0x01") == 1 and j.append("place", cloid="0x02") == 2
    assert calls == []  # the order leaves without waiting on the disk
    j.sync_due()
    j._bg.wait(5.0)
    assert calls == [("fsync", "journal-sync")]
    j.sync_due()  # nothing written since: nothing to sync
    j._bg.wait(5.0)
    assert len(calls) == 1
    j.close()
    assert [r["cloid"] for r in read_journal(tmp_path / "gw.journal")[0]] == ["0x01", "0x02"]


def test_journal_when_a_deferred_fsync_fails_then_reported_and_the_next_append_refused(
        tmp_path, monkeypatch):
    _fsyncs(monkeypatch, fail=OSError(errno.EIO, "Input/output error"))
    seen: list[str] = []
    j = Journal(tmp_path / "gw.journal", fsync="interval", fsync_interval_s=0.0, on_error=seen.append,
                defer_sync=True)
    assert j.append("place", cloid="0x01") == 1
    j.sync_due()
    j._bg.wait(5.0)
    assert j.append("place", cloid="0x02") == 0  # fail closed: the order is not sent
    assert j.errno == errno.EIO and seen and "fsync EIO" in seen[0]
    j.close()
    assert [r["cloid"] for r in read_journal(tmp_path / "gw.journal")[0]] == ["0x01"]


def test_journal_when_closed_during_a_deferred_fsync_then_waits_for_it(tmp_path, monkeypatch):
    calls = _fsyncs(monkeypatch, delay_s=0.2)
    j = Journal(tmp_path / "gw.journal", fsync="interval", fsync_interval_s=0.0, defer_sync=True)
    j.append("place", cloid="0x01")
    j.sync_due()
    assert j._bg.busy
    j.close()  # must not close the descriptor under the running fsync
    assert calls[0] == ("fsync", "journal-sync") and not j._bg.busy and j._fd == -1



# --- the executor's send paths with a failing journal ----------------------------------

def _resting(ex, n=2):
    ex.sender.send_orders([NewOrder(0, True, 99_990.0 - i, 0.001, i, "Alo") for i in range(n)], 0)
    return [LiveOrder(o.cloid, o.oid, 0, o.is_buy, o.px, o.open_sz) for o in ex.tracker.active(0)]


def test_journal_when_a_batch_appended_then_one_write_consecutive_n_and_all_or_nothing(tmp_path, monkeypatch):
    p = tmp_path / "gw.journal"
    j = Journal(p, fsync="never")
    assert j.append("fill", tid=1) == 1
    writes: list[int] = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, b: writes.append(len(b)) or real_write(fd, b))
    batch = [("place", {"cloid": f"0x0{i}", "px": 100.0 + i}) for i in range(3)]
    assert j.append_many(iter(batch)) == 4 and len(writes) == 1  # one system call for three records
    assert j.append_many([]) == 0 and j.n == 4  # nothing to write is not a record
    before = p.read_bytes()
    _on_full_device(j)
    assert j.append_many(batch) == 0 and j.n == 4 and j.errno == errno.ENOSPC
    j.close()
    assert p.read_bytes() == before  # a failed batch leaves no part of itself
    recs, st = read_journal(p)
    assert [(r["n"], r["k"]) for r in recs] == [(1, "fill"), (2, "place"), (3, "place"), (4, "place")]
    assert [r["px"] for r in recs[1:]] == [100.0, 101.0, 102.0] and st.corrupt == 0 and st.gaps == 0


def test_executor_when_journal_full_then_no_order_placed_and_kill_flag_names_enospc(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    _on_full_device(ex.journal)
    assert ex.sender.send_orders([NewOrder(0, True, 99_990.0, 0.001, 0, "Alo")], 0) == 0
    assert ex.venue.actions == [] and not ex.tracker.by_cloid  # fail closed
    assert int(ex.ctx.control["kill_flag"]) == 1
    reason = ex.ctx.control["kill_reason"].decode()
    assert reason.startswith("gateway: journal write ENOSPC [Errno 28] No space left on device")
    assert int(ex.ctx.control["gw_journal_errors"]) == 1


def test_executor_when_journal_full_then_cancels_kill_and_verify_still_go_out(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    live = _resting(ex, 3)
    _on_full_device(ex.journal)
    assert ex.sender.send_cancels(live[:1]) == 1  # a plain cancel
    assert len(ex.venue.resting) == 2
    ex.sender.cancel_raw([(0, live[1].oid)])  # an unknown-order / verify cancel
    assert len(ex.venue.resting) == 1
    for _ in range(3):  # the kill step: cancel everything, verify with openOrders
        ex.kill_switch.step(1e9)
        ex.kill_switch.next_verify = 0.0
    assert ex.venue.resting == {} and ex.kill_switch.verified
    assert int(ex.ctx.control["gw_journal_errors"]) >= 3 and ex.ctx.control["kill_flag"]
    ex.kill_switch.cancel_all_bounded(lambda: 0)  # the graceful path does not raise
    ex.dms.unset()
    ex.journal.close()
