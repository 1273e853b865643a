"""Size allocation of one side of the ladder.

Maximizing sum_i s_i E_i - (rho/2) sum_i P_i s_i^2 (expected PnL against the
variance of the fills) gives s_i proportional to E_i / P_i, the per-fill edge:
deeper levels fill less often and are worth more per fill, so they get more size.
Then the constraints: the side's budget (total size, position headroom, margin),
sizes floored to the lot (``hyperliquid.rules.floor_to_lot``), and every level at least
the minimum notional; a level
that cannot reach it is dropped (the least valuable first) and the budget goes to
the others. No allocation: the weights arrive in ``sz`` and leave as sizes.
"""

import math

from numba import njit

from appliance.hyperliquid.rules import floor_to_lot, lots_per_unit


@njit(cache=True)
def allocate(px, sz, n, budget_sz, min_notional_usd, sz_decimals):
    """``sz[:n]`` holds weights (>= 0) on entry and sizes on exit (0 = dropped).
    Returns the number of levels with a size."""
    if n == 0:
        return 0
    per_unit = lots_per_unit(sz_decimals)
    if not budget_sz > 0.0:
        for i in range(n):
            sz[i] = 0.0
        return 0
    for _ in range(n + 1):
        w_sum = 0.0
        for i in range(n):
            if sz[i] > 0.0:
                w_sum += sz[i]
        if w_sum <= 0.0:
            return 0
        worst = -1
        worst_w = math.inf
        for i in range(n):
            w = sz[i]
            small = w > 0.0 and floor_to_lot(budget_sz * w / w_sum, per_unit) * px[i] < min_notional_usd
            if small and w < worst_w:
                worst_w = w
                worst = i
        if worst < 0:
            break
        sz[worst] = 0.0  # too small to post: its share goes to the rest
    kept = 0
    w_sum = 0.0
    for i in range(n):
        if sz[i] > 0.0:
            w_sum += sz[i]
    for i in range(n):
        if sz[i] > 0.0:
            sz[i] = floor_to_lot(budget_sz * sz[i] / w_sum, per_unit)
            if sz[i] > 0.0:
                kept += 1
    return kept
