"""Prediction ids (seed 002 part 1): every ladder level carries one; the gateway
attaches it to the order (FILL_EVENT.level_id), so a fill can be scored against
the fill probability and adverse selection predicted for it.

    id = coin << 56 | ladder_id << 8 | is_ask << 7 | level       (> 0 once quoted)
"""

import numpy as np
from numba import njit


@njit(cache=True)
def prediction_id(coin, ladder_id, side, level):
    c = np.int64(coin) & 0x7F
    lid = np.int64(ladder_id) & 0xFFFFFFFFFFFF
    return (c << 56) | (lid << 8) | (np.int64(1 if side < 0 else 0) << 7) | (np.int64(level) & 0x7F)


def decode_prediction_id(pid: int) -> tuple[int, int, int, int]:
    """(coin, ladder_id, side (+1 bid / -1 ask), level)."""
    return (pid >> 56) & 0x7F, (pid >> 8) & 0xFFFFFFFFFFFF, -1 if (pid >> 7) & 1 else 1, pid & 0x7F
