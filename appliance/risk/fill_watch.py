"""The watchdog's reader of the fills ring: once per cycle (``read``, in
``RiskView.refresh``), for the checks and for the P&L attribution; and the check of
our fills far from the mid at the time (``outside``).

A fill priced more than ``risk.max_fill_deviation_bps`` from its ``mid_px`` means an
order that should not have been resting there (a stale ladder, a fat finger, a bad
price from the venue). The cursor lives in the risk process's control slot
(``fills_cursor``, ``fills_lost``), so a restarted watchdog resumes where it stopped
and misses none.
"""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from appliance.ipc import ring
from shm_layout import records

MAX_FILLS_PER_CYCLE = 4096


@njit(cache=True)
def _read_next(words, seqs, rows, cursors, dst_row):
    """One fill at cursors[0] (lost events counted in cursors[1]); True if read."""
    return ring.read_next(words, seqs, rows, cursors, 0, dst_row)


@dataclass
class OutsideFill:
    coin: int
    px: float
    mid_px: float
    deviation_bps: float  # inf when the price is not finite


def fill_deviation_bps(px: float, mid_px: float) -> float | None:
    """|px - mid| in bps of the mid; None when the mid is not known; inf for a bad price."""
    if not (math.isfinite(mid_px) and mid_px > 0.0):
        return None
    if not (math.isfinite(px) and px > 0.0):
        return math.inf
    return abs(px - mid_px) / mid_px * 1e4


class FillWatch:
    def __init__(self, mem, slot: np.void) -> None:
        self.words, self.seqs, self.rows = mem.fills.ring_words, mem.fills.seqs, mem.fills.rows
        self.slot = slot
        self.cursors = np.zeros(2, np.int64)
        cur = int(slot["fills_cursor"])
        # A first start reads every fill still in the ring: they are this instance's.
        self.cursors[0] = cur if cur > 0 else ring.start_cursor(self.words, from_start=True)
        self.cursors[1] = slot["fills_lost"]
        self._buf = np.zeros(MAX_FILLS_PER_CYCLE, records.FILL_EVENT)
        self._buf_u8 = self._buf.view(np.uint8).reshape(MAX_FILLS_PER_CYCLE, -1)

    def read(self) -> np.ndarray:
        """The fills published since the last read (FILL_EVENT records, a copy; at most
        ``MAX_FILLS_PER_CYCLE``, the rest next time)."""
        n = 0
        while n < MAX_FILLS_PER_CYCLE and _read_next(self.words, self.seqs, self.rows, self.cursors,
                                                     self._buf_u8[n]):
            n += 1
        self.slot["fills_cursor"], self.slot["fills_lost"] = self.cursors[0], self.cursors[1]
        return self._buf[:n].copy()

    def outside(self, max_deviation_bps: float, fills: np.ndarray | None = None) -> OutsideFill | None:
        """The worst of ``fills`` (default: read the new ones) beyond the limit, if any."""
        worst = None
        for f in self.read() if fills is None else fills:
            dev = fill_deviation_bps(float(f["px"]), float(f["mid_px"]))
            if dev is not None and dev > max_deviation_bps and (worst is None
                                                                  or dev > worst.deviation_bps):
                worst = OutsideFill(int(f["coin"]), float(f["px"]), float(f["mid_px"]), dev)
        return worst
