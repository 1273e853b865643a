"""The synthetic market's numba kernel: one coin, one block of book steps.

Per book step ``g`` (time ``t0_ns + g * step_ns``) of length ``dt = step_ns / 1e9``:

1. the volatility regime takes a Markov step (leave state r with probability
   ``dt / dwell_s[r]`` to a neighbour), then the script's floor and cap apply;
2. the log fundamental moves: ``drift dt + sigma vol_mult[r] sqrt(dt) z`` plus
   Poisson jumps (rate ``jump_rate vol_mult[r] jump_mult``, exponential size,
   up with probability ``jump_up_prob``); the transient impact decays; premium,
   imbalance noise and open interest take their OU / log-normal steps;
3. a 20-level book is drawn around ``mid = exp(log_fund + impact)`` and emitted
   (spread in ticks from the regime and the script, sizes from the depth profile
   tilted by the imbalance ``I``: bids ``x (1 + I)``, asks ``x (1 - I)``);
4. every ``ctx_every_steps`` an EV_ASSET_CTX (mark, oracle, funding, open interest);
5. market orders arrive as a bivariate Hawkes process with exponential kernel,
   simulated exactly by thinning over the step; each one walks the book in force
   (printing one trade per level it takes) and pushes the transient impact.

Funding per hour follows Hyperliquid's rule on the averaged premium ``P``:
``(P + clamp(interest_8h - P, -0.05 %, +0.05 %)) / 8``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from shm_layout.constants import BOOK_DEPTH, EV_ASSET_CTX, EV_BOOK, EV_TRADE, FLAG_SYNTHETIC

from . import params as P  # noqa: N812 - slot names read P.R_*, P.S_*
from .rng import exponential, fill_normal, normal, poisson, uniform

_NS_PER_S = 1_000_000_000
_FUNDING_CLAMP = 5e-4
_IMB_LEVELS = 5


@njit(cache=True)
def _px(ticks: float, tick: float, inv_tick: float) -> float:
    # 100003 / 10 == 10000.3 exactly, unlike 100003 * 0.1
    return ticks / inv_tick if inv_tick > 0.0 else ticks * tick


@njit(cache=True)
def _lots(x: float, lot: float) -> float:
    n = math.floor(x / lot + 0.5)
    return (n if n >= 1.0 else 1.0) * lot


@njit(cache=True)
def _regime_step(latent: int, dwell_s, dt: float, rng) -> int:
    if uniform(rng) >= dt / dwell_s[latent]:
        return latent
    if latent == 0:
        return 1
    if latent == 3:
        return 2
    up = 0.3 if latent == 1 else 0.15
    return latent + 1 if uniform(rng) < up else latent - 1


@njit(cache=True)
def _order_size(p, size_mult: float, rng) -> float:
    if uniform(rng) < p[P.P_TAIL_PROB]:
        q = p[P.P_TAIL_MIN] * (1.0 - uniform(rng)) ** (-1.0 / p[P.P_TAIL_ALPHA])
    else:
        q = p[P.P_Q_MEDIAN] * math.exp(p[P.P_Q_LOG_SIGMA] * normal(rng))
    q = min(q, p[P.P_Q_MAX]) * size_mult
    return _lots(q, p[P.P_LOT])


@njit(cache=True)
def simulate_block(
    p, s, book_px, book_sz, rng, script, g0, n_steps, books_per_s, ctx_every_steps,
    t0_ns, step_ns, coin, truth,
    o_kind, o_coin, o_side, o_nb, o_na, o_flags, o_exch, o_recv, o_px, o_sz, o_aux0, o_aux1,
    o_bpx, o_bsz, o_apx, o_asz, o_bn, o_an,
):
    """Simulate ``n_steps`` steps from global step ``g0``; write events from index 0.

    ``script`` is (N_ROWS, n_steps); ``truth`` is (N_TRUTH, seconds) for this coin;
    ``book_px``/``book_sz`` (2, BOOK_DEPTH) keep the book in force between calls.
    Returns the number of events written, or -1 when the output is too small (the
    caller then restores ``s``, ``book_*``, ``rng`` and retries with more room).
    """
    cap = o_kind.shape[0]
    D = BOOK_DEPTH
    dt = step_ns / _NS_PER_S
    sqdt = math.sqrt(dt)
    tick = p[P.P_TICK]
    inv_tick = p[P.P_INV_TICK]
    lot = p[P.P_LOT]
    beta = p[P.P_BETA]
    n_sec = truth.shape[1]
    z_book = np.empty(2 * D)
    n = 0
    for k in range(n_steps):
        g = g0 + k
        t_ns = t0_ns + g * step_ns
        drift = script[P.R_DRIFT_BPS_PER_S, k]
        floor_r = int(script[P.R_REGIME_FLOOR, k])
        cap_r = int(script[P.R_REGIME_CAP, k])

        # --- 1. regime ------------------------------------------------------------
        latent = int(s[P.S_REGIME_LATENT])
        if g > 0:
            latent = _regime_step(latent, p[P.P_DWELL_S : P.P_DWELL_S + 4], dt, rng)
            s[P.S_REGIME_LATENT] = latent
        r = min(max(latent, floor_r), cap_r)
        vol_m = p[P.P_VOL_MULT + r]

        # --- 2. fundamental, impact, premium, imbalance noise, open interest --------
        if g > 0:
            dlog = drift * 1e-4 * dt + p[P.P_SIGMA_BPS] * vol_m * 1e-4 * sqdt * normal(rng)
            nj = poisson(rng, p[P.P_JUMP_RATE] * vol_m * script[P.R_JUMP_MULT, k] * dt)
            for _ in range(nj):
                sgn = 1.0 if uniform(rng) < script[P.R_JUMP_UP_PROB, k] else -1.0
                dlog += sgn * p[P.P_JUMP_BPS] * 1e-4 * exponential(rng)
            s[P.S_LOG_FUND] += dlog
            s[P.S_IMPACT] *= math.exp(-dt / p[P.P_IMPACT_TAU_S])
            prem = s[P.S_PREMIUM]
            prem += p[P.P_PREM_THETA] * (script[P.R_PREMIUM_TARGET, k] - prem) * dt
            prem += p[P.P_PREM_SIGMA] * sqdt * normal(rng) + script[P.R_PREMIUM_KICK, k]
            s[P.S_PREMIUM] = prem
            s[P.S_PREMIUM_AVG] += (prem - s[P.S_PREMIUM_AVG]) * dt / p[P.P_PREM_AVG_TAU_S]
            imb = s[P.S_IMB_NOISE]
            s[P.S_IMB_NOISE] = imb - p[P.P_IMB_THETA] * imb * dt + p[P.P_IMB_SIGMA] * sqdt * normal(rng)
            s[P.S_OI] *= math.exp(
                script[P.R_OI_DRIFT_PER_S, k] * dt + p[P.P_OI_SIGMA] * sqdt * normal(rng)
            )
        mid = math.exp(s[P.S_LOG_FUND] + s[P.S_IMPACT])

        # --- 3. the book ----------------------------------------------------------
        spread = math.floor(p[P.P_SPREAD_TICKS + r] + script[P.R_SPREAD_ADD_TICKS, k] + 0.5)
        if uniform(rng) < 0.25:
            spread += 1.0
        spread = max(spread, 1.0)
        bid_t = math.floor(mid / tick - spread / 2.0 + 0.5)
        ask_t = bid_t + spread
        tilt = min(max(script[P.R_IMBALANCE, k] + s[P.S_IMB_NOISE], -0.9), 0.9)
        depth_m = p[P.P_DEPTH_MULT + r] * script[P.R_DEPTH_MULT, k]
        noise = p[P.P_DEPTH_NOISE]
        if n >= cap:
            return -1
        o_kind[n] = EV_BOOK
        o_coin[n] = coin
        o_flags[n] = FLAG_SYNTHETIC
        o_exch[n] = t_ns
        o_recv[n] = t_ns
        o_nb[n] = D
        o_na[n] = D
        sum_b = 0.0
        sum_a = 0.0
        fill_normal(rng, z_book)
        for side in range(2):
            level_t = bid_t if side == 0 else ask_t
            tilt_m = (1.0 + tilt) if side == 0 else (1.0 - tilt)
            for lv in range(D):
                if lv > 0:
                    gap = 1.0 + (poisson(rng, 0.5) if r == 3 else 0.0)
                    level_t = level_t - gap if side == 0 else level_t + gap
                mean_sz = p[P.P_TOUCH_SZ] * (1.0 + p[P.P_DEPTH_SLOPE] * lv) * depth_m * tilt_m
                z = z_book[side * D + lv]
                sz = _lots(mean_sz * math.exp(noise * z - 0.5 * noise * noise), lot)
                # About 1 + sz / order_sz orders, spread uniformly around that.
                cnt = 1 + int(min(sz / p[P.P_ORDER_SZ], 1000.0) * (0.5 + uniform(rng)))
                px = _px(level_t, tick, inv_tick)
                book_px[side, lv] = px
                book_sz[side, lv] = sz
                if side == 0:
                    o_bpx[n, lv] = px
                    o_bsz[n, lv] = sz
                    o_bn[n, lv] = cnt
                    if lv < _IMB_LEVELS:
                        sum_b += sz
                else:
                    o_apx[n, lv] = px
                    o_asz[n, lv] = sz
                    o_an[n, lv] = cnt
                    if lv < _IMB_LEVELS:
                        sum_a += sz
        n += 1
        s[P.S_TOP_BID] = 0.0
        s[P.S_TOP_ASK] = 0.0

        pa = s[P.S_PREMIUM_AVG]
        funding_per_h = (pa + min(max(p[P.P_INTEREST_8H] - pa, -_FUNDING_CLAMP), _FUNDING_CLAMP)) / 8.0
        sec = g // books_per_s
        if g % books_per_s == 0 and sec < n_sec:
            truth[P.T_MID_PX, sec] = mid
            truth[P.T_REGIME, sec] = r
            truth[P.T_SPREAD_TICKS, sec] = spread
            truth[P.T_FUNDING_PER_H, sec] = funding_per_h
            truth[P.T_PREMIUM, sec] = s[P.S_PREMIUM]
            truth[P.T_OPEN_INTEREST, sec] = s[P.S_OI]
            truth[P.T_BOOK_IMBALANCE, sec] = (sum_b - sum_a) / (sum_b + sum_a)

        # --- 4. asset context -------------------------------------------------------
        if g % ctx_every_steps == 0:
            if n >= cap:
                return -1
            mark = _px(math.floor(mid / tick + 0.5), tick, inv_tick)
            o_kind[n] = EV_ASSET_CTX
            o_coin[n] = coin
            o_flags[n] = FLAG_SYNTHETIC
            o_exch[n] = t_ns
            o_recv[n] = t_ns
            o_px[n] = mark
            o_sz[n] = _lots(s[P.S_OI], lot)
            o_aux0[n] = funding_per_h
            o_aux1[n] = mark / (1.0 + s[P.S_PREMIUM])
            n += 1

        # --- 5. Hawkes market orders over [t, t + dt), by thinning ------------------
        act = p[P.P_ACT_MULT + r]
        mu_b = p[P.P_MU_BUY] * act * script[P.R_BUY_MULT, k]
        mu_s = p[P.P_MU_SELL] * act * script[P.R_SELL_MULT, k]
        size_mult = script[P.R_SIZE_MULT, k]
        tau = 0.0
        while True:
            eb = s[P.S_EXC_BUY]
            es = s[P.S_EXC_SELL]
            lam_bar = mu_b + mu_s + eb + es
            if lam_bar <= 0.0:
                break
            w = exponential(rng) / lam_bar
            if tau + w >= dt:
                decay = math.exp(-beta * (dt - tau))
                s[P.S_EXC_BUY] = eb * decay
                s[P.S_EXC_SELL] = es * decay
                break
            tau += w
            decay = math.exp(-beta * w)
            eb *= decay
            es *= decay
            s[P.S_EXC_BUY] = eb
            s[P.S_EXC_SELL] = es
            u = uniform(rng) * lam_bar
            if u < mu_b + eb:
                side_i = 1
            elif u < mu_b + eb + mu_s + es:
                side_i = -1
            else:
                continue  # thinned: the intensity fell since the bound was taken
            if side_i > 0:
                s[P.S_EXC_BUY] += p[P.P_A_BB]
                s[P.S_EXC_SELL] += p[P.P_A_SB]
            else:
                s[P.S_EXC_BUY] += p[P.P_A_BS]
                s[P.S_EXC_SELL] += p[P.P_A_SS]
            q = _order_size(p, size_mult, rng)
            trade_ns = t_ns + min(int(tau * _NS_PER_S), step_ns - 1)
            if sec < n_sec:
                if side_i > 0:
                    truth[P.T_BUY_ORDERS, sec] += 1.0
                    truth[P.T_BUY_SZ, sec] += q
                else:
                    truth[P.T_SELL_ORDERS, sec] += 1.0
                    truth[P.T_SELL_SZ, sec] += q
            # Walk the book in force: buys lift asks, sells hit bids.
            bs = 1 if side_i > 0 else 0
            top_slot = P.S_TOP_ASK if side_i > 0 else P.S_TOP_BID
            lv = int(s[top_slot])
            rem = q
            levels_taken = 0
            while rem > 0.5 * lot:
                if n >= cap:
                    return -1
                last = lv >= D - 1
                take = rem if last else min(rem, book_sz[bs, lv])
                o_kind[n] = EV_TRADE
                o_coin[n] = coin
                o_flags[n] = FLAG_SYNTHETIC
                o_exch[n] = trade_ns
                o_recv[n] = trade_ns
                o_side[n] = side_i
                o_px[n] = book_px[bs, lv]
                o_sz[n] = take
                n += 1
                rem -= take
                book_sz[bs, lv] = max(book_sz[bs, lv] - take, 0.0)
                if book_sz[bs, lv] < 0.5 * lot and not last:
                    lv += 1
                    levels_taken += 1
            s[top_slot] = lv
            imp = s[P.S_IMPACT] + side_i * 1e-4 * (
                p[P.P_IMPACT_BPS] * math.sqrt(q / p[P.P_Q_MEDIAN]) + 0.5 * levels_taken * tick / mid * 1e4
            )
            imp_max = p[P.P_IMPACT_MAX_BPS] * 1e-4
            s[P.S_IMPACT] = min(max(imp, -imp_max), imp_max)
    return n
