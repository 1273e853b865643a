"""The quote kernel: one GLFT ladder under one adverse-selection model (issue 6).

``compute_ladder(p, position_sz, acct, cfg, kill, reducing_only, now_mono_ns, out)``
is a pure njit function of a MARKET_PARAMS record ``p``, the position, the account
vector ``acct`` (margin.py), the config vector ``cfg`` (config.py) and two flags;
it writes the TARGET_LADDER record ``out`` and returns its pull reason (0 = quoting).
``compute_ladder_guarded`` is the same with the quote process's guards as inputs too:
whether the position could be read, and the risk watchdog's graded action (RA_*)
with its half-spread multiplier.

Per side s (+1 bid, -1 ask), depths in bps of the fair price (microprice):

    gamma   = gamma_base (1 + beta u^2) x regime x toxicity x time-of-day   (glft.py)
    delta_s = (1/gamma) ln(1 + gamma/kappa_s) + fee, x regime spread x tail risk,
              then -/+ mu T/2 (bid/ask; mu x its scored skill, T carried by the OU
              decay, capped at k sigma sqrt(T) / 2; clamped in legacy), floored so that
              bid + ask depth >= min spread, capped
    r       = fair (1 - (gamma sigma^2 q T + funding skew) / 1e4)   sigma: total (with jumps)
    level i = r -/+ (delta_s + offset_i), offsets linear or geometric
    E[PnL] per level (epnl.py); a level with E <= 0 is dropped, so a side empties
    by itself as inventory, drift or toxicity turn against it; with ``edge_vs_fair``
    (issue 16, opt-in) a level whose own edge d - AS(d) - fee <= 0 moves out to its break-even
    depth, and is dropped if it still has none, however far drift or inventory pulled
    it (issue 16). Sizes: alloc.py, a side's budget and the position limit in coin at
    the mid from their USD settings unless given in coin (sizing.py; no mid: pulled).

Guards, whatever gamma says: kill -> pull; a position that could not be read -> pull
(never quoted as flat); risk action pull -> pull, reduce_only -> as ``reducing_only``,
widen -> half-spreads (and their cap) x widen_mult; should_pull_quotes -> pull; a non-finite
input -> pull (never a bad quote); above 100 % utilization, or too close to the
liquidation price, the accumulating side is cleared; with ``reducing_only`` (the
gateway's rate budget is short) only the reducing side is quoted, at most the
position. A bid is never at or above the best ask, an ask never at or below the
best bid. The old binary gate is computed and logged (``legacy_gate``), and acts
only with ``legacy_gate`` set (the ``legacy`` preset). With the AS terms (not no_as,
not legacy), issue 16: a side whose P(toxic) is above ``toxicity_pull_p`` (or the other
side's by ``toxicity_pull_gap``) is pulled, and while the market spread, held over the
spread estimator's floor window, is above ``toxicity_pull_spread_ratio`` x its fair
spread (liquidity withdrawn: a move coming, its side unknown) both sides are, until a
sweep of ``toxicity_pull_sweep_levels`` levels one way brings back the side it moves
away from.
"""

import math

import numpy as np
from numba import njit

from appliance.hyperliquid import rules
from shm_layout.constants import (
    PULL_CASCADE,
    PULL_CROSSED,
    PULL_KILL,
    PULL_NO_EDGE,
    PULL_NO_PARAMS,
    PULL_NONE,
    PULL_NOT_FINITE,
    PULL_POSITION_UNKNOWN,
    PULL_RISK,
    PULL_TOXIC,
    RA_PULL,
    RA_REDUCE_ONLY,
    RA_WIDEN,
)

from . import epnl, glft, legacy, margin, sizing
from .account import account_rows
from .config import (  # noqa: F401  (C_* re-exported)
    C_DRIFT_CAP_SIGMAS,
    C_DRIFT_CLAMP_BPS,
    C_DRIFT_SKILL,
    C_EPNL_HORIZON_S,
    C_FUNDING_SCALE,
    C_GAMMA,
    C_HORIZON_S,
    C_INV_SOFT_LIMIT,
    C_INVENTORY_BETA,
    C_LEGACY_GATE,
    C_LEGACY_GATE_UTIL,
    C_LEGACY_ZONES,
    C_MAKER_FEE_BPS,
    C_MARGIN_BUFFER_FRAC,
    C_MAX_HALF_SPREAD_BPS,
    C_MAX_LEVERAGE,
    C_MAX_POSITION_SZ,
    C_MIN_LIQ_DISTANCE_BPS,
    C_MIN_SPREAD_BPS,
    C_MOM_REST_S,
    C_MOM_TAU_S,
    C_ORDER_SZ,
    C_PARAMS_STALE_NS,
    C_SPREAD_CAP_MULT,
    C_SZ_DECIMALS,
    C_TOD,
    C_TOX_AS_WEIGHT,
    C_TOX_GAMMA_WEIGHT,
    C_TOX_NEUTRAL,
    C_TOX_PULL_GAP,
    C_TOX_PULL_P,
    C_TOX_PULL_SPREAD,
    C_TOX_PULL_SPREAD_MIN,
    C_TOX_PULL_SWEEP,
    C_TOX_SIZE_CUT,
    C_USE_AS,
    C_USE_DIRECTIONAL_KAPPA,
    C_USE_KALMAN_DRIFT,
    C_USE_REGIME_SPREAD,
    C_VOLUME_CREDIT_BPS,
    C_VOLUME_CREDIT_RAMP,
    C_VOLUME_CREDIT_SURPLUS,
    N_CONFIG,
    config_vector,
)
from .ladder_side import build_side, clear_side
from .margin import A_REQUEST_DEFICIT


def account_unknown() -> np.ndarray:
    """An ``acct`` vector that says "margin not known": only the position limit applies."""
    return account_rows(1)[0]


@njit(cache=True)
def volume_credit_frac(cfg, acct):
    """How far the request deficit is up its ramp, [0, 1]: the ramp starts at
    ``C_VOLUME_CREDIT_SURPLUS`` requests in surplus (the USDC traded that far ahead of the
    requests sent) and is full ``C_VOLUME_CREDIT_RAMP`` requests later; 0 with the credit
    off or no fee to credit (a rebate tier)."""
    if not min(cfg[C_VOLUME_CREDIT_BPS], cfg[C_MAKER_FEE_BPS]) > 0.0:
        return 0.0
    behind = acct[A_REQUEST_DEFICIT] + cfg[C_VOLUME_CREDIT_SURPLUS]
    return min(max(behind / cfg[C_VOLUME_CREDIT_RAMP], 0.0), 1.0)


@njit(cache=True)
def volume_credit_bps(cfg, acct):
    """What the fee is credited while the address budget shrinks or has too little in
    hand (issue 16): the full ``C_VOLUME_CREDIT_BPS`` at the top of the ramp
    (``volume_credit_frac``), in proportion below, none while volume keeps the requests
    more than ``C_VOLUME_CREDIT_SURPLUS`` behind. At most the fee
    itself: volume is bought by forgoing the fee's margin, never by pricing a rebate the
    venue does not pay."""
    return min(cfg[C_VOLUME_CREDIT_BPS], cfg[C_MAKER_FEE_BPS]) * volume_credit_frac(cfg, acct)


@njit(cache=True)
def _pull(out, reason):
    out.n_bids = 0
    out.n_asks = 0
    out.pulled_reason = reason
    out.reduce_only_side = 0
    clear_side(out.bid_px, out.bid_sz, out.bid_fill_prob, out.bid_as_bps, out.bid_epnl_bps,
                out.bid_pred_id, 0)
    clear_side(out.ask_px, out.ask_sz, out.ask_fill_prob, out.ask_as_bps, out.ask_epnl_bps,
                out.ask_pred_id, 0)
    return reason


@njit(cache=True)
def _finite(x):
    return not (math.isnan(x) or math.isinf(x))


@njit(cache=True)
def compute_ladder(p, position_sz, acct, cfg, kill, reducing_only, now_mono_ns, out):
    """Fill ``out`` (a TARGET_LADDER record) from ``p`` (a MARKET_PARAMS record).
    Returns the pull reason (0 = quoting). Increments ``out.ladder_id``."""
    return compute_ladder_guarded(p, position_sz, 1, acct, cfg, kill, reducing_only, 0, 1.0,
                                  now_mono_ns, out)


@njit(cache=True)
def compute_ladder_guarded(p, position_sz, position_known, acct, cfg, kill, reducing_only,
                           risk_action, widen_mult, now_mono_ns, out):
    """``compute_ladder`` with the process's guards: ``position_known`` 0 pulls
    (PULL_POSITION_UNKNOWN); ``risk_action`` (RA_*) pulls, reduces or widens by
    ``widen_mult`` (never below 1: a bad multiplier must not narrow the quotes)."""
    if risk_action == RA_REDUCE_ONLY:
        reducing_only = 1
    wmult = widen_mult if risk_action == RA_WIDEN and _finite(widen_mult) and widen_mult > 1.0 else 1.0
    out.ladder_id += 1
    out.coin = p.coin
    out.src_pub_mono_ns = p.src_pub_mono_ns
    out.update_mono_ns = now_mono_ns
    out.mid_px = p.mid_px
    out.reducing_only = 1 if reducing_only else 0
    out.epnl_dropped_bids = 0
    out.epnl_dropped_asks = 0
    max_pos = sizing.max_position_sz(cfg, p.mid_px)  # NaN without a mid: pulled below
    limit_ok = _finite(max_pos) and max_pos > 0.0
    q = position_sz / max_pos if _finite(position_sz) and limit_ok else 0.0
    out.inventory_util = q
    out.inventory_zone = legacy.zone(abs(q))
    out.legacy_gate = legacy.gate(q, cfg[C_LEGACY_GATE_UTIL], p.should_pull_quotes != 0)
    out.legacy_gate_disagree = 0
    if kill:
        return _pull(out, PULL_KILL)
    if not position_known:
        return _pull(out, PULL_POSITION_UNKNOWN)
    if risk_action == RA_PULL:
        return _pull(out, PULL_RISK)
    if p.valid == 0 or now_mono_ns - p.update_mono_ns > cfg[C_PARAMS_STALE_NS]:
        return _pull(out, PULL_NO_PARAMS)
    directional = cfg[C_USE_DIRECTIONAL_KAPPA] != 0.0
    kappa_b = p.kappa_bid_per_bps if directional else p.kappa_per_bps
    kappa_a = p.kappa_ask_per_bps if directional else p.kappa_per_bps
    use_as = cfg[C_USE_AS] != 0.0
    use_drift = cfg[C_USE_KALMAN_DRIFT] != 0.0
    fund_scale = cfg[C_FUNDING_SCALE]
    sigma = p.sigma_clean_bps_per_sqrt_s
    # inventory is exposed to the jumps too: total sigma where known, never below the clean one
    total = p.sigma_total_bps_per_sqrt_s
    sigma_inv = total if _finite(total) and total > sigma else sigma
    fair = p.microprice_px
    side_sz = sizing.side_size_sz(cfg, p.mid_px)  # a side's budget in coin (NaN: pulled)
    bid0 = p.best_bid_px
    ask0 = p.best_ask_px
    tick = p.tick_size_px
    ok = (_finite(kappa_b) and kappa_b > 0.0 and _finite(kappa_a) and kappa_a > 0.0
          and _finite(sigma) and sigma >= 0.0 and _finite(fair) and fair > 0.0
          and _finite(bid0) and bid0 > 0.0 and _finite(ask0) and ask0 > bid0
          and _finite(tick) and tick > 0.0 and _finite(position_sz) and limit_ok
          and _finite(p.gamma_multiplier) and p.gamma_multiplier > 0.0
          and _finite(p.spread_multiplier) and p.spread_multiplier > 0.0
          and _finite(p.tail_risk_multiplier) and p.tail_risk_multiplier > 0.0
          and _finite(side_sz) and side_sz > 0.0)
    if use_drift:
        ok = ok and _finite(p.drift_bps_per_s)
    if use_as:
        ok = (ok and _finite(p.as0_bps) and _finite(p.as_delta_char_bps)
              and _finite(p.toxicity_bid) and _finite(p.toxicity_ask)
              and _finite(p.as_ratio_adjustment))
    if fund_scale != 0.0:
        ok = ok and _finite(p.funding_rate_per_h) and _finite(p.funding_cost_bps)
    for j in range(acct.shape[0]):
        ok = ok and _finite(acct[j])
    if not ok:
        return _pull(out, PULL_NOT_FINITE)
    if p.should_pull_quotes != 0:
        return _pull(out, PULL_CASCADE)
    util = abs(q)

    # risk aversion: continuous in q, times regime, toxicity and time of day
    tox_b = p.toxicity_bid if use_as else 0.0
    tox_a = p.toxicity_ask if use_as else 0.0
    neutral = cfg[C_TOX_NEUTRAL]
    tox_gamma = 1.0 + cfg[C_TOX_GAMMA_WEIGHT] * glft.excess_toxicity(max(tox_b, tox_a), neutral)
    gamma_mult_ext = p.gamma_multiplier * tox_gamma * glft.tod_multiplier(cfg, C_TOD, p.event_ts_ns)
    gamma = glft.gamma_of_q(cfg[C_GAMMA], cfg[C_INVENTORY_BETA], util) * gamma_mult_ext
    out.gamma = gamma
    out.kappa_bid_per_bps = kappa_b
    out.kappa_ask_per_bps = kappa_a

    # half-spreads per side, drift shift, legacy zones, floor and caps
    fee = cfg[C_MAKER_FEE_BPS] - volume_credit_bps(cfg, acct)
    even_frac = volume_credit_frac(cfg, acct)  # sizes toward even as the deficit grows
    widen = p.tail_risk_multiplier * wmult
    if cfg[C_USE_REGIME_SPREAD] != 0.0:
        widen *= p.spread_multiplier
    h_b = glft.half_spread_bps(gamma, kappa_b, fee) * widen
    h_a = glft.half_spread_bps(gamma, kappa_a, fee) * widen
    if cfg[C_LEGACY_ZONES] != 0.0:
        z = legacy.zone(util)
        h_b = legacy.zone_half_spread_bps(h_b, z)
        h_a = legacy.zone_half_spread_bps(h_a, z)
    drift = p.drift_bps_per_s if use_drift else 0.0
    horizon = cfg[C_HORIZON_S]
    tau = cfg[C_EPNL_HORIZON_S]
    h_shift, h_edge = horizon, tau
    if cfg[C_DRIFT_SKILL] != 0.0:  # issue 16: the drift's expected move, not its instant value
        w = p.drift_skill
        drift *= min(max(w, 0.0), 1.0) if _finite(w) else 0.0  # unscored: no lean
        h_shift = glft.ou_horizon_s(p.drift_theta_per_s, horizon)
        h_edge = glft.ou_horizon_s(p.drift_theta_per_s, tau)
    k_cap = cfg[C_DRIFT_CAP_SIGMAS]
    cap_shift = k_cap * 0.5 * sigma * math.sqrt(horizon) if k_cap > 0.0 else 0.0
    cap_edge = k_cap * 0.5 * sigma * math.sqrt(tau) if k_cap > 0.0 else 0.0
    if k_cap > 0.0 and sigma <= 0.0:  # no noise measured: no room for a lean either
        drift = 0.0
    shift = glft.drift_shift_bps(drift, h_shift, cfg[C_DRIFT_CLAMP_BPS], cap_shift)
    drift_edge = glft.drift_shift_bps(drift, h_edge, 0.0, cap_edge)  # E[PnL]'s drift term, bps
    d_b = h_b - shift
    d_a = h_a + shift
    short = cfg[C_MIN_SPREAD_BPS] - (d_b + d_a)
    if short > 0.0:
        d_b += 0.5 * short
        d_a += 0.5 * short
    cap = cfg[C_MAX_HALF_SPREAD_BPS]
    spread_cap_mult = cfg[C_SPREAD_CAP_MULT]
    if spread_cap_mult > 0.0 and _finite(p.spread_bps) and p.spread_bps > 0.0:
        cap = min(cap, max(spread_cap_mult * p.spread_bps, 0.5 * cfg[C_MIN_SPREAD_BPS]))
    cap *= wmult  # the risk action's widening is not undone by the caps
    d_b = min(d_b, cap)
    d_a = min(d_a, cap)
    out.drift_shift_bps = shift
    out.bid_half_spread_bps = d_b
    out.ask_half_spread_bps = d_a
    out.half_spread_bps = 0.5 * (d_b + d_a)

    # reservation price: inventory skew and funding skew
    skew = glft.inventory_skew_bps(gamma, sigma_inv, q, horizon)
    f_skew = fund_scale * p.funding_rate_per_h * horizon / 3600.0 * 1e4 if fund_scale != 0.0 else 0.0
    r = fair * (1.0 - (skew + f_skew) * 1e-4)
    out.skew_bps = skew
    out.funding_skew_bps = f_skew
    out.reservation_px = r

    # side budgets: total size, headroom, margin; guards that clear a side
    szd = int(cfg[C_SZ_DECIMALS])
    step = rules.px_step(fair, szd, tick)
    buf = cfg[C_MARGIN_BUFFER_FRAC]
    max_lev = cfg[C_MAX_LEVERAGE]
    liq_close = margin.liq_distance_bps(acct, p.mid_px) < cfg[C_MIN_LIQ_DISTANCE_BPS]
    cap_b = margin.side_capacity_sz(acct, 1, position_sz, fair, buf, max_lev)
    cap_a = margin.side_capacity_sz(acct, -1, position_sz, fair, buf, max_lev)
    # issue 16: a side adds inventory only up to the soft limit's share of the position
    # limit: its size is the headroom left to it (continuous in q, zero at it), so a run of
    # one-sided fills stops well inside the hard limit; the reducing side keeps its budget
    soft = cfg[C_INV_SOFT_LIMIT] * max_pos
    b_bid = min(side_sz, soft - position_sz, cap_b)
    b_ask = min(side_sz, soft + position_sz, cap_a)
    clear_acc = util >= 1.0 or liq_close or reducing_only  # the accumulating side goes
    if clear_acc and (q > 0.0 or (q == 0.0 and reducing_only)):  # long: bids accumulate
        b_bid = 0.0
    if clear_acc and (q < 0.0 or (q == 0.0 and reducing_only)):
        b_ask = 0.0
    if reducing_only:
        b_bid = min(b_bid, max(-position_sz, 0.0))
        b_ask = min(b_ask, max(position_sz, 0.0))
    out.reduce_only_side = 0
    if reducing_only:
        out.reduce_only_side = 1 if position_sz < 0.0 else (-1 if position_sz > 0.0 else 0)
    if cfg[C_LEGACY_GATE] != 0.0:
        if not legacy.gate_allows(out.legacy_gate, 1):
            b_bid = 0.0
        if not legacy.gate_allows(out.legacy_gate, -1):
            b_ask = 0.0
    if cfg[C_TOX_SIZE_CUT] != 0.0:
        b_bid *= legacy.toxicity_size_mult(max(p.toxicity_bid, p.toxicity_ask))
        b_ask *= legacy.toxicity_size_mult(max(p.toxicity_bid, p.toxicity_ask))
    # issue 16: a side the toxicity model calls informed is pulled, not just priced wider:
    # an informed sweep runs through every level of a side, however deep. One-sided
    # evidence (the side's P(toxic) above the other's: flow, book and drift lean one way)
    # is what an informed episode shows; a rise of both is priced by gamma above
    quoting_before_tox = b_bid > 0.0 or b_ask > 0.0
    if use_as:
        pull_p = cfg[C_TOX_PULL_P]
        gap = cfg[C_TOX_PULL_GAP]
        if (pull_p > 0.0 and tox_b > pull_p) or (gap > 0.0 and tox_b - tox_a > gap):
            b_bid = 0.0
        if (pull_p > 0.0 and tox_a > pull_p) or (gap > 0.0 and tox_a - tox_b > gap):
            b_ask = 0.0
        # liquidity withdrawal (the market spread far above its fair one): a move is
        # coming, its side not yet known, so neither side is quoted
        # (held wide: the spread floor over the estimator's window, not one blip)
        k_spread = cfg[C_TOX_PULL_SPREAD]
        held_bps = p.spread_bps
        if _finite(p.spread_floor_bps) and p.spread_floor_bps > 0.0:
            held_bps = min(held_bps, p.spread_floor_bps)
        if (k_spread > 0.0 and _finite(held_bps) and _finite(p.fair_spread_bps)
                and p.fair_spread_bps > 0.0 and held_bps > k_spread * p.fair_spread_bps
                and held_bps >= cfg[C_TOX_PULL_SPREAD_MIN]):
            # a sweep under way shows the move's side: the side it moves away from fills
            # with the move (buyers sweeping the asks: our bids gain), so it comes back
            n_sw = cfg[C_TOX_PULL_SWEEP]
            up = p.sweep_score_buy if _finite(p.sweep_score_buy) else 0.0
            down = p.sweep_score_sell if _finite(p.sweep_score_sell) else 0.0
            if not (n_sw > 0.0 and up >= n_sw and up > 2.0 * down):
                b_bid = 0.0
            if not (n_sw > 0.0 and down >= n_sw and down > 2.0 * up):
                b_ask = 0.0

    # per-side adverse-selection scale and funding carry
    as_common = p.as_ratio_adjustment if use_as else 0.0
    as_b = as_common * (1.0 + cfg[C_TOX_AS_WEIGHT] * glft.excess_toxicity(tox_b, neutral))
    as_a = as_common * (1.0 + cfg[C_TOX_AS_WEIGHT] * glft.excess_toxicity(tox_a, neutral))
    # the estimator's momentum term per side (0 = neutral; a move already made reverts)
    # (issue 16: averaged over the order's rest, it no longer moves a side's break-even by
    # more than the urgent tolerance every time the mid ticks)
    rest, mom_tau = cfg[C_MOM_REST_S], cfg[C_MOM_TAU_S]
    as_b *= epnl.rest_avg_mult(p.as_log_mult_bid, rest, mom_tau) if _finite(p.as_log_mult_bid) else 1.0
    as_a *= epnl.rest_avg_mult(p.as_log_mult_ask, rest, mom_tau) if _finite(p.as_log_mult_ask) else 1.0
    carry_b = epnl.carry_bps(fund_scale * p.funding_cost_bps, 1) if fund_scale != 0.0 else 0.0
    carry_a = epnl.carry_bps(fund_scale * p.funding_cost_bps, -1) if fund_scale != 0.0 else 0.0

    nb, db = build_side(out, p, cfg, 1, fair, r, d_b, kappa_b, sigma_inv, q, gamma_mult_ext, drift_edge,
                        as_b, carry_b, max(b_bid, 0.0), max_pos, ask0, step, szd, tick, fee, even_frac)
    na, da = build_side(out, p, cfg, -1, fair, r, d_a, kappa_a, sigma_inv, q, gamma_mult_ext, drift_edge,
                        as_a, carry_a, max(b_ask, 0.0), max_pos, bid0, step, szd, tick, fee, even_frac)
    out.epnl_dropped_bids = db
    out.epnl_dropped_asks = da
    if nb > 0 and na > 0 and out.bid_px[0] >= out.ask_px[0]:
        return _pull(out, PULL_CROSSED)
    out.n_bids = nb
    out.n_asks = na
    g = out.legacy_gate
    if legacy.gate_allows(g, 1) != (nb > 0) or legacy.gate_allows(g, -1) != (na > 0):
        out.legacy_gate_disagree = 1
    if nb == 0 and na == 0 and quoting_before_tox and b_bid <= 0.0 and b_ask <= 0.0:
        out.pulled_reason = PULL_TOXIC  # the AS terms took both sides: say so, not "no edge"
        return PULL_TOXIC
    if nb == 0 and na == 0 and (db > 0 or da > 0):
        out.pulled_reason = PULL_NO_EDGE
        return PULL_NO_EDGE
    out.pulled_reason = PULL_NONE
    return PULL_NONE


__all__ = ["compute_ladder", "compute_ladder_guarded", "config_vector", "account_unknown", "N_CONFIG",
           "C_MAX_POSITION_SZ", "C_ORDER_SZ"]
