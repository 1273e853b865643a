"""One end of ``bench_ipc``'s ping-pong, in its own spawned and pinned process: the
segments and scratch rows it reads and writes, the methods it runs (``ipc_ends``), and
the step protocol it speaks with the parent over a pipe."""

from __future__ import annotations

import os
import time
import traceback

import numpy as np

from appliance.ipc import ring, seqlock
from shm_layout import attach, records
from shm_layout.constants import BOOK_DEPTH, EV_BBO, EV_BOOK, EV_TRADE

from .ipc_ends import (
    HYBRID_SPIN_NS,
    IDLE_GAP_NS,
    blocking_ping,
    blocking_pong,
    numba_ping,
    numba_pong,
    python_ping,
    python_pong,
    seqlock_read_cost,
    seqlock_write_until_stopped,
)

METHODS = ("numba_spin", "numba_spin_trade", "numba_spin_book", "numba_spin_whole",
           "numba_spin_128b", "python_spin", "hybrid", "hybrid_idle", "pipe", "queue")
NUMBA_METHODS = ("numba_spin", "numba_spin_trade", "numba_spin_book", "numba_spin_whole",
                 "numba_spin_128b", "hybrid", "hybrid_idle")
# Book levels a side of the MD_EVENT a numba ping carries (published as the feed does:
# its used bytes only); None: the ping record is copied whole.
PING_LEVELS = {"numba_spin": 1, "numba_spin_trade": 0, "numba_spin_book": BOOK_DEPTH,
               "numba_spin_whole": None, "numba_spin_128b": None, "hybrid": 1,
               "hybrid_idle": 1}

# The writer's period during the seqlock read measurement: a rate an estimator
# might publish at (the block mostly stays in the reader's cache), and 1 M writes/s
# (most reads miss; DESIGN's condition).
SEQLOCK_WRITE_PERIODS_NS = (10_000, 1_000)
STEP_TIMEOUT_S = 120.0

# Segments: (instance suffix, segment name). Ping -> pong on "md" (or, for
# numba_spin_128b, on the second instance's "fills"); pong -> ping on "fills".
SEGS = {"md": ("", "md"), "fills": ("", "fills"), "fills_b": ("b", "fills"),
        "params": ("", "params")}
RINGS = {  # method -> (ping ring, pong ring)
    "numba_spin_128b": ("fills_b", "fills"),
}
DEFAULT_RINGS = ("md", "fills")


class _Child:
    """One end of the ping-pong: its segments, scratch rows and data channels."""

    def __init__(self, role: str, instance: str, conn, q_ping, q_pong, yield_cpu: bool):
        self.role = role
        self.conn = conn
        self.q_ping, self.q_pong = q_ping, q_pong
        self.yield_cpu = yield_cpu
        self.segs = {}
        for key, (suffix, name) in SEGS.items():
            self.segs[key] = attach(instance + suffix, name)
        # one scratch row per segment, exactly a record long (read copies len(dst) bytes)
        self.row = {k: np.zeros(seg.spec.record.itemsize, dtype=np.uint8)
                    for k, seg in self.segs.items()}
        self.params = self.segs["params"]

    def close(self) -> None:
        for seg in self.segs.values():
            seg.close()

    def rings(self, method: str):
        return RINGS.get(method, DEFAULT_RINGS)

    def incoming(self, method: str):
        ping, pong = self.rings(method)
        return self.segs[pong if self.role == "ping" else ping]

    def compile(self) -> None:
        """Call every numba function once with the real argument types, doing nothing."""
        rtt = np.zeros(1, dtype=np.int64)
        if self.role == "ping":
            self._numba_ping("numba_spin", 0, 0, -1, 0, rtt)
            seqlock_read_cost(self.params.seqs, self.params.rows, self.row["params"], 0)
            seqlock.snapshot(self.params, 0)
        else:
            self._numba_pong("numba_spin", 0, 0, -1)
            seqlock_write_until_stopped(self.params.seqs, self.params.rows, self.row["params"],
                                        SEQLOCK_WRITE_PERIODS_NS[0], 0)

    def _ping_record(self, method: str) -> bool:
        """Make the md ping record the method's event; True if it goes as a prefix."""
        levels = PING_LEVELS[method]
        if levels is None:
            return False
        ev = self.row["md"].view(records.MD_EVENT)[0]
        ev["kind"] = EV_TRADE if levels == 0 else (EV_BBO if levels == 1 else EV_BOOK)
        ev["n_bids"] = ev["n_asks"] = levels
        for i in range(levels):  # a plausible book; the values do not change the copy
            lv = ev["lv"][i]
            lv["bid_px"], lv["ask_px"] = 100.0 - i, 100.5 + i
            lv["bid_sz"] = lv["ask_sz"] = 1.0 + i
            lv["bid_n"] = lv["ask_n"] = 1 + i
        return True

    def _numba_ping(self, method, cursor, n, spin_ns, gap_ns, rtt):
        pi, po = self.rings(method)
        a, b = self.segs[pi], self.segs[po]
        prefix = self._ping_record(method)
        return numba_ping(a.ring_words, a.seqs, a.rows, b.ring_words, b.seqs, b.rows,
                          self.row[pi], self.row[po], cursor, n, spin_ns, gap_ns,
                          self.yield_cpu, prefix, rtt)

    def _numba_pong(self, method, cursor, n, spin_ns):
        pi, po = self.rings(method)
        a, b = self.segs[pi], self.segs[po]
        return numba_pong(a.ring_words, a.seqs, a.rows, b.ring_words, b.seqs, b.rows,
                          self.row[pi], self.row[po], cursor, n, spin_ns, self.yield_cpu,
                          PING_LEVELS[method] is not None)

    def run(self, method: str, cursor: int, n):
        spin_ns = HYBRID_SPIN_NS if method in ("hybrid", "hybrid_idle") else -1
        gap_ns = IDLE_GAP_NS if method == "hybrid_idle" else 0
        if self.role == "ping":
            return self._run_ping(method, cursor, n, spin_ns, gap_ns)
        return self._run_pong(method, cursor, n, spin_ns)

    def _run_ping(self, method, cursor, n, spin_ns, gap_ns):
        if method in NUMBA_METHODS:
            rtt = np.zeros(n, dtype=np.int64)
            done = self._numba_ping(method, cursor, n, spin_ns, gap_ns, rtt)
            if done != n:
                raise RuntimeError(f"{method}: round trip {-1 - done} failed")
            return rtt
        if method == "python_spin":
            pi, po = self.rings(method)
            return python_ping(self.segs[pi], self.segs[po], cursor, n, self.yield_cpu)
        if method == "pipe":
            return blocking_ping(self.conn.send, self.conn.recv, n, "pipe")
        if method == "queue":
            return blocking_ping(self.q_ping.put, self.q_pong.get, n, "queue")
        if method == "seqlock":
            m_numba, m_python, _ = n
            elapsed, failed, _ = seqlock_read_cost(self.params.seqs, self.params.rows,
                                                   self.row["params"], m_numba)
            t0 = time.perf_counter_ns()
            for _ in range(m_python):
                seqlock.snapshot(self.params, 0)
            py_elapsed = time.perf_counter_ns() - t0
            return {"numba_ns": elapsed / max(1, m_numba - failed),
                    "python_snapshot_ns": py_elapsed / max(1, m_python),
                    "numba_failed": int(failed)}
        raise ValueError(method)

    def _run_pong(self, method, cursor, n, spin_ns):
        if method in NUMBA_METHODS:
            done = self._numba_pong(method, cursor, n, spin_ns)
            if done != n:
                raise RuntimeError(f"{method}: ping {-1 - done} never came")
            return done
        if method == "python_spin":
            pi, po = self.rings(method)
            return python_pong(self.segs[pi], self.segs[po], cursor, n, self.yield_cpu)
        if method == "pipe":
            return blocking_pong(self.conn.send, self.conn.recv, n)
        if method == "queue":
            return blocking_pong(self.q_pong.put, self.q_ping.get, n)
        if method == "seqlock":
            _, _, period_ns = n  # the parent cleared the stop word before this step
            return int(seqlock_write_until_stopped(self.params.seqs, self.params.rows,
                                                   self.row["params"], period_ns,
                                                   int(STEP_TIMEOUT_S * 1e9)))
        raise ValueError(method)


def child_main(role: str, instance: str, cpu: int | None, ctrl, data_conn, q_ping, q_pong,
                yield_cpu: bool) -> None:
    """Entry point of a spawned end. Talks to the parent over ``ctrl``:
    -> ("up", cpus) after compiling; then per step <- ("run", method, n),
    -> ("ready",), <- ("go",), -> ("done", result); <- ("exit",) ends it."""
    child = None
    try:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        child = _Child(role, instance, data_conn, q_ping, q_pong, yield_cpu)
        child.compile()
        ctrl.send(("up", sorted(os.sched_getaffinity(0))))
        while True:
            cmd = ctrl.recv()
            if cmd[0] == "exit":
                break
            _, method, n = cmd
            # Nothing is in flight between steps: the next event is head + 1.
            cursor = 0
            if method in METHODS:
                cursor = int(ring.head(child.incoming(method).ring_words)) + 1
            ctrl.send(("ready",))
            if ctrl.recv()[0] != "go":
                break
            ctrl.send(("done", child.run(method, cursor, n)))
    except BaseException:
        ctrl.send(("error", f"{role}: {traceback.format_exc()}"))
    finally:
        if child is not None:
            child.close()
