"""The one reconciler: target ladder + live orders -> keep / modify / cancel / place.

A pure ``@njit`` function over arrays, so the three executors run the same code:
the live gateway (``reconcile_plan.plan_coin`` wraps it in dataclasses), the paper
executor (``paper.reconcile``) and the backtester (``backtest.venue_exec``, from its
njit loop). It imports nothing of the gateway process, only the venue rules.

``plan`` (per side, best price first for both targets and live orders):

1. a target under the minimum notional is dropped (counted);
2. keep: each target takes the closest unused live order within ``sz_tolerance_frac``
   of its size (or smaller, down to ``keep_sz_frac`` less: size hysteresis) and, in
   price, either within ``px_tolerance_bps`` or within ``keep_tolerance_bps`` with a
   positive edge at its own price (requote hysteresis, issue 16): that order keeps its
   queue place (levels that merely reorder keep their orders instead of swapping them).
   The edge of a live order at its own price is the target level's per-fill edge
   (E[PnL] / fill probability, ``ladder_targets``) plus how much deeper it rests than
   the target (bps; less when it rests closer to the mid). A resting order with queue
   priority and edge is worth more than a fresh one a little better placed: it is
   modified only when its target moved beyond the tolerance, its edge turned negative,
   its size grew or shrank beyond the size bands, or its level left the ladder
   (E[PnL] <= 0, a pulled side);
3. the targets and live orders left are paired in price order: a modify each (or,
   with ``use_modify`` off, a cancel and a place), except where the target is worth
   less than a request costs now (``below_request_cost``: its E[PnL] on its notional
   below the maker fee on the USDC that earns a request back, as far as the volume
   budget has run down; a deep level that hardly fills) and its order adds no risk
   (edge at its own price, resting deeper or within the keep tolerance nearer, not
   larger beyond the urgent size share): that order is kept (issue 16);
4. live orders left over are cancelled, targets left over are placed.

A side not allowed (reducing-only mode) cancels everything on it.

Requote pacing over a plan (``ration``, the token bucket) is ``pacing_kernel``.

A plan is an int64 array ``out[n, 3]`` of rows (kind, live index, target index),
per side (buys first): keeps, modifies, cancels, places, each in planning order.
"""

import math

import numpy as np
from numba import njit

from appliance.hyperliquid import rules
from shm_layout.constants import MAX_LEVELS

ACT_KEEP = 0
ACT_MODIFY = 1
ACT_CANCEL = 2
ACT_PLACE = 3
ACT_DEFERRED = 4  # a place the pacing put off
ACT_KIND_NAMES = ("keep", "modify", "cancel", "place", "deferred")

# cfg vector (``plan_config_vector`` builds it from the gateway config)
C_PX_TOLERANCE_BPS = 0
C_SZ_TOLERANCE_FRAC = 1
C_USE_MODIFY = 2
C_MIN_NOTIONAL_USD = 3
C_BUDGET_PER_MIN = 4  # optional actions per minute (0: no pacing)
C_BURST = 5
C_URGENT_TOLERANCE_BPS = 6
C_URGENT_SZ_FRAC = 7
C_KEEP_TOLERANCE_BPS = 8  # keep within this when its edge at its own price is positive
C_REQUESTS_PER_USD = 9  # optional actions earned per USDC traded (0: no volume budget)
C_REQUEST_ALLOWANCE = 10  # ... on top of this initial allowance of requests
C_EXHAUSTED_INTERVAL_S = 11  # the budget spent: one optional action per this many s (0: none)
C_KEEP_SZ_FRAC = 12  # keep an order down to this share smaller than its target (0: the tolerance only)
C_KEEP_DEPTH_BPS = 13  # keep band, deeper side: this far deeper than its target (0: keep tolerance)
C_KEEP_TO_EDGE_ZERO = 14  # keep band, nearer side: while its edge is positive, however far (1) or not
C_REQUEST_COST_USD = 15  # a request's price, USD, once the volume budget's allowance is spent (0: off)
N_PLAN_CONFIG = 16



def plan_config_vector(px_tolerance_bps: float, sz_tolerance_frac: float, use_modify: bool,
                       min_notional_usd: float, budget_per_min: float = 0.0, burst: float = 20.0,
                       urgent_tolerance_bps: float = 5.0, urgent_sz_frac: float = 0.5,
                       keep_tolerance_bps: float = 0.0, requests_per_usd: float = 0.0,
                       request_allowance: float = 0.0, exhausted_interval_s: float = 0.0,
                       keep_sz_frac: float = 0.0, keep_depth_bps: float = 0.0,
                       keep_to_edge_zero: bool = False, request_cost_usd: float = 0.0) -> np.ndarray:
    """The reconciler's and pacing's settings as one float vector (``keep_tolerance_bps``
    below ``px_tolerance_bps``: no hysteresis beyond it; ``requests_per_usd`` 0: no
    volume-earned request budget; ``keep_sz_frac`` 0: no size hysteresis beyond
    ``sz_tolerance_frac``; ``request_cost_usd`` 0: every level is worth its requests)."""
    c = np.zeros(N_PLAN_CONFIG)
    c[C_PX_TOLERANCE_BPS] = px_tolerance_bps
    c[C_SZ_TOLERANCE_FRAC] = sz_tolerance_frac
    c[C_USE_MODIFY] = 1.0 if use_modify else 0.0
    c[C_MIN_NOTIONAL_USD] = min_notional_usd
    c[C_BUDGET_PER_MIN] = budget_per_min
    c[C_BURST] = burst
    c[C_URGENT_TOLERANCE_BPS] = urgent_tolerance_bps
    c[C_URGENT_SZ_FRAC] = urgent_sz_frac
    c[C_KEEP_TOLERANCE_BPS] = keep_tolerance_bps
    c[C_REQUESTS_PER_USD] = requests_per_usd
    c[C_REQUEST_ALLOWANCE] = request_allowance
    c[C_EXHAUSTED_INTERVAL_S] = exhausted_interval_s
    c[C_KEEP_SZ_FRAC] = keep_sz_frac
    c[C_KEEP_DEPTH_BPS] = keep_depth_bps
    c[C_KEEP_TO_EDGE_ZERO] = 1.0 if keep_to_edge_zero else 0.0
    c[C_REQUEST_COST_USD] = request_cost_usd
    return c


def address_request_cost_usd(maker_fee_bps: float, requests_per_usd: float, mult: float = 1.0) -> float:
    """What one request of the address budget costs, USD: the maker fee on the USDC of
    volume that earns it back (1 / ``requests_per_usd`` of a USDC), times ``mult``. 0
    without a volume budget or at a rebate: a request then costs nothing to earn back."""
    if not (requests_per_usd > 0.0 and maker_fee_bps > 0.0 and mult > 0.0):
        return 0.0
    return mult * maker_fee_bps * 1e-4 / requests_per_usd


def new_plan_buffer(max_orders: int) -> np.ndarray:
    """Room for a plan over ``max_orders`` live orders and as many targets."""
    return np.zeros((2 * max_orders + 2, 3), np.int64)


@njit(cache=True)
def level_edge_bps(epnl_bps, fill_prob):
    """A level's per-fill edge, bps: its E[PnL] over its fill probability (NaN: not known)."""
    if fill_prob > 0.0 and math.isfinite(epnl_bps) and math.isfinite(fill_prob):
        return epnl_bps / fill_prob
    return math.nan


@njit(cache=True)
def level_value_usd(epnl_bps, px, sz):
    """What a level is expected to earn, USD: its E[PnL] (bps of what it posts, over the
    quote kernel's E[PnL] horizon) on its notional (NaN: not known)."""
    if math.isfinite(epnl_bps):
        return epnl_bps * 1e-4 * px * sz
    return math.nan


@njit(cache=True)
def ladder_targets(lad, sz_decimals, tgt_is_buy, tgt_px, tgt_sz, tgt_level, tgt_edge, tgt_value):
    """The levels of a TARGET_LADDER record as targets (bids first), each price rounded
    passively and each size to the lot by ``hyperliquid.rules`` (``sz_decimals`` < 0:
    as they are), each with its per-fill edge (``level_edge_bps``) and its value, USD
    (``level_value_usd``). A pulled ladder has none; a level not positive after rounding
    is skipped. Returns the count."""
    if lad.pulled_reason != 0:
        return 0
    n = 0
    for side in (1, -1):
        n_side = min(lad.n_bids if side > 0 else lad.n_asks, MAX_LEVELS)
        pxs = lad.bid_px if side > 0 else lad.ask_px
        szs = lad.bid_sz if side > 0 else lad.ask_sz
        eps = lad.bid_epnl_bps if side > 0 else lad.ask_epnl_bps
        fps = lad.bid_fill_prob if side > 0 else lad.ask_fill_prob
        for i in range(n_side):
            px = pxs[i]
            sz = szs[i]
            if sz_decimals >= 0:
                px = rules.round_px(px, sz_decimals, side)
                sz = rules.round_sz(sz, sz_decimals) if math.isfinite(sz) else 0.0
            if px > 0.0 and sz > 0.0 and math.isfinite(px) and math.isfinite(sz):
                tgt_is_buy[n] = side > 0
                tgt_px[n] = px
                tgt_sz[n] = sz
                tgt_level[n] = i
                tgt_edge[n] = level_edge_bps(eps[i], fps[i])
                tgt_value[n] = level_value_usd(eps[i], px, sz)
                n += 1
    return n


@njit(cache=True)
def within(live_px: float, live_sz: float, px: float, sz: float, px_tolerance_bps: float,
           sz_tolerance_frac: float) -> bool:
    """A live order close enough to a target to serve it unchanged."""
    return (abs(live_px - px) <= px_tolerance_bps * 1e-4 * px
            and abs(live_sz - sz) <= sz_tolerance_frac * sz)


@njit(cache=True)
def size_kept(live_sz: float, sz: float, sz_tolerance_frac: float, keep_sz_frac: float) -> bool:
    """A live order's size serves a target's: within ``sz_tolerance_frac`` of it, or
    smaller, down to ``keep_sz_frac`` less (size hysteresis, issue 16: the ladder sizes
    its levels by E[PnL], so sizes wander while prices hold; a smaller order adds no
    risk, and resizing it would cost a request and its queue place)."""
    if abs(live_sz - sz) <= sz_tolerance_frac * sz:
        return True
    return live_sz < sz and live_sz >= (1.0 - keep_sz_frac) * sz


@njit(cache=True)
def keeps(is_buy: bool, live_px: float, live_sz: float, px: float, sz: float, edge_bps: float,
          px_tolerance_bps: float, keep_tolerance_bps: float, sz_tolerance_frac: float,
          keep_sz_frac: float = 0.0, keep_depth_bps: float = 0.0,
          keep_to_edge_zero: bool = False) -> bool:
    """A live order serves a target unchanged: its size kept (``size_kept``), its price
    within ``px_tolerance_bps``, or within the keep band while its edge at its own price
    (``edge_bps``, the target's per-fill edge, plus how much deeper the order rests,
    bps) is still positive. The band: ``keep_tolerance_bps`` either side, widened on the
    deeper side to ``keep_depth_bps`` and, with ``keep_to_edge_zero``, on the nearer
    side to where the edge reaches zero (issue 16: a resting order with queue priority
    and edge is worth more than a fresh one better placed). NaN edge: the tight
    tolerance only."""
    if not size_kept(live_sz, sz, sz_tolerance_frac, keep_sz_frac):
        return False
    off_bps = abs(live_px - px) / px * 1e4
    if off_bps <= px_tolerance_bps:
        return True
    if not math.isfinite(edge_bps):
        return False
    deeper_bps = ((px - live_px) if is_buy else (live_px - px)) / px * 1e4
    if deeper_bps >= 0.0:
        band_bps = max(keep_tolerance_bps, keep_depth_bps)
    else:
        band_bps = math.inf if keep_to_edge_zero else keep_tolerance_bps
    return off_bps <= band_bps and edge_bps + deeper_bps > 0.0


@njit(cache=True)
def below_request_cost(value_usd: float, cost_usd: float) -> bool:
    """A level expected to earn less than one request of the address budget costs now
    (``cost_usd``, ``pacing_kernel.request_cost_now``; 0: off): not worth a request to move
    while its order adds no risk (issue 16: a deep level that hardly ever fills)."""
    return cost_usd > 0.0 and math.isfinite(value_usd) and value_usd < cost_usd


@njit(cache=True)
def keeps_below_cost(is_buy: bool, live_px: float, live_sz: float, px: float, sz: float,
                     edge_bps: float, keep_tolerance_bps: float, sz_frac: float) -> bool:
    """A live order serves a target not worth a request (``below_request_cost``) as
    long as it adds no risk: its edge at its own price positive, resting deeper than the
    target or at most ``keep_tolerance_bps`` nearer, and no larger than it by more than
    ``sz_frac`` (the urgent size share: beyond it a resize removes risk)."""
    if live_sz > (1.0 + sz_frac) * sz or not math.isfinite(edge_bps):
        return False
    deeper_bps = ((px - live_px) if is_buy else (live_px - px)) / px * 1e4
    return deeper_bps >= -keep_tolerance_bps and edge_bps + deeper_bps > 0.0


@njit(cache=True)
def is_urgent_modify(is_buy: bool, live_px: float, live_sz: float, px: float, sz: float,
                     px_tolerance_bps: float, sz_tolerance_frac: float,
                     urgent_sz_frac: float) -> bool:
    """A modify that removes risk: the order rests more aggressively than its target
    (a bid above it, an ask below it, beyond ``px_tolerance_bps``) or is larger than
    it by more than ``max(sz_tolerance_frac, urgent_sz_frac)``."""
    tol = px_tolerance_bps * 1e-4 * px
    too_aggressive = (live_px - px > tol) if is_buy else (px - live_px > tol)
    return too_aggressive or live_sz - sz > max(sz_tolerance_frac, urgent_sz_frac) * sz


@njit(cache=True)
def _emit(out, n, kind, j, i):
    out[n, 0] = kind
    out[n, 1] = j
    out[n, 2] = i
    return n + 1


@njit(cache=True)
def _sort_by(keys, idx, n):
    """Sort ``idx[:n]`` by ``keys[:n]`` ascending, stably (as Python's sort), in place:
    insertion sort, no allocation (a side has a handful of orders)."""
    for a in range(1, n):
        k = keys[a]
        v = idx[a]
        b = a - 1
        while b >= 0 and keys[b] > k:
            keys[b + 1] = keys[b]
            idx[b + 1] = idx[b]
            b -= 1
        keys[b + 1] = k
        idx[b + 1] = v


@njit(cache=True)
def _plan_side(out, n, is_buy, allowed, live_is_buy, live_px, live_sz, n_live, tgt_is_buy,
               tgt_px, tgt_sz, tgt_edge, tgt_value, n_tgt, cfg, cost, wf, wi):
    """One side of ``plan`` (``wf``, ``wi``: scratch); returns (rows written so far,
    targets dropped)."""
    sign = 1.0 if is_buy else -1.0
    m = max(n_live, n_tgt)
    lk, tk = wf[0, :m], wf[1, :m]
    lidx, tidx, used, unmatched, rest = wi[0, :m], wi[1, :m], wi[2, :m], wi[3, :m], wi[4, :m]
    # this side's live orders and targets, best price first (stable, as Python's sort)
    nl = 0
    for j in range(n_live):
        if live_is_buy[j] == is_buy:
            lk[nl] = -sign * live_px[j]
            lidx[nl] = j
            nl += 1
    _sort_by(lk, lidx, nl)
    if not allowed:
        for a in range(nl):
            n = _emit(out, n, ACT_CANCEL, lidx[a], -1)
        return n, 0
    nt = 0
    dropped = 0
    for i in range(n_tgt):
        if tgt_is_buy[i] != is_buy:
            continue
        if not rules.meets_min_notional(tgt_px[i], tgt_sz[i], cfg[C_MIN_NOTIONAL_USD]):
            dropped += 1
            continue
        tk[nt] = -sign * tgt_px[i]
        tidx[nt] = i
        nt += 1
    _sort_by(tk, tidx, nt)
    ptol = cfg[C_PX_TOLERANCE_BPS]
    ktol = cfg[C_KEEP_TOLERANCE_BPS]
    stol = cfg[C_SZ_TOLERANCE_FRAC]
    cheap_sz = max(stol, cfg[C_URGENT_SZ_FRAC])
    used[:nl] = 0
    nu = 0
    for b in range(nt):
        i = tidx[b]
        best = -1
        best_d = 0.0
        for a in range(nl):
            j = lidx[a]
            if used[a] == 0 and keeps(is_buy, live_px[j], live_sz[j], tgt_px[i], tgt_sz[i],
                                      tgt_edge[i], ptol, ktol, stol, cfg[C_KEEP_SZ_FRAC],
                                      cfg[C_KEEP_DEPTH_BPS], cfg[C_KEEP_TO_EDGE_ZERO] != 0.0):
                d = abs(live_px[j] - tgt_px[i]) / tgt_px[i] + abs(live_sz[j] - tgt_sz[i]) / (tgt_sz[i] * 1e4)
                if best < 0 or d < best_d:
                    best = a
                    best_d = d
        if best >= 0:
            used[best] = 1
            n = _emit(out, n, ACT_KEEP, lidx[best], i)
        else:
            unmatched[nu] = i
            nu += 1
    nr = 0
    for a in range(nl):
        if used[a] == 0:
            rest[nr] = lidx[a]
            nr += 1
    pairs = min(nr, nu) if cfg[C_USE_MODIFY] != 0.0 else 0
    # a modify for a level not worth a request is not sent while its order adds no risk:
    # the order stays, serving the level (``lk``, its sort keys spent: 1 = kept)
    for k in range(pairs):
        j, i = rest[k], unmatched[k]
        lk[k] = 1.0 if below_request_cost(tgt_value[i], cost) and keeps_below_cost(
            is_buy, live_px[j], live_sz[j], tgt_px[i], tgt_sz[i], tgt_edge[i], ktol, cheap_sz) else 0.0
        if lk[k] != 0.0:
            n = _emit(out, n, ACT_KEEP, j, i)
    for k in range(pairs):
        if lk[k] == 0.0:
            n = _emit(out, n, ACT_MODIFY, rest[k], unmatched[k])
    for k in range(pairs, nr):
        n = _emit(out, n, ACT_CANCEL, rest[k], -1)
    for k in range(pairs, nu):
        n = _emit(out, n, ACT_PLACE, -1, unmatched[k])
    return n, dropped


@njit(cache=True)
def plan(live_is_buy, live_px, live_sz, n_live, tgt_is_buy, tgt_px, tgt_sz, tgt_edge, tgt_value,
         n_tgt, allow_buy, allow_sell, cfg, out, request_cost_usd=0.0):
    """The actions that turn the live orders into the targets, written into ``out``
    (rows kind, live index, target index); ``tgt_edge``: each target's per-fill edge,
    bps, ``tgt_value`` its value, USD (NaN: not known; ``ladder_targets``);
    ``request_cost_usd``: what a request costs now (``pacing_kernel.request_cost_now``;
    0: every level is worth its requests). Returns (rows, targets dropped as too small)."""
    m = max(n_live, n_tgt, 1)
    wf = np.empty((2, m))
    wi = np.empty((5, m), np.int64)
    n, d_buy = _plan_side(out, 0, True, allow_buy, live_is_buy, live_px, live_sz, n_live,
                          tgt_is_buy, tgt_px, tgt_sz, tgt_edge, tgt_value, n_tgt, cfg, request_cost_usd,
                          wf, wi)
    n, d_sell = _plan_side(out, n, False, allow_sell, live_is_buy, live_px, live_sz, n_live,
                           tgt_is_buy, tgt_px, tgt_sz, tgt_edge, tgt_value, n_tgt, cfg, request_cost_usd,
                           wf, wi)
    return n, d_buy + d_sell


@njit(cache=True)
def count(out, n, kind):
    """Rows of ``kind`` in a plan."""
    c = 0
    for r in range(n):
        if out[r, 0] == kind:
            c += 1
    return c


@njit(cache=True)
def exchange_weight(batch_len: int) -> int:
    """IP weight of one /exchange request carrying ``batch_len`` actions."""
    return 1 + max(0, batch_len) // 40
