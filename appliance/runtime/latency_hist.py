"""Reading the log-bucketed latency histograms (``latency.py`` writes them).

numpy only, apart from the numba half, so ``mmctl status`` and the metrics exporter
read a histogram without loading numba.
"""

import numpy as np

from shm_layout.constants import LAT_BUCKETS_PER_OCTAVE


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
