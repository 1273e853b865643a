"""The recorder: market data, our fills, orders and fundings, from the rings to the catalog.

Why here: the risk watchdog already reads the fills and orders rings and is the one
process not on the quoting path (it wakes every ``check_interval_ms``); a sixth
process would need a control slot, a heartbeat and a start-up stage for what is a
reader of rings. So the recorder is a thread of the risk process, with its own ring
cursors (a broadcast ring has no back-pressure: the recorder can never slow a
writer). Every ``poll_interval_ms`` it drains the md, fills and orders rings and the
user ring into memory (a njit copy that releases the GIL); every ``flush_interval_s``
the ``appliance.catalog.CatalogWriter`` writes Parquet files.

Fundings: of the user ring (the venue's user events as the feed decoded them, which the
gateway books) only funding payments are kept, and of each payment only its timed copy
(``userFundings``, with the funding time; the ``user`` channel's copy has no time), once
per (coin, time, amount) in this process: a resubscribe's snapshot repeats them. A
payment the snapshot re-delivers after a restart of the risk process may be recorded
twice, which ``mmctl history`` drops, as for fills.

Fail-safe: recording is not a safety function, so a failed write (a full disk, the
free-space floor, permissions) does not touch trading: the rows of that flush are
dropped and counted, the error is logged (once a minute), and said in the status file
``<catalog>/recorder.json`` (``mmctl data ls``) and in the metrics
(``mm_recorder_ok`` 0, ``mm_recorder_rows_dropped_total``). Events the recorder was
lapped over are counted (``lost_events``) and written into the next file's metadata.
The safety record of orders and fills stays the gateway's journal.

Fill history across restarts: the catalog is never compacted. At its start the
recorder reads every event still in each ring (they are this instance's: the rings
are created with it), so nothing the feed published before the risk process came up
is missed; a restarted risk process may record some twice, which ``mmctl history``
and the catalog replay drop.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
from numba import njit

from appliance.catalog import FILLS, FUNDINGS, MARKET, ORDERS, CatalogWriter
from appliance.config import recorder_dir
from appliance.ipc import ring
from shm_layout import records
from shm_layout.constants import UE_FUNDING

log = logging.getLogger("risk.recorder")

STATUS_NAME = "recorder.json"


@njit(cache=True, nogil=True)
def _drain(words, seqs, rows, cursors, out_u8, max_n):
    """Copy up to ``max_n`` ring events into ``out_u8``; lapped events are added to
    ``cursors[1]``. Returns the number copied."""
    n = 0
    while n < max_n and ring.read_next(words, seqs, rows, cursors, 0, out_u8[n]):
        n += 1
    return n


class _Tap:
    """One reader of one ring, with its own cursor."""

    def __init__(self, seg, dtype: np.dtype, from_start: bool) -> None:
        self.words, self.seqs, self.rows = seg.ring_words, seg.seqs, seg.rows
        self.cursors = np.zeros(2, np.int64)
        self.cursors[0] = ring.start_cursor(self.words, from_start=from_start)
        cap = len(self.rows)
        self.buf = np.zeros(cap, dtype)
        self.buf_u8 = self.buf.view(np.uint8).reshape(cap, -1)
        self._lost_seen = 0

    def drain(self) -> tuple[np.ndarray, int]:
        """The new events (a view into the buffer: copy before the next drain), and
        the events lost since the last drain."""
        n = _drain(self.words, self.seqs, self.rows, self.cursors, self.buf_u8, len(self.buf))
        lost = int(self.cursors[1]) - self._lost_seen
        self._lost_seen = int(self.cursors[1])
        return self.buf[:n], lost


class Recorder:
    """The recorder thread over ``mem``'s rings; ``start``, then ``stop`` (which
    writes what is buffered)."""

    def __init__(self, cfg, instance: str, mem, on_error=None) -> None:
        rc = cfg.recorder
        self.root = recorder_dir(cfg, instance)
        self.poll_s = rc.poll_interval_ms / 1e3
        self.flush_s = rc.flush_interval_s
        self.on_error = on_error
        self.writer = CatalogWriter(self.root, tuple(cfg.appliance.coins),
                                    retention_days=rc.retention_days, max_bytes=int(rc.max_gb * 1e9),
                                    min_free_bytes=int(rc.min_free_gb * 1e9))
        self.taps = {MARKET: _Tap(mem.md, records.MD_EVENT, from_start=True),
                     FILLS: _Tap(mem.fills, records.FILL_EVENT, from_start=True),
                     ORDERS: _Tap(mem.orders, records.ORDER_EVENT, from_start=True),
                     FUNDINGS: _Tap(mem.user_ring, records.USER_EVENT, from_start=True)}
        self.n_coins = len(cfg.appliance.coins)
        self._fundings_seen: set[tuple] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self.polls = 0
        self.poll_ns_total = 0  # time spent draining (the recorder's own cost)

    @property
    def status_path(self) -> Path:
        return self.root / STATUS_NAME

    def start(self) -> None:
        log.info("recorder: writing market data, fills, orders and fundings to %s", self.root)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def status(self) -> dict[str, object]:
        return {**self.writer.status.to_dict(), "dir": str(self.root), "ts_ns": time.time_ns(),
                "pending_rows": self.writer.pending_rows(), "polls": self.polls,
                "poll_ns_total": self.poll_ns_total}

    def poll(self) -> None:
        """Drain every ring once into the writer's buffer."""
        t0 = time.perf_counter_ns()
        for kind, tap in self.taps.items():
            recs, lost = tap.drain()
            if kind == FUNDINGS:
                recs = self._new_fundings(recs)
            self.writer.add(kind, recs, lost)
        self.polls += 1
        self.poll_ns_total += time.perf_counter_ns() - t0

    def _new_fundings(self, ev: np.ndarray) -> np.ndarray:
        """The user events that are funding payments not recorded yet (timed copies of
        our coins, each (coin, time, amount, position) once)."""
        keep = np.flatnonzero((ev["kind"] == UE_FUNDING) & (ev["time_ms"] > 0) & (ev["coin"] < self.n_coins))
        new = []
        for i in keep:
            key = (int(ev["coin"][i]), int(ev["time_ms"][i]), round(float(ev["usdc"][i]), 8),
                   round(float(ev["szi"][i]), 8))
            if key not in self._fundings_seen:
                self._fundings_seen.add(key)
                new.append(i)
        if len(self._fundings_seen) > 100_000:  # years of hourly payments: forget the oldest half
            cut = sorted(k[1] for k in self._fundings_seen)[len(self._fundings_seen) // 2]
            self._fundings_seen = {k for k in self._fundings_seen if k[1] >= cut}
        return ev[np.array(new, dtype=np.int64)]

    def flush(self) -> None:
        self.writer.flush()
        self._write_status()

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_s
        while True:
            stopping = self._stop.wait(self.poll_s)
            try:
                self.poll()
                if stopping or time.monotonic() >= next_flush:
                    next_flush = time.monotonic() + self.flush_s
                    self.flush()
            except Exception:  # noqa: BLE001 - the recorder must never stop the watchdog
                log.exception("recorder: a cycle failed; trading goes on")
                if self.on_error is not None:
                    self.on_error()
            if stopping:
                return

    def _write_status(self) -> None:
        tmp = self.status_path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(self.status()))
            os.replace(tmp, self.status_path)
        except OSError:
            pass  # a full disk: the writer's status and the log already say so
