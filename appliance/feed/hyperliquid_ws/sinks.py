"""Sinks that publish the client's decoded buffers into the appliance's rings.

``RingSink(segment)`` is a ``Sink``: called with (buffer, n) after each frame, it
stamps ``pub_mono_ns`` and publishes the n records into the segment's ring (md
for MD_EVENT, user_ring for USER_EVENT). The single writer of a ring is the
client's thread.
"""

from __future__ import annotations

import time

import numpy as np

from appliance.ipc import byte_rows, ring


class RingSink:
    def __init__(self, segment) -> None:
        self.words, self.seqs, self.rows = segment.ring_words, segment.seqs, segment.rows
        self.published = 0
        self._buf: np.ndarray | None = None
        self._buf_rows: np.ndarray | None = None

    def __call__(self, buf: np.ndarray, n: int) -> None:
        if buf is not self._buf:  # the writers reuse one buffer: view it once
            self._buf, self._buf_rows = buf, byte_rows(buf)
        now = time.monotonic_ns()
        buf["pub_mono_ns"][:n] = now
        ring.publish_many(self.words, self.seqs, self.rows, self._buf_rows, 0, n, now)
        self.published += n
