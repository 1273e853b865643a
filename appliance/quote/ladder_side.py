"""One side of the quote kernel's ladder (``kernel.compute_ladder_guarded`` calls it for
bids and asks): levels priced from the reservation price and the side's half-spread,
rounded passively by the venue's rules, priced by E[PnL] (``epnl``) and, with
``quote.edge_vs_fair``, held to a positive own edge against the fair price; then sized by
``alloc`` and compacted, each level with its prediction id."""

from numba import njit

from appliance.hyperliquid import rules
from shm_layout.constants import MAX_LEVELS

from . import alloc, epnl
from .config import (
    C_EDGE_VS_FAIR,
    C_EPNL_MOVE_OUT,
    C_GAMMA,
    C_INVENTORY_BETA,
    C_INVENTORY_HORIZON_S,
    C_MAX_HALF_SPREAD_BPS,
    C_MIN_NOTIONAL_USD,
    C_MOVE_OUT_LADDER,
    C_N_LEVELS,
    C_SIZE_BY_EDGE,
    C_SPACING_BPS,
    C_SPACING_MODE,
    C_SPACING_RATIO,
    C_USE_EPNL_FILTER,
    SPACING_GEOMETRIC,
)
from .ids import prediction_id


@njit(cache=True)
def clear_side(px, sz, fp, asb, ep, pid, start):
    for i in range(start, MAX_LEVELS):
        px[i] = 0.0
        sz[i] = 0.0
        fp[i] = 0.0
        asb[i] = 0.0
        ep[i] = 0.0
        pid[i] = 0


@njit(cache=True)
def level_offset_bps(cfg, i):
    """Offset of level i from the touch level: linear i x spacing, or geometric
    increments spacing x ratio^k (ratio 1 is linear)."""
    spacing = cfg[C_SPACING_BPS]
    ratio = cfg[C_SPACING_RATIO]
    if cfg[C_SPACING_MODE] == SPACING_GEOMETRIC and abs(ratio - 1.0) > 1e-9:
        return spacing * (ratio ** i - 1.0) / (ratio - 1.0)
    return spacing * i


@njit(cache=True)
def _priced_at(p, fair, depth_bps, side, n, prev_px, as_scale, step, szd, tick):
    """A level moved to ``depth_bps`` from the fair price: its price rounded passively and
    kept behind the level before it (strictly ordered), its depth and AS there."""
    px = rules.round_px(fair * (1.0 - side * depth_bps * 1e-4), szd, side, tick)
    if n > 0:
        px = (min(px, rules.round_px(prev_px - step, szd, side, tick)) if side > 0
              else max(px, rules.round_px(prev_px + step, szd, side, tick)))
    depth = side * (fair - px) / fair * 1e4
    as_cost = epnl.as_bps(p.as0_bps, p.as_delta_char_bps, depth, as_scale,
                          p.as_depth_coef_per_bps, p.as_depth_cap_bps)
    return px, depth, as_cost


@njit(cache=True)
def _inventory_bps(cfg, q, side, x_after, sigma, gamma_mult_ext):
    """The E[PnL] inventory term of a fill that takes the side to ``x_after`` of the limit."""
    return epnl.inventory_bps(cfg[C_GAMMA], cfg[C_INVENTORY_BETA], q, side, x_after, sigma,
                              cfg[C_INVENTORY_HORIZON_S], gamma_mult_ext)


@njit(cache=True)
def _bracket_break_even_bps(p, depth_bps, side, as_scale, fee, carry_cost, drift_edge_bps, inv):
    """The depth (>= ``depth_bps``) where the move-out's bracket pays: fee, carry, drift and
    inventory do not depend on the depth, the AS does."""
    need = fee + carry_cost - side * drift_edge_bps + inv
    return epnl.break_even_depth_bps(p.as0_bps, p.as_delta_char_bps, depth_bps, as_scale,
                                     p.as_depth_coef_per_bps, p.as_depth_cap_bps, need)


@njit(cache=True)
def ladder_shift_bps(p, cfg, side, fair, r, delta_bps, q, sigma, gamma_mult_ext, drift_edge_bps,
                     as_scale, carry_cost, inv_x0, fee):
    """How far the whole ladder moves out (bps) so that level 0, unrounded, reaches the
    depth where its E[PnL] is positive (fee, AS, carry, drift, inventory: the move-out's
    bracket). 0 when it already is, when that depth is beyond the max half-spread, when
    the AS is 0 there, or when the AS falls by half or more across the ladder's span (the
    depth-decay prior, 5 bps: the deeper levels pay where GLFT put them); in those cases
    the levels that lose move out one by one (build_side). A calibrated curve (flat decay,
    growth up to a cap) puts every level inside the break-even: moving the ladder as one
    keeps its spacing, so each level's per-fill edge, and with it its size, does not move
    with the AS estimate."""
    px0 = r * (1.0 - side * delta_bps * 1e-4)
    depth0 = side * (fair - px0) / fair * 1e4
    span = level_offset_bps(cfg, int(cfg[C_N_LEVELS]) - 1)
    as_near = epnl.as_bps(p.as0_bps, p.as_delta_char_bps, depth0, as_scale,
                          p.as_depth_coef_per_bps, p.as_depth_cap_bps)
    as_far = epnl.as_bps(p.as0_bps, p.as_delta_char_bps, depth0 + span, as_scale,
                         p.as_depth_coef_per_bps, p.as_depth_cap_bps)
    if not as_near > 0.0 or as_far < 0.5 * as_near:
        return 0.0
    inv0 = _inventory_bps(cfg, q, side, inv_x0, sigma, gamma_mult_ext)
    d = _bracket_break_even_bps(p, depth0, side, as_scale, fee, carry_cost, drift_edge_bps, inv0)
    if d > depth0 and d <= cfg[C_MAX_HALF_SPREAD_BPS]:
        return d - depth0
    return 0.0


@njit(cache=True)
def build_side(out, p, cfg, side, fair, r, delta_bps, kappa, sigma, q, gamma_mult_ext, drift_edge_bps,
          as_scale, carry_cost, budget_sz, max_pos, touch_px, step, szd, tick, fee, even_frac):
    """Build one side into ``out``; returns (levels kept, levels dropped by E[PnL]).
    ``fee``: the maker fee as the kernel prices it (less the volume credit); ``even_frac``:
    how far the sizes move from the per-fill-edge split toward an even one (the volume
    credit's share of its ramp: while the budget shrinks the inner level, which fills,
    carries the volume that buys requests back).
    ``drift_edge_bps``: what the drift adds to a bid fill over the E[PnL] horizon (mu tau / 2
    as the kernel weighs it; an ask gets its negative)."""
    if side > 0:
        px_a, sz_a, fp_a, as_a, ep_a, id_a = (out.bid_px, out.bid_sz, out.bid_fill_prob,
                                              out.bid_as_bps, out.bid_epnl_bps, out.bid_pred_id)
    else:
        px_a, sz_a, fp_a, as_a, ep_a, id_a = (out.ask_px, out.ask_sz, out.ask_fill_prob,
                                              out.ask_as_bps, out.ask_epnl_bps, out.ask_pred_id)
    n_levels = int(cfg[C_N_LEVELS])
    use_filter = cfg[C_USE_EPNL_FILTER] != 0.0
    own_edge_rule = use_filter and cfg[C_EDGE_VS_FAIR] != 0.0
    move_out = cfg[C_EPNL_MOVE_OUT] != 0.0
    base_sz = budget_sz / n_levels  # provisional level size for the post-fill inventory
    if use_filter and move_out and cfg[C_MOVE_OUT_LADDER] != 0.0:
        delta_bps += ladder_shift_bps(p, cfg, side, fair, r, delta_bps, q, sigma, gamma_mult_ext,
                                      drift_edge_bps, as_scale, carry_cost, base_sz / max_pos, fee)
    n = 0
    dropped = 0
    prev_px = 0.0
    for i in range(n_levels):
        raw = r * (1.0 - side * (delta_bps + level_offset_bps(cfg, i)) * 1e-4)
        # passive rounding (bids down, asks up), the venue's rules at each price
        px = rules.round_px(raw, szd, side, tick)
        if side > 0:
            px = min(px, rules.round_px(touch_px - step, szd, side, tick))  # never at/above the best ask
            if n > 0:
                px = min(px, rules.round_px(prev_px - step, szd, side, tick))
        else:
            px = max(px, rules.round_px(touch_px + step, szd, side, tick))  # never at/below the best bid
            if n > 0:
                px = max(px, rules.round_px(prev_px + step, szd, side, tick))
        if not px > 0.0:
            break
        depth = side * (fair - px) / fair * 1e4  # the edge against the fair price
        as_cost = epnl.as_bps(p.as0_bps, p.as_delta_char_bps, depth, as_scale,
                              p.as_depth_coef_per_bps, p.as_depth_cap_bps)
        if own_edge_rule and not epnl.own_edge_bps(depth, as_cost, fee) > 0.0:
            # issue 16: drift or inventory pulled the level inside its break-even depth;
            # it moves out to where a fill pays fee and AS by itself (the check below
            # drops it if rounding or the AS growth term still leave no edge)
            d = epnl.break_even_depth_bps(p.as0_bps, p.as_delta_char_bps, depth, as_scale,
                                          p.as_depth_coef_per_bps, p.as_depth_cap_bps, fee)
            px, depth, as_cost = _priced_at(p, fair, d, side, n, prev_px, as_scale, step, szd, tick)
        prob = epnl.fill_prob(kappa, depth)
        inv = _inventory_bps(cfg, q, side, (i + 1) * base_sz / max_pos, sigma, gamma_mult_ext)
        e = epnl.expected_pnl_bps(prob, depth, as_cost, fee, carry_cost,
                                  side * drift_edge_bps, inv)
        if use_filter and move_out and not e > 0.0:
            # issue 16: out to the depth where the bracket pays: the side stays quoted, deeper
            d = _bracket_break_even_bps(p, depth, side, as_scale, fee, carry_cost, drift_edge_bps, inv)
            if d <= cfg[C_MAX_HALF_SPREAD_BPS]:
                px, depth, as_cost = _priced_at(p, fair, d, side, n, prev_px, as_scale, step, szd, tick)
                prob = epnl.fill_prob(kappa, depth)
                e = epnl.expected_pnl_bps(prob, depth, as_cost, fee, carry_cost,
                                          side * drift_edge_bps, inv)
        # issue 16: drift and inventory may pull the price toward the touch, but the level's
        # own edge against the fair price must pay the fee and the AS by itself
        if (use_filter and not e > 0.0) or (
                own_edge_rule and not epnl.own_edge_bps(depth, as_cost, fee) > 0.0):
            dropped += 1
            continue
        px_a[n] = px
        fp_a[n] = prob
        as_a[n] = as_cost
        ep_a[n] = e
        # weight for the allocation: per-fill edge (E / P), or an even split
        sz_a[n] = max(e / prob, 1e-12) if use_filter and cfg[C_SIZE_BY_EDGE] != 0.0 else 1.0
        prev_px = px
        n += 1
    if even_frac > 0.0 and n > 0:
        total = 0.0
        for i in range(n):
            total += sz_a[i]
        for i in range(n):
            sz_a[i] = (1.0 - even_frac) * sz_a[i] / total + even_frac / n
    kept = alloc.allocate(px_a, sz_a, n, budget_sz, cfg[C_MIN_NOTIONAL_USD], szd)
    k = 0
    for i in range(n):  # compact: levels the allocation dropped leave no hole
        if sz_a[i] > 0.0:
            px_a[k] = px_a[i]
            sz_a[k] = sz_a[i]
            fp_a[k] = fp_a[i]
            as_a[k] = as_a[i]
            ep_a[k] = ep_a[i]
            id_a[k] = prediction_id(out.coin, out.ladder_id, side, k)
            k += 1
    clear_side(px_a, sz_a, fp_a, as_a, ep_a, id_a, kept)
    return kept, dropped
