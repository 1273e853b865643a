"""Why each request of a plan is sent: one reason per acting row, njit (issue 16).

The pacing (``pacing_kernel.ration``) decides urgency from these reasons, and the
backtester counts the requests it sends by reason (``venue_exec``, the report's
``requests_by_reason``), so the breakdown an operator reads is the rule the pacing applied.

Reasons (exclusive; ``R_URGENT`` marks the urgent ones, never rationed):

* places: the first order of a side with none resting (urgent), a further level;
* modifies: risk, price (the order rests more aggressively than its target beyond the
  urgent tolerance: urgent), risk, size (larger than it by more than the urgent size
  share while the side rests more than its targets: urgent),
  edge (within the keep tolerance but its edge at its own price is not positive), move
  (its target moved beyond the keep tolerance), size (the price would be kept, the size
  is beyond the size tolerance);
* cancels: side (the side has no target at all: pulled, reducing-only, every level
  dropped), surplus (the side has fewer targets than orders: a level left the ladder).
"""

import math

import numpy as np
from numba import njit

from .reconcile_kernel import (
    ACT_CANCEL,
    ACT_KEEP,
    ACT_MODIFY,
    ACT_PLACE,
    C_KEEP_DEPTH_BPS,
    C_KEEP_TO_EDGE_ZERO,
    C_KEEP_TOLERANCE_BPS,
    C_PX_TOLERANCE_BPS,
    C_SZ_TOLERANCE_FRAC,
    C_URGENT_SZ_FRAC,
    C_URGENT_TOLERANCE_BPS,
    is_urgent_modify,
)

R_NONE = -1  # a keep (or a row the pacing put off)
R_PLACE_FIRST = 0
R_PLACE_LEVEL = 1
R_MODIFY_RISK = 2  # more aggressive than its target beyond the urgent tolerance
R_MODIFY_EDGE = 3
R_MODIFY_MOVE = 4
R_MODIFY_SIZE = 5
R_CANCEL_SIDE = 6
R_CANCEL_SURPLUS = 7
R_MODIFY_RISK_SZ = 8  # larger than its target while its side rests more than its targets
N_REASONS = 9
REASON_NAMES = ("place_first_of_side", "place_further_level", "modify_risk_px", "modify_edge",
                "modify_move", "modify_size", "cancel_side_empty", "cancel_surplus_level",
                "modify_risk_size")


@njit(cache=True)
def is_urgent(reason: int) -> bool:
    """Urgent reasons: sent at once, never rationed."""
    return (reason == R_PLACE_FIRST or reason == R_MODIFY_RISK or reason == R_MODIFY_RISK_SZ
            or reason == R_CANCEL_SIDE or reason == R_CANCEL_SURPLUS)


@njit(cache=True)
def _sides_over_target(out, n, live_is_buy, live_sz, tgt_is_buy, tgt_sz, sz_tolerance_frac):
    """Per side (0 buy, 1 sell): do the orders that stay (kept or modified) rest more size
    than the side's targets (kept, modified, placed) by more than the size tolerance?"""
    live_tot = np.zeros(2)
    tgt_tot = np.zeros(2)
    for r in range(n):
        k = out[r, 0]
        if k == ACT_KEEP or k == ACT_MODIFY:
            j = out[r, 1]
            live_tot[0 if live_is_buy[j] else 1] += live_sz[j]
        if k == ACT_KEEP or k == ACT_MODIFY or k == ACT_PLACE:
            i = out[r, 2]
            tgt_tot[0 if tgt_is_buy[i] else 1] += tgt_sz[i]
    over = np.zeros(2, np.bool_)
    for s in range(2):
        over[s] = live_tot[s] > tgt_tot[s] * (1.0 + sz_tolerance_frac)
    return over


@njit(cache=True)
def _modify_reason(is_buy, live_px, live_sz, px, sz, edge_bps, cfg, over):
    utol = max(cfg[C_URGENT_TOLERANCE_BPS], cfg[C_PX_TOLERANCE_BPS])
    usf = cfg[C_URGENT_SZ_FRAC] if over else math.inf  # price only, unless the side is over
    if is_urgent_modify(is_buy, live_px, live_sz, px, sz, utol, cfg[C_SZ_TOLERANCE_FRAC], usf):
        # the price first: an order too aggressive is risk whatever its size
        if is_urgent_modify(is_buy, live_px, live_sz, px, sz, utol, cfg[C_SZ_TOLERANCE_FRAC], math.inf):
            return R_MODIFY_RISK
        return R_MODIFY_RISK_SZ
    off_bps = abs(live_px - px) / px * 1e4
    deeper_bps = ((px - live_px) if is_buy else (live_px - px)) / px * 1e4
    ktol = max(cfg[C_KEEP_TOLERANCE_BPS], cfg[C_PX_TOLERANCE_BPS])
    if deeper_bps >= 0.0:
        ktol = max(ktol, cfg[C_KEEP_DEPTH_BPS])
    elif cfg[C_KEEP_TO_EDGE_ZERO] != 0.0:
        ktol = math.inf
    if off_bps > ktol:
        return R_MODIFY_MOVE
    # within the keep band: kept unless its edge is gone
    if off_bps > cfg[C_PX_TOLERANCE_BPS] and not (math.isfinite(edge_bps) and edge_bps + deeper_bps > 0.0):
        return R_MODIFY_EDGE
    return R_MODIFY_SIZE


@njit(cache=True)
def classify(out, n, live_is_buy, live_px, live_sz, tgt_is_buy, tgt_px, tgt_sz, tgt_edge, cfg,
             reasons):
    """The reason of each row of a plan (``out[:n]``) into ``reasons[:n]`` (``R_NONE``
    for keeps and deferred places); ``tgt_edge`` may be all NaN (not known)."""
    quoted = np.zeros(2, np.bool_)  # by a keep or a modify
    n_tgt = np.zeros(2, np.int64)
    for r in range(n):
        k = out[r, 0]
        if k == ACT_KEEP or k == ACT_MODIFY:
            quoted[0 if live_is_buy[out[r, 1]] else 1] = True
        if k == ACT_KEEP or k == ACT_MODIFY or k == ACT_PLACE:
            n_tgt[0 if tgt_is_buy[out[r, 2]] else 1] += 1
    over = _sides_over_target(out, n, live_is_buy, live_sz, tgt_is_buy, tgt_sz, cfg[C_SZ_TOLERANCE_FRAC])
    for r in range(n):
        k = out[r, 0]
        reasons[r] = R_NONE
        if k == ACT_CANCEL:
            s = 0 if live_is_buy[out[r, 1]] else 1
            reasons[r] = R_CANCEL_SIDE if n_tgt[s] == 0 else R_CANCEL_SURPLUS
        elif k == ACT_MODIFY:
            j = out[r, 1]
            i = out[r, 2]
            s = 0 if live_is_buy[j] else 1
            reasons[r] = _modify_reason(live_is_buy[j], live_px[j], live_sz[j], tgt_px[i], tgt_sz[i],
                                        tgt_edge[i], cfg, over[s])
        elif k == ACT_PLACE:
            s = 0 if tgt_is_buy[out[r, 2]] else 1
            if quoted[s]:
                reasons[r] = R_PLACE_LEVEL
            else:
                quoted[s] = True
                reasons[r] = R_PLACE_FIRST


@njit(cache=True)
def tally(out, n, reasons, counts):
    """Add the rows still acting (after the pacing) to ``counts`` by reason."""
    for r in range(n):
        k = out[r, 0]
        if (k == ACT_CANCEL or k == ACT_MODIFY or k == ACT_PLACE) and reasons[r] >= 0:
            counts[reasons[r]] += 1.0
