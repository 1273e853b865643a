"""The old system's protections, for the ``legacy`` yardstick and the dual-run log.

Discrete zones (Green < 60 % <= Yellow < 80 % <= Red < 100 % <= Kill), the binary
gate at 50 % (NoQuote / OnlyBids / OnlyAsks) and the toxicity size cut of 3-17 %.
The drift clamp is ``glft.drift_shift_bps`` with a clamp. In ``unified`` only the
gate is computed, and only logged in the ladder (``legacy_gate``), never acted on.
"""

from numba import njit

ZONE_GREEN = 0
ZONE_YELLOW = 1
ZONE_RED = 2
ZONE_KILL = 3
ZONE_NAMES = ("green", "yellow", "red", "kill")

GATE_BOTH = 0
GATE_ONLY_BIDS = 1
GATE_ONLY_ASKS = 2
GATE_NONE = 3
GATE_NAMES = ("both", "only_bids", "only_asks", "no_quote")

YELLOW_SPREAD_MULT = 1.5
RED_SPREAD_MULT = 2.0
RED_WIDEN_BPS = 10.0


@njit(cache=True)
def zone(util):
    if util >= 1.0:
        return ZONE_KILL
    if util >= 0.8:
        return ZONE_RED
    if util >= 0.6:
        return ZONE_YELLOW
    return ZONE_GREEN


@njit(cache=True)
def zone_half_spread_bps(half_bps, z):
    """The old zone widening of a side's half-spread (a jump at each boundary)."""
    if z == ZONE_YELLOW:
        return half_bps * YELLOW_SPREAD_MULT
    if z >= ZONE_RED:
        return half_bps * RED_SPREAD_MULT + RED_WIDEN_BPS
    return half_bps


@njit(cache=True)
def gate(q, util_threshold, should_pull):
    """The old binary quote gate's decision at signed utilization ``q``."""
    if should_pull:
        return GATE_NONE
    if q >= util_threshold:
        return GATE_ONLY_ASKS
    if q <= -util_threshold:
        return GATE_ONLY_BIDS
    return GATE_BOTH


@njit(cache=True)
def gate_allows(g, side):
    if g == GATE_NONE:
        return False
    if g == GATE_ONLY_BIDS:
        return side > 0
    if g == GATE_ONLY_ASKS:
        return side < 0
    return True


@njit(cache=True)
def toxicity_size_mult(p_toxic):
    """1 - (3 % .. 17 %): the cosmetic size cut the old system applied."""
    return 1.0 - (0.03 + 0.14 * min(max(p_toxic, 0.0), 1.0))
