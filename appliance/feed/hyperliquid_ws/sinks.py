"""Sinks that publish the client's decoded buffers into the appliance's rings.

``RingSink(segment, ring_bells)`` is a ``Sink``: called with (buffer, n) after each frame, it
stamps ``pub_mono_ns``, publishes the n records into the segment's ring (md
for MD_EVENT, their used prefix only; user_ring for USER_EVENT) and rings the
readers' doorbells at once (``ring_bells``: the estimator for md, the gateway for user
events; the feed's own loop sleeps on a timer and would ring them up to
``wait.sleep_max_us`` late). The single writer of a ring is the client's thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from appliance.ipc import byte_rows, ring
from shm_layout.records import MD_EVENT

from ..md_publish import publish_md_many


class RingSink:
    def __init__(self, segment, ring_bells: Callable[[], None] | None = None) -> None:
        self.words, self.seqs, self.rows = segment.ring_words, segment.seqs, segment.rows
        self.ring_bells = ring_bells
        # MD_EVENT records carry only their used bytes; every other record goes whole
        self._publish = (publish_md_many if segment.spec.record == MD_EVENT
                         else ring.publish_many)
        self.published = 0
        self._buf: np.ndarray | None = None
        self._buf_rows: np.ndarray | None = None

    def __call__(self, buf: np.ndarray, n: int) -> None:
        if buf is not self._buf:  # the writers reuse one buffer: view it once
            self._buf, self._buf_rows = buf, byte_rows(buf)
        now = time.monotonic_ns()
        buf["pub_mono_ns"][:n] = now
        self._publish(self.words, self.seqs, self.rows, self._buf_rows, 0, n, now)
        self.published += n
        if self.ring_bells is not None:
            self.ring_bells()
