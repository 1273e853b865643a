"""Pacing a market source: which events are due now, at recorded pace x speed.

An event is due (recv_ts - first recv_ts) / speed after the start, or at once with
speed 0. A replay that ends starts again (``loop``) with its timestamps shifted past
the last pass, so time never runs backwards. Used by the feed process (into the md
ring) and by the local venue (into its matching engine).
"""

import time

import numpy as np

LOOP_GAP_NS = 1_000_000_000  # between the end of a replay pass and the next


class Pacer:
    """Hands out the events that are due, across chunks and replay passes."""

    def __init__(self, source, speed: float, loop: bool, resume_after_ns: int = 0):
        self.source = source
        self.resume_after_ns = resume_after_ns  # skip what an earlier run published
        self.speed = speed
        self.loop = loop
        self.passes = 0
        self.finished = False
        self._shift_ns = 0
        self._last_ts = 0
        self._t0_src = None
        self._t0_mono = 0
        self._new_pass()

    def _new_pass(self) -> None:
        self._chunks = self.source.chunks()
        self._chunk = None
        self._pos = 0
        self.passes += 1

    def _next_chunk(self) -> bool:
        for chunk in self._chunks:
            if len(chunk):
                if self._shift_ns:
                    chunk = chunk.copy()
                    chunk["exch_ts_ns"] += self._shift_ns
                    chunk["recv_ts_ns"] += self._shift_ns
                self._chunk, self._pos = chunk, 0
                return True
        if not self.loop:
            self.finished = True
            return False
        first = None
        self._new_pass()
        for chunk in self._chunks:  # peek the first event time of the new pass
            if len(chunk):
                first = int(chunk["recv_ts_ns"][0])
                self._shift_ns = self._last_ts + LOOP_GAP_NS - first
                chunk = chunk.copy()
                chunk["exch_ts_ns"] += self._shift_ns
                chunk["recv_ts_ns"] += self._shift_ns
                self._chunk, self._pos = chunk, 0
                return True
        self.finished = True  # an empty source
        return False

    def due(self, max_events: int | None = None) -> tuple[np.ndarray | None, int, int]:
        """(chunk, start, stop): the events due now, possibly none; at most
        ``max_events`` of them when given (the rest stay due for the next call)."""
        if self.finished:
            return None, 0, 0
        exhausted = self._chunk is None or self._pos >= len(self._chunk)
        if exhausted and not self._next_chunk():
            return None, 0, 0
        chunk, start = self._chunk, self._pos
        ts = chunk["recv_ts_ns"]
        if self.resume_after_ns:
            skip = int(np.searchsorted(ts, self.resume_after_ns, side="right"))
            if skip > start:
                self._last_ts = int(ts[skip - 1])
                self._pos = start = skip
            if start >= len(chunk):
                return None, 0, 0
            self.resume_after_ns = 0
        if self._t0_src is None:
            self._t0_src = int(ts[start])
            self._t0_mono = time.monotonic_ns()
        if self.speed == 0:
            stop = len(chunk)
        else:
            now_src = self._t0_src + (time.monotonic_ns() - self._t0_mono) * self.speed
            stop = int(np.searchsorted(ts, now_src, side="right"))
            stop = max(stop, start)
        if max_events is not None:
            stop = min(stop, start + max(int(max_events), 0))
        self._pos = stop
        if stop > start:
            self._last_ts = int(ts[stop - 1])
        return chunk, start, stop
