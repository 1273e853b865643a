"""The two ends of each ping-pong that ``bench_ipc`` times: numba and Python over
shared-memory rings, Pipe, Queue, and the seqlock reader and writer. Each runs in
its own pinned process; ``bench_ipc`` spawns them and turns their round trips into
figures."""

import os
import struct
import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from appliance.feed.md_publish import publish_md
from appliance.ipc import ring, seqlock
from appliance.ipc.atomics import cpu_relax, load_acquire
from appliance.ipc.timing import monotonic_ns
from shm_layout import records
from shm_layout.constants import SEGMENT_HEADER_BYTES

HYBRID_SPIN_NS = 50_000
SLEEP_MIN_US = 10
SLEEP_MAX_US = 1_000
IDLE_GAP_NS = 200_000  # hybrid_idle: pause between round trips
WAIT_TIMEOUT_NS = 10_000_000_000  # a numba wait that long means the other end died
SEQLOCK_STOP_BLOCK = 7  # seq of this params block set non-zero: the writer stops
# 8-byte word indices of the payload a hop carries: ping's number, echoed by pong.
PING_ID_WORD = records.MD_EVENT.fields["trade_id"][1] // 8
PING_TS_WORD = records.MD_EVENT.fields["pub_mono_ns"][1] // 8
PONG_ID_WORD = records.FILL_EVENT.fields["oid"][1] // 8
PONG_TS_WORD = records.FILL_EVENT.fields["pub_mono_ns"][1] // 8
TIMEOUT = -2  # _await: no event within WAIT_TIMEOUT_NS

# --- libc calls for numba (symbols resolved at link time, so the code caches) ------


@intrinsic
def _usleep(typingctx, us):
    """``usleep(us)`` inside numba code."""
    if not isinstance(us, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i32, [i32]), "usleep")
        builder.call(fn, [builder.trunc(context.cast(builder, args[0], sig.args[0], types.int64),
                                        i32)])
        return context.get_dummy_value()

    return types.void(us), codegen


@intrinsic
def _sched_yield(typingctx):
    """``sched_yield()`` inside numba code (spinning with one CPU for two processes)."""

    def codegen(context, builder, sig, args):
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i32, []),
                                            "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


# --- numba ends ---------------------------------------------------------------------


@njit(cache=True, inline="always")
def _read(words, seqs, rows, cursor, dst, prefix):
    """``ring.read_prefix`` (an MD_EVENT published by ``publish_md``) or ``ring.read``."""
    if prefix:
        return ring.read_prefix(words, seqs, rows, cursor, dst)
    return ring.read(words, seqs, rows, cursor, dst)


@njit(cache=True, inline="always")
def _await(words, seqs, rows, cursor, dst, spin_ns, yield_cpu, prefix):
    """Wait for event ``cursor``: spin (``spin_ns < 0``), or spin ``spin_ns`` and then
    sleep with a doubling backoff. Returns ring.READY / ring.LAPPED / TIMEOUT."""
    r = _read(words, seqs, rows, cursor, dst, prefix)
    if r != ring.EMPTY:
        return r
    start = monotonic_ns()
    sleep_us = SLEEP_MIN_US
    polls = 0
    while True:
        r = _read(words, seqs, rows, cursor, dst, prefix)
        if r != ring.EMPTY:
            return r
        polls += 1
        if yield_cpu:
            _sched_yield()
        else:
            cpu_relax()
        if spin_ns >= 0 or (polls & 255) == 0:
            waited = monotonic_ns() - start
            if waited > WAIT_TIMEOUT_NS:
                return TIMEOUT
            if 0 <= spin_ns < waited:
                _usleep(sleep_us)
                sleep_us = min(sleep_us * 2, SLEEP_MAX_US)


@njit(cache=True)
def numba_ping(out_w, out_s, out_r, in_w, in_s, in_r, src, dst, cursor, n, spin_ns, gap_ns,
               yield_cpu, prefix, rtt):
    """Publish ping k, wait for pong k; rtt[k] = ns between. Returns rounds done,
    or -1 - k if round k failed. ``prefix``: the ping is an MD_EVENT published as the
    feed publishes it (its used bytes only), else the whole record."""
    src64 = src.view(np.int64)
    dst64 = dst.view(np.int64)
    for k in range(n):
        if gap_ns > 0:
            until = monotonic_ns() + gap_ns
            while monotonic_ns() < until:
                cpu_relax()
        seq = out_w[ring.HEAD] + 1
        src64[PING_ID_WORD] = seq
        t0 = monotonic_ns()
        src64[PING_TS_WORD] = t0
        if prefix:
            publish_md(out_w, out_s, out_r, src, t0)
        else:
            ring.publish(out_w, out_s, out_r, src, t0)
        r = _await(in_w, in_s, in_r, cursor, dst, spin_ns, yield_cpu, False)
        t1 = monotonic_ns()
        if r != ring.READY or dst64[PONG_ID_WORD] != seq:
            return -1 - k
        rtt[k] = t1 - t0
        cursor += 1
    return n


@njit(cache=True)
def numba_pong(in_w, in_s, in_r, out_w, out_s, out_r, dst, src, cursor, n, spin_ns, yield_cpu,
               prefix):
    """Answer n pings, echoing each ping's number. Returns n, or -1 - k on failure.
    ``prefix``: read the pings as the estimator reads the md ring (used bytes only)."""
    src64 = src.view(np.int64)
    dst64 = dst.view(np.int64)
    for k in range(n):
        r = _await(in_w, in_s, in_r, cursor, dst, spin_ns, yield_cpu, prefix)
        if r != ring.READY:
            return -1 - k
        src64[PONG_ID_WORD] = dst64[PING_ID_WORD]
        now = monotonic_ns()
        src64[PONG_TS_WORD] = now
        ring.publish(out_w, out_s, out_r, src, now)
        cursor += 1
    return n


@njit(cache=True)
def seqlock_read_cost(seqs, rows, dst, n):
    """n consistent reads of block 0; returns (elapsed_ns, failed, checksum)."""
    failed = 0
    acc = 0
    t0 = monotonic_ns()
    for _ in range(n):
        s = seqlock.read(seqs, rows, 0, dst, 1_000_000)
        if s < 0:
            failed += 1
        acc += dst[8]  # depend on the copy, so it is not optimized away
    return monotonic_ns() - t0, failed, acc


@njit(cache=True)
def seqlock_write_until_stopped(seqs, rows, src, period_ns, max_ns):
    """Rewrite block 0 once per ``period_ns`` until the stop block's seq is set."""
    k = 0
    now = monotonic_ns()
    end = now + max_ns
    next_t = now
    src64 = src.view(np.int64)
    while load_acquire(seqs, SEQLOCK_STOP_BLOCK) == 0 and now < end:
        now = monotonic_ns()
        if now < next_t:
            cpu_relax()
            continue
        k += 1
        for w in range(1, src64.shape[0]):
            src64[w] = k
        seqlock.write(seqs, rows, 0, src)
        next_t = now + period_ns
    return k


# --- Python ends --------------------------------------------------------------------

_Q = struct.Struct("<q")


def _ring_geometry(seg) -> tuple[int, int, int]:
    return seg.spec.body_offset, seg.spec.record.itemsize, seg.spec.n_records - 1


def python_ping(out_seg, in_seg, cursor: int, n: int, yield_cpu: bool) -> np.ndarray:
    pack, unpack = _Q.pack_into, _Q.unpack_from
    mono, yield_ = time.monotonic_ns, os.sched_yield
    out_mv, in_mv = memoryview(out_seg.raw), memoryview(in_seg.raw)
    head_off = SEGMENT_HEADER_BYTES
    o_body, o_rec, o_mask = _ring_geometry(out_seg)
    i_body, i_rec, i_mask = _ring_geometry(in_seg)
    ping_id, ping_ts, pong_id = PING_ID_WORD * 8, PING_TS_WORD * 8, PONG_ID_WORD * 8
    seq = unpack(out_mv, head_off)[0]
    rtt = [0] * n
    try:
        for k in range(n):
            seq += 1
            o = o_body + (seq & o_mask) * o_rec
            i = i_body + (cursor & i_mask) * i_rec
            t0 = mono()
            pack(out_mv, o, -seq)
            pack(out_mv, o + ping_id, seq)
            pack(out_mv, o + ping_ts, t0)
            pack(out_mv, o, seq)
            pack(out_mv, head_off, seq)
            if yield_cpu:
                while unpack(in_mv, i)[0] != cursor:
                    yield_()
            else:
                while unpack(in_mv, i)[0] != cursor:
                    pass
            t1 = mono()
            if unpack(in_mv, i + pong_id)[0] != seq:
                raise RuntimeError(f"pong {cursor} answered another ping")
            rtt[k] = t1 - t0
            cursor += 1
    finally:
        out_mv.release()
        in_mv.release()
    return np.array(rtt, dtype=np.int64)


def python_pong(in_seg, out_seg, cursor: int, n: int, yield_cpu: bool) -> int:
    pack, unpack = _Q.pack_into, _Q.unpack_from
    mono, yield_ = time.monotonic_ns, os.sched_yield
    out_mv, in_mv = memoryview(out_seg.raw), memoryview(in_seg.raw)
    head_off = SEGMENT_HEADER_BYTES
    o_body, o_rec, o_mask = _ring_geometry(out_seg)
    i_body, i_rec, i_mask = _ring_geometry(in_seg)
    ping_id, pong_id, pong_ts = PING_ID_WORD * 8, PONG_ID_WORD * 8, PONG_TS_WORD * 8
    seq = unpack(out_mv, head_off)[0]
    try:
        for _ in range(n):
            i = i_body + (cursor & i_mask) * i_rec
            if yield_cpu:
                while unpack(in_mv, i)[0] != cursor:
                    yield_()
            else:
                while unpack(in_mv, i)[0] != cursor:
                    pass
            echoed = unpack(in_mv, i + ping_id)[0]
            seq += 1
            o = o_body + (seq & o_mask) * o_rec
            pack(out_mv, o, -seq)
            pack(out_mv, o + pong_id, echoed)
            pack(out_mv, o + pong_ts, mono())
            pack(out_mv, o, seq)
            pack(out_mv, head_off, seq)
            cursor += 1
    finally:
        out_mv.release()
        in_mv.release()
    return n


def blocking_ping(send, recv, n: int, what: str) -> np.ndarray:
    """Round trips in ns through a blocking channel (Pipe: conn.send/recv; Queue:
    put on one queue, get from the other)."""
    mono = time.monotonic_ns
    rtt = [0] * n
    for k in range(n):
        t0 = mono()
        send(k)
        got = recv()
        t1 = mono()
        if got != k:
            raise RuntimeError(f"{what}: sent {k}, got {got}")
        rtt[k] = t1 - t0
    return np.array(rtt, dtype=np.int64)


def blocking_pong(send, recv, n: int) -> int:
    for _ in range(n):
        send(recv())
    return n
