"""The single-writer broadcast ring: round trip, EMPTY, LAPPED and exact loss
accounting, in-progress slots, a model-checked property over random
interleavings, and a real writer process publishing flat out against a numba reader.

Every event's payload encodes its own sequence number (every int64 and float64
field of MD_EVENT is ``n``), so a reader that returned a torn or stale slot as
READY would show a payload that disagrees with the sequence it asked for.

Run as a script (``python tests/ipc/test_ring.py writer <instance> <n>``) this file is the
writer process of the multi-process test.
"""

from __future__ import annotations

import itertools
import mmap
import os
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit

from appliance.ipc import ring
from appliance.ipc.atomics import cpu_relax
from appliance.ipc.timing import monotonic_ns
from shm_layout import SEGMENT_BY_NAME, InstanceMemory, attach, create, records
from shm_layout.segments import KIND_RING, SegmentSpec
from shm_layout.shm import Segment

# NOT_CACHED: this file runs in two processes, the test (imported by pytest as
# ``tests.ipc.<name>``) and the writer/poller it spawns (``__main__``); a numba cache
# entry names the module that compiled it, so one written by either fails to load in
# the other. Each compiles its own.

pytestmark = pytest.mark.timeout(120)

MD = records.MD_EVENT
ROW_BYTES = MD.itemsize


def _word_indices(dt: np.dtype, kind: str) -> np.ndarray:
    """Indices, in 8-byte words of a row, of every field of ``kind`` ('i' or 'f')."""
    out = []
    for name in dt.names:
        sub, offset = dt.fields[name][:2]
        if sub.base.itemsize == 8 and sub.base.kind == kind and name != "seq":
            out.extend(offset // 8 + j for j in range(max(1, int(np.prod(sub.shape)))))
    return np.array(out, dtype=np.int64)


INT_WORDS = _word_indices(MD, "i")  # exch_ts_ns, recv_ts_ns, pub_mono_ns, trade_id
FLOAT_WORDS = _word_indices(MD, "f")  # px, sz, aux0, aux1 and the four book arrays


@njit  # not cached: see NOT_CACHED
def encode(row, n):
    """Make every 8-byte int and float field of the MD_EVENT in ``row`` equal ``n``."""
    iw = row.view(np.int64)
    fw = row.view(np.float64)
    for k in INT_WORDS:
        iw[k] = n
    for k in FLOAT_WORDS:
        fw[k] = np.float64(n)


@njit  # not cached: see NOT_CACHED
def matches(row, n):
    """True if the copied slot in ``row`` is event ``n``, seq and payload alike."""
    iw = row.view(np.int64)
    fw = row.view(np.float64)
    if iw[0] != n:
        return False
    for k in INT_WORDS:
        if iw[k] != n:
            return False
    for k in FLOAT_WORDS:  # noqa: SIM110 - numba compiles loops, not all(<generator>)
        if fw[k] != np.float64(n):
            return False
    return True


@njit  # not cached: see NOT_CACHED
def write_events(words, seqs, rows, src, first, count):
    """Publish events first .. first+count-1, each encoding its own number."""
    n = 0
    for e in range(first, first + count):
        encode(src, e)
        n = ring.publish(words, seqs, rows, src, monotonic_ns())
    return n


@njit  # not cached: see NOT_CACHED
def drain(words, seqs, rows, dst, total, timeout_ns, lap_at, out):
    """Read events 1..total as they come, resyncing when lapped. On reaching a cursor
    in ``lap_at`` the reader stops until the writer is a ring and more ahead, so it is
    lapped while the writer is still publishing.
    out: [delivered, lost, bad_payload, not_increasing, resyncs]. False on timeout."""
    cursor = 1
    prev = 0
    deadline = monotonic_ns() + timeout_ns
    idle = 0
    next_lap = 0
    while cursor <= total:
        if next_lap < lap_at.shape[0] and cursor == lap_at[next_lap]:
            next_lap += 1
            while ring.head(words) < cursor + words[ring.CAPACITY] + 1000:
                if monotonic_ns() > deadline:
                    return False
                cpu_relax()
        r = ring.read(words, seqs, rows, cursor, dst)
        if r == ring.READY:
            s = dst.view(np.int64)[0]
            if s <= prev:
                out[3] += 1
            prev = s
            if not matches(dst, cursor):
                out[2] += 1
            out[0] += 1
            cursor += 1
        elif r == ring.LAPPED:
            cursor, lost = ring.resync(words, cursor)
            out[1] += lost
            out[4] += 1
        else:
            idle += 1
            if (idle & 4095) == 0 and monotonic_ns() > deadline:
                return False
            cpu_relax()
    return True


# --- fixtures ---------------------------------------------------------------------

_counter = itertools.count()


@pytest.fixture
def instance() -> Iterator[str]:
    name = f"test{os.getpid()}r{next(_counter)}"
    try:
        yield name
    finally:
        InstanceMemory.unlink_all(name)


@pytest.fixture
def md(instance) -> Iterator[Segment]:
    seg = create(instance, SEGMENT_BY_NAME["md"], lock=False)
    try:
        yield seg
    finally:
        seg.close()


def small_ring(capacity: int) -> Segment:
    """An MD_EVENT ring of ``capacity`` slots over anonymous memory, same views as shm."""
    spec = SegmentSpec("md", KIND_RING, MD, capacity, SEGMENT_BY_NAME["md"].segment_id)
    seg = Segment(spec, "local", mmap.mmap(-1, spec.size_bytes), True)
    seg.ring_header[0]["capacity"] = capacity
    seg.ring_header[0]["mask"] = capacity - 1
    return seg


def new_row() -> np.ndarray:
    return np.zeros(ROW_BYTES, dtype=np.uint8)


def publish(seg: Segment, n: int, now: int = 0) -> int:
    src = new_row()
    encode(src, n)
    return int(ring.publish(seg.ring_words, seg.seqs, seg.rows, src, now))


def read(seg: Segment, cursor: int, dst: np.ndarray) -> int:
    return int(ring.read(seg.ring_words, seg.seqs, seg.rows, cursor, dst))


def head(seg: Segment) -> int:
    return int(ring.head(seg.ring_words))


# --- unit behaviour on a real segment ---------------------------------------------


def test_read_when_nothing_published_then_empty(md):
    dst = new_row()
    assert head(md) == 0
    assert ring.start_cursor(md.ring_words) == 1
    assert ring.start_cursor(md.ring_words, from_start=True) == 1
    assert read(md, 1, dst) == ring.EMPTY
    assert not dst.any(), "an EMPTY read leaves the destination alone"


def test_publish_read_when_round_trip_then_same_md_events(md):
    ev = np.zeros(1, dtype=MD)
    ev["kind"] = 2
    ev["coin"] = 3
    ev["side"] = -1
    ev["trade_id"] = 123_456
    ev["px"] = 64_250.5
    ev["sz"] = 0.125
    ev["lv"]["bid_px"][0, :] = np.arange(20) + 1.5
    ev["lv"]["ask_n"][0, :] = np.arange(20, dtype=np.int32) * 3
    src = ev.view(np.uint8)
    seqs_out = [int(ring.publish(md.ring_words, md.seqs, md.rows, src, 1_000 + k))
                for k in range(3)]
    assert seqs_out == [1, 2, 3]
    assert head(md) == 3
    assert md.ring_words[ring.LAST_PUB_MONO_NS] == 1_002
    got = np.zeros(1, dtype=MD)
    for n in (1, 2, 3):
        assert read(md, n, got.view(np.uint8)) == ring.READY
        assert got["seq"][0] == n
        # every byte but seq is what was published
        assert got.view(np.uint8)[8:].tobytes() == src[8:].tobytes()
        assert got["px"][0] == 64_250.5 and got["coin"][0] == 3 and got["side"][0] == -1
        assert list(got["lv"]["ask_n"][0]) == list(np.arange(20) * 3)
    assert read(md, 4, got.view(np.uint8)) == ring.EMPTY


def test_read_when_lapped_by_more_than_capacity_then_lapped_and_resync_counts_loss(md):
    cap = md.spec.n_records
    src, dst = new_row(), new_row()
    write_events(md.ring_words, md.seqs, md.rows, src, 1, cap)
    assert read(md, 1, dst) == ring.READY and matches(dst, 1)  # exactly one ring behind: held
    extra = 1000
    write_events(md.ring_words, md.seqs, md.rows, src, cap + 1, extra)
    published = cap + extra
    assert head(md) == published
    assert read(md, 1, dst) == ring.LAPPED
    assert read(md, extra, dst) == ring.LAPPED  # still overwritten
    assert read(md, extra + 1, dst) == ring.READY  # the oldest one held

    cursor, lost = (int(x) for x in ring.resync(md.ring_words, 1))
    assert cursor == published - cap // 2 + 1  # half a ring behind the head
    assert lost == cursor - 1
    delivered = 0
    while (r := read(md, cursor, dst)) == ring.READY:
        assert matches(dst, cursor)
        delivered += 1
        cursor += 1
    assert r == ring.EMPTY
    assert delivered + lost == published
    assert ring.start_cursor(md.ring_words, from_start=True) == published - cap + 1


def test_resync_when_head_is_close_then_moves_at_least_one():
    seg = small_ring(8)
    for n in range(1, 4):
        publish(seg, n)
    cursor, lost = (int(x) for x in ring.resync(seg.ring_words, 2))
    assert (cursor, lost) == (3, 1)


def test_read_when_slot_in_progress_then_empty_and_older_reader_lapped(md):
    cap = md.spec.n_records
    dst = new_row()
    for n in range(1, 4):
        publish(md, n)
    n = 4
    md.seqs[n & (cap - 1)] = -n  # a writer stopped in the middle of event 4
    md.records[n]["px"] = -1.0  # ... with half its payload written
    assert read(md, n, dst) == ring.EMPTY
    assert not dst.any()
    assert read(md, 3, dst) == ring.READY and matches(dst, 3)
    # a reader exactly one ring behind event 4 sees its slot being overwritten
    md.seqs[n & (cap - 1)] = -(n + cap)
    assert read(md, n, dst) == ring.LAPPED
    md.seqs[n & (cap - 1)] = 0
    assert publish(md, n) == n  # the writer starts event 4 again and finishes it
    assert read(md, n, dst) == ring.READY and matches(dst, n)


# --- property: random interleavings against a model ---------------------------------

CAP = 8

ops = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(1, 3 * CAP)),
        st.tuples(st.just("read"), st.integers(1, 3 * CAP)),
        st.tuples(st.just("stall"), st.just(0)),  # writer preempted mid-event
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_read_when_random_interleavings_then_payload_always_matches_sequence(script):
    seg = small_ring(CAP)
    src, dst = new_row(), new_row()
    published = 0  # the model's head
    stalled = False  # slot of published + 1 is marked -(published + 1), half written
    cursor, delivered, lost = 1, 0, 0

    def step_read() -> bool:
        nonlocal cursor, delivered, lost
        r = read(seg, cursor, dst)
        stalled_victim = stalled and cursor == published + 1 - CAP
        if cursor <= published - CAP or stalled_victim:
            assert r == ring.LAPPED
            new, n_lost = (int(x) for x in ring.resync(seg.ring_words, cursor))
            assert new == max(published - CAP // 2 + 1, cursor + 1)
            assert n_lost == new - cursor
            cursor, lost = new, lost + n_lost
            return True
        if cursor <= published:
            assert r == ring.READY
            assert matches(dst, cursor), f"slot {cursor} returned another event's payload"
            cursor, delivered = cursor + 1, delivered + 1
            return True
        assert r == ring.EMPTY
        return False

    for op, k in script:
        if op == "publish":
            write_events(seg.ring_words, seg.seqs, seg.rows, src, published + 1, k)
            published += k
            stalled = False
        elif op == "stall":
            n = published + 1
            seg.seqs[n & (CAP - 1)] = -n
            half = seg.rows[n & (CAP - 1)]
            half[8 : ROW_BYTES // 2] = 0xAB  # garbage where event n's payload goes
            stalled = True
        else:
            for _ in range(k):
                if not step_read():
                    break
        assert head(seg) == published
    while step_read():
        pass
    assert cursor == published + 1
    assert delivered + lost == published


# --- a real writer process publishing flat out ------------------------------------

EVENTS = 200_000


def writer_main(instance: str, total: int) -> None:
    seg = attach(instance, "md")
    src = new_row()
    write_events(seg.ring_words, seg.seqs, seg.rows, src, 1, 0)  # compile before the clock
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(2)
    n = write_events(seg.ring_words, seg.seqs, seg.rows, src, 1, total)
    print(f"done {n}", flush=True)


@pytest.mark.parametrize("forced_laps", [0, 3], ids=["reader_keeps_up", "reader_lapped"])
def test_ring_when_writer_process_floods_then_every_ready_record_matches_and_none_unaccounted(
    instance, md, forced_laps
):
    dst = new_row()
    out = np.zeros(5, dtype=np.int64)
    lap_at = np.array([20_000, 80_000, 140_000][:forced_laps], dtype=np.int64)
    drain(md.ring_words, md.seqs, md.rows, dst, 0, 0, lap_at, out)  # compile first
    proc = subprocess.Popen(
        [sys.executable, __file__, "writer", instance, str(EVENTS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", line or proc.stderr.read()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        finished = drain(md.ring_words, md.seqs, md.rows, dst, EVENTS, 60_000_000_000, lap_at,
                         out)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert finished, f"reader timed out at {out}"
    assert proc.returncode == 0, stderr
    assert stdout.strip() == f"done {EVENTS}"
    delivered, lost, bad, not_increasing, resyncs = (int(x) for x in out)
    assert bad == 0
    assert not_increasing == 0
    assert delivered > 0
    assert delivered + lost == EVENTS == head(md)
    if forced_laps:
        assert resyncs >= forced_laps
        assert lost >= forced_laps * (md.spec.n_records // 2)
    print(f"delivered={delivered} lost={lost} resyncs={resyncs}")


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "writer":
    writer_main(sys.argv[2], int(sys.argv[3]))
