"""A coin's TargetLadder to its paced plan in one kernel call (the live gateway's planner).

``plan_ladder`` does, over arrays and with no Python object between, what the gateway
did in Python per level: the ladder's targets (``reconcile_kernel.ladder_targets``:
passive rounding, the lot, each level's edge), the test that the ladder moved beyond the
requote tolerances since the targets last planned (``ladder_moved``), the plan
(``reconcile_kernel.plan``) and the requote pacing (``pacing_kernel.ration``, with each
row's real live and target index, as the backtester calls it). The gateway builds
Python objects only for the rows that act (modify, cancel, place).

``ladder_moved`` compares per side, best price first (bids down, asks up; equal prices
in ladder order): another level count on a side, or a level whose price or size moved
beyond the tolerances (``reconcile_kernel.within``, relative to the new level), is a move.
"""

import numpy as np
from numba import njit

from shm_layout.constants import MAX_LEVELS

from . import pacing_kernel as pk
from . import reconcile_kernel as rk

N_TARGETS = 2 * MAX_LEVELS  # a ladder's targets at most (both sides)
NOT_MOVED = -1  # ``plan_ladder``'s row count when the ladder did not move: nothing planned

# rows of the float target arrays (``tf``: px, sz, edge, value; ``pf``: px, sz)
F_PX = 0
F_SZ = 1
F_EDGE = 2
F_VALUE = 3


def new_target_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Room for one ladder's targets: is_buy (bool), px / sz / edge / value rows (f8), level (i8)."""
    return np.zeros(N_TARGETS, np.bool_), np.zeros((4, N_TARGETS)), np.zeros(N_TARGETS, np.int64)


def new_planned_arrays(n_coins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The targets last planned, per coin: is_buy, px / sz rows, count (-1: none yet)."""
    return (np.zeros((n_coins, N_TARGETS), np.bool_), np.zeros((n_coins, 2, N_TARGETS)),
            np.full(n_coins, -1, np.int64))


@njit(cache=True)
def _side_order(is_buy, px, n, buy, keys, idx):
    """Indices of the side's targets, best price first, stable; returns how many."""
    m = 0
    for k in range(n):
        if is_buy[k] == buy:
            keys[m] = -px[k] if buy else px[k]
            idx[m] = k
            m += 1
    rk._sort_by(keys, idx, m)
    return m


@njit(cache=True)
def ladder_moved(prev_is_buy, prev_px, prev_sz, n_prev, is_buy, px, sz, n, px_tolerance_bps,
                 sz_tolerance_frac):
    """True when the targets (``is_buy``, ``px``, ``sz``; ``n``) differ materially from
    those last planned (``n_prev`` < 0: none yet): another count, or per side best
    first a level beyond the tolerances."""
    if n_prev < 0 or n_prev != n:
        return True
    keys = np.empty((2, max(n, 1)))
    idx = np.empty((2, max(n, 1)), np.int64)
    for buy in (True, False):
        ma = _side_order(prev_is_buy, prev_px, n_prev, buy, keys[0], idx[0])
        mb = _side_order(is_buy, px, n, buy, keys[1], idx[1])
        if ma != mb:
            return True
        for k in range(ma):
            a = idx[0, k]
            b = idx[1, k]
            if not rk.within(prev_px[a], prev_sz[a], px[b], sz[b], px_tolerance_bps, sz_tolerance_frac):
                return True
    return False


@njit(cache=True)
def plan_ladder(ladders, c, sz_decimals, forced, side, pb, pf, pn, live_is_buy, live_px, live_sz,
                n_live, cfg, pace_cfg, pace_state, now_s, rate_per_s, volume_usd, tb, tf, tl, out):
    """Coin ``c``'s ladder (``ladders[c]``, TARGET_LADDER) against its live orders.

    Targets go into ``tb`` / ``tf`` / ``tl`` (``new_target_arrays``). Unless ``forced``
    or a side is restricted (``side`` != 0: reducing-only), a ladder within the
    tolerances (``cfg``) of the targets last planned (``pb`` / ``pf`` / ``pn``,
    ``new_planned_arrays``) is not planned: returns (``NOT_MOVED``, 0, 0, targets).
    Otherwise they become the last planned; the plan (``side`` > 0: buys only, < 0:
    sells only) goes into ``out`` and is paced (``pace_cfg``, ``pace_state``: the
    ``RequotePacer``'s; optional modifies without budget become keeps, places
    ``ACT_DEFERRED``). Returns (rows, targets dropped as too small, actions deferred,
    targets)."""
    px = tf[F_PX]
    sz = tf[F_SZ]
    nt = rk.ladder_targets(ladders[c], sz_decimals, tb, px, sz, tl, tf[F_EDGE], tf[F_VALUE])
    if not forced and side == 0 and not ladder_moved(pb[c], pf[c, F_PX], pf[c, F_SZ], pn[c], tb, px, sz,
                                                     nt, cfg[rk.C_PX_TOLERANCE_BPS],
                                                     cfg[rk.C_SZ_TOLERANCE_FRAC]):
        return NOT_MOVED, 0, 0, nt
    for k in range(nt):
        pb[c, k] = tb[k]
        pf[c, F_PX, k] = px[k]
        pf[c, F_SZ, k] = sz[k]
    pn[c] = nt
    cost = pk.request_cost_now(pace_cfg, pace_state, volume_usd)
    n, dropped = rk.plan(live_is_buy, live_px, live_sz, n_live, tb, px, sz, tf[F_EDGE], tf[F_VALUE], nt,
                         side >= 0, side <= 0, cfg, out, cost)
    deferred = pk.ration(out, n, live_is_buy, live_px, live_sz, tb, px, sz, tl, pace_cfg, pace_state,
                         now_s, rate_per_s, volume_usd)
    return n, dropped, deferred, nt
