"""Log-bucketed latency histogram kept in a process's control slot.

Bucket b counts values in [2^(b/4), 2^((b+1)/4)) ns: 19 % resolution from 1 ns to
69 s in 144 u32 counters, updated with one increment and no allocation.
"""

import math

import numpy as np
from numba import njit

from shm_layout.constants import LAT_BUCKETS, LAT_BUCKETS_PER_OCTAVE


@njit(cache=True)
def bucket_of(ns):
    if ns < 1:
        return 0
    b = int(math.log2(ns) * LAT_BUCKETS_PER_OCTAVE)
    return min(b, LAT_BUCKETS - 1)


@njit(cache=True)
def record(hist, ns):
    hist[bucket_of(ns)] += 1


def quantiles(hist: np.ndarray, qs=(0.5, 0.99)) -> list[float | None]:
    """Quantiles in ns (each bucket's geometric midpoint), None when empty."""
    counts = np.asarray(hist, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return [None for _ in qs]
    cum = np.cumsum(counts)
    out = []
    for q in qs:
        b = int(np.searchsorted(cum, q * total, side="left"))
        out.append(2 ** ((b + 0.5) / LAT_BUCKETS_PER_OCTAVE))
    return out
