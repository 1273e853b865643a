"""Seqlock reads under contention: a block held mid-write for a moment is waited for;
one that stays so is reported (position: fail closed) only after several cycles."""

import threading
import time

import pytest
from risk_helpers import NOON, fresh_segments, make_view, set_position

from appliance.risk import checks, reads


@pytest.fixture
def mem():
    with fresh_segments("rread") as m:
        yield m


def hold_mid_write(seg, k: int) -> None:
    """What a writer descheduled inside its write leaves: an odd sequence."""
    seg.seqs[k] += 1


def release(seg, k: int) -> None:
    seg.seqs[k] += 1


def release_later(seg, k: int, after_s: float) -> threading.Thread:
    t = threading.Thread(target=lambda: (time.sleep(after_s), release(seg, k)))
    t.start()
    return t


def test_read_with_backoff_when_writer_finishes_soon_then_consistent_copy(mem):
    set_position(mem, 0, position_sz=0.01)
    hold_mid_write(mem.position, 0)
    t = release_later(mem.position, 0, 0.005)
    rec, seq = reads.read_with_backoff(mem.position, 0, time.monotonic() + 5.0)
    t.join()
    assert seq > 0 and seq % 2 == 0 and rec["position_sz"] == 0.01


def test_read_with_backoff_when_writer_never_finishes_then_gives_up_at_deadline(mem):
    hold_mid_write(mem.position, 0)
    _, seq = reads.read_with_backoff(mem.position, 0, time.monotonic() + 0.01)
    assert seq == -1


def test_position_when_held_mid_write_transiently_then_no_finding(mem, tmp_path):
    v = make_view(mem, tmp_path)
    set_position(mem, 0, position_sz=0.01)
    assert checks.evaluate(v, NOON) == []
    for _ in range(reads.UNREADABLE_CYCLES + 1):  # every cycle meets a busy writer
        hold_mid_write(mem.position, 0)
        t = release_later(mem.position, 0, 0.002)
        assert checks.evaluate(v, NOON) == []
        t.join()
    assert v.positions.fail_streak[0] == 0


def test_position_when_held_mid_write_persistently_then_finding_after_several_cycles(mem, tmp_path):
    v = make_view(mem, tmp_path)
    set_position(mem, 1, position_sz=0.01)
    checks.evaluate(v, NOON)
    hold_mid_write(mem.position, 1)
    for _ in range(reads.UNREADABLE_CYCLES - 1):
        assert checks.evaluate(v, NOON) == []  # the last good copy stands in
    found = checks.evaluate(v, NOON)
    assert [f.check for f in found] == ["position"]
    assert "ETH: position block unreadable" in found[0].reason
    release(mem.position, 1)
    assert checks.evaluate(v, NOON) == []


def test_params_when_held_mid_write_persistently_then_stale_data_finding(mem, tmp_path):
    v = make_view(mem, tmp_path)
    hold_mid_write(mem.params, 0)
    found = [checks.evaluate(v, NOON) for _ in range(reads.UNREADABLE_CYCLES)]
    assert found[0] == [] and [f.check for f in found[-1]] == ["stale_data"]
    assert "market params block unreadable" in found[-1][0].reason
