"""Inter-process primitives over shared memory: ordering intrinsics, the ring, the
seqlock, and a clock for numba code."""

import numpy as np


def byte_rows(records: np.ndarray) -> np.ndarray:
    """The same memory as ``records`` seen as (n, record_bytes) uint8: the shape the
    ring and seqlock copy rows in."""
    return records.view(np.uint8).reshape(len(records), -1)
