"""First quote kernel: a GLFT ladder with inventory skew.

All depths in bps of the reference price:

    half-spread   delta = (1/gamma) * ln(1 + gamma/kappa) + maker_fee       (GLFT)
    reservation   r = microprice * (1 - gamma * sigma^2 * T * q / 1e4)
                  q = position / max_position (in [-1, 1] while within limits)
    level i       bid_i = r * (1 - (delta + i * spacing) / 1e4), ask likewise

with gamma in 1/bps, kappa in 1/bps, sigma in bps/sqrt(s), T in s. The full
spread is floored at ``min_spread_bps``. Prices are rounded away from the mid to
the tick; a bid never reaches the best ask nor an ask the best bid. Sizes stop
where they would carry the position past ``max_position_sz`` on that side.

Anything not finite, or no valid, fresh MarketParams, and the ladder is pulled:
zero levels and a reason. A NaN never becomes a price.
"""

import math

import numpy as np
from numba import njit

from shm_layout.constants import (
    MAX_LEVELS,
    PULL_CROSSED,
    PULL_KILL,
    PULL_NO_PARAMS,
    PULL_NONE,
    PULL_NOT_FINITE,
)

C_GAMMA = 0
C_N_LEVELS = 1
C_SPACING_BPS = 2
C_ORDER_SZ = 3
C_MAKER_FEE_BPS = 4
C_MIN_SPREAD_BPS = 5
C_MAX_HALF_SPREAD_BPS = 6
C_HORIZON_S = 7
C_PARAMS_STALE_NS = 8
C_MAX_POSITION_SZ = 9
N_CONFIG = 10


@njit(cache=True)
def _pull(out, reason):
    out.n_bids = 0
    out.n_asks = 0
    out.pulled_reason = reason
    for i in range(MAX_LEVELS):
        out.bid_px[i] = 0.0
        out.bid_sz[i] = 0.0
        out.ask_px[i] = 0.0
        out.ask_sz[i] = 0.0
        out.bid_fill_prob[i] = 0.0
        out.ask_fill_prob[i] = 0.0
        out.bid_as_bps[i] = 0.0
        out.ask_as_bps[i] = 0.0


@njit(cache=True)
def compute_ladder(p, position_sz, cfg, kill, now_mono_ns, out):
    """Fill ``out`` (a TARGET_LADDER record) from ``p`` (a MARKET_PARAMS record).
    Returns the pull reason (0 = quoting)."""
    out.coin = p.coin
    out.src_pub_mono_ns = p.src_pub_mono_ns
    out.update_mono_ns = now_mono_ns
    out.mid_px = p.mid_px
    if kill:
        _pull(out, PULL_KILL)
        return PULL_KILL
    if p.valid == 0 or now_mono_ns - p.update_mono_ns > cfg[C_PARAMS_STALE_NS]:
        _pull(out, PULL_NO_PARAMS)
        return PULL_NO_PARAMS
    gamma = cfg[C_GAMMA]
    kappa = p.kappa_per_bps
    sigma = p.sigma_clean_bps_per_sqrt_s
    ref = p.microprice_px
    bid0 = p.best_bid_px
    ask0 = p.best_ask_px
    tick = p.tick_size_px
    if not (
        math.isfinite(kappa) and kappa > 0.0 and math.isfinite(sigma) and sigma >= 0.0
        and math.isfinite(ref) and ref > 0.0 and math.isfinite(bid0) and math.isfinite(ask0)
        and math.isfinite(tick) and tick > 0.0 and math.isfinite(position_sz)
    ):
        _pull(out, PULL_NOT_FINITE)
        return PULL_NOT_FINITE

    half_bps = math.log(1.0 + gamma / kappa) / gamma + cfg[C_MAKER_FEE_BPS]
    half_bps = max(half_bps, 0.5 * cfg[C_MIN_SPREAD_BPS])
    half_bps = min(half_bps, cfg[C_MAX_HALF_SPREAD_BPS])
    max_pos = cfg[C_MAX_POSITION_SZ]
    q = position_sz / max_pos
    skew_bps = gamma * sigma * sigma * cfg[C_HORIZON_S] * q
    r = ref * (1.0 - skew_bps * 1e-4)
    out.reservation_px = r
    out.half_spread_bps = half_bps
    out.gamma = gamma

    n_levels = int(cfg[C_N_LEVELS])
    sz = cfg[C_ORDER_SZ]
    spacing = cfg[C_SPACING_BPS]
    nb = 0
    na = 0
    bid_room = max_pos - position_sz  # buying more than this breaches the limit
    ask_room = max_pos + position_sz
    for i in range(n_levels):
        depth = (half_bps + i * spacing) * 1e-4
        bpx = math.floor(r * (1.0 - depth) / tick) * tick
        bpx = min(bpx, ask0 - tick)
        if bid_room >= sz * (nb + 1) and bpx > 0.0:
            out.bid_px[nb] = bpx
            out.bid_sz[nb] = sz
            out.bid_fill_prob[nb] = math.exp(-kappa * depth * 1e4)
            out.bid_as_bps[nb] = 0.0
            nb += 1
        apx = math.ceil(r * (1.0 + depth) / tick) * tick
        apx = max(apx, bid0 + tick)
        if ask_room >= sz * (na + 1):
            out.ask_px[na] = apx
            out.ask_sz[na] = sz
            out.ask_fill_prob[na] = math.exp(-kappa * depth * 1e4)
            out.ask_as_bps[na] = 0.0
            na += 1
    for i in range(nb, MAX_LEVELS):
        out.bid_px[i] = 0.0
        out.bid_sz[i] = 0.0
    for i in range(na, MAX_LEVELS):
        out.ask_px[i] = 0.0
        out.ask_sz[i] = 0.0
    if nb > 0 and na > 0 and out.bid_px[0] >= out.ask_px[0]:
        _pull(out, PULL_CROSSED)
        return PULL_CROSSED
    out.n_bids = nb
    out.n_asks = na
    out.pulled_reason = PULL_NONE
    return PULL_NONE


def config_vector(quote_cfg, risk_cfg) -> np.ndarray:
    c = np.zeros(N_CONFIG)
    c[C_GAMMA] = quote_cfg.gamma
    c[C_N_LEVELS] = quote_cfg.n_levels
    c[C_SPACING_BPS] = quote_cfg.level_spacing_bps
    c[C_ORDER_SZ] = quote_cfg.order_size_sz
    c[C_MAKER_FEE_BPS] = quote_cfg.maker_fee_bps
    c[C_MIN_SPREAD_BPS] = quote_cfg.min_spread_bps
    c[C_MAX_HALF_SPREAD_BPS] = quote_cfg.max_half_spread_bps
    c[C_HORIZON_S] = quote_cfg.horizon_s
    c[C_PARAMS_STALE_NS] = quote_cfg.params_stale_ms * 1e6
    c[C_MAX_POSITION_SZ] = risk_cfg.max_position_sz
    return c
