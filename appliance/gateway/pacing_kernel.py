"""Requote pacing over a plan of the one reconciler (``reconcile_kernel.plan``), njit.

``requote_pacing.RequotePacer`` is its Python face; the backtester calls ``ration``
from its njit loop. Cancels, risk-removing modifies (``reconcile_kernel.is_urgent_modify``:
an order more aggressive than its target beyond the urgent tolerance, or larger than it
while the side as a whole rests more than its targets; size moving between levels of a
side is not risk) and the first order of an empty side are urgent and always go; every
other modify and place draws a token from a bucket (best level first, a modify before a
place at the same level); without a token a modify becomes a keep (its order rests, safe
within the urgent tolerance) and a place is deferred.

With ``C_REQUESTS_PER_USD`` > 0 an optional action also needs the volume-earned budget,
the address budget's own rule scaled to a run: ``C_REQUEST_ALLOWANCE`` + requests_per_usd
x USDC traded so far, less every request sent so far (urgent ones included: they spend
from it too, but never wait for it). Urgent actions are never rationed. With the budget
spent, one optional action goes every ``C_EXHAUSTED_INTERVAL_S`` (the venue's own rule for
a rate-limited address: 1 request per 10 s), so a ladder that has not traded yet can still
follow the mid to its first fill instead of resting where the allowance left it.
"""

import math

import numpy as np
from numba import njit

from .reconcile_kernel import (
    ACT_CANCEL,
    ACT_DEFERRED,
    ACT_KEEP,
    ACT_MODIFY,
    ACT_PLACE,
    C_BUDGET_PER_MIN,
    C_BURST,
    C_EXHAUSTED_INTERVAL_S,
    C_PX_TOLERANCE_BPS,
    C_REQUEST_ALLOWANCE,
    C_REQUESTS_PER_USD,
    C_SZ_TOLERANCE_FRAC,
    C_URGENT_SZ_FRAC,
    C_URGENT_TOLERANCE_BPS,
    _sort_by,
    is_urgent_modify,
)

# pacing state vector
P_TOKENS = 0
P_LAST_S = 1  # time of the last refill, s (NaN: never)
P_URGENT = 2  # counters
P_OPTIONAL = 3
P_DEFERRED = 4
P_EXHAUSTED_S = 5  # time of the last optional action sent with the volume budget spent (NaN: never)
N_PACING_STATE = 6


def new_pacing_state(burst: float) -> np.ndarray:
    """A full bucket, never refilled yet."""
    s = np.zeros(N_PACING_STATE)
    s[P_TOKENS] = burst
    s[P_LAST_S] = math.nan
    s[P_EXHAUSTED_S] = math.nan
    return s


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
def refill(state, now_s, rate_per_s, burst):
    """Tokens accrued since the last refill, at most ``burst``."""
    if math.isnan(state[P_LAST_S]):
        state[P_LAST_S] = now_s
    state[P_TOKENS] = min(burst, state[P_TOKENS] + (now_s - state[P_LAST_S]) * rate_per_s)
    state[P_LAST_S] = now_s


@njit(cache=True)
def volume_credit(cfg, state, volume_usd):
    """Requests the volume budget still allows: allowance + per USDC traded x volume, less
    the requests sent (urgent and optional); +inf without a volume budget."""
    if cfg[C_REQUESTS_PER_USD] <= 0.0:
        return math.inf
    return (cfg[C_REQUEST_ALLOWANCE] + cfg[C_REQUESTS_PER_USD] * volume_usd
            - state[P_URGENT] - state[P_OPTIONAL])


@njit(cache=True)
def ration(out, n, live_is_buy, live_px, live_sz, tgt_is_buy, tgt_px, tgt_sz, tgt_level,
           cfg, state, now_s, rate_per_s, volume_usd):
    """Requote pacing over a plan of ``n`` rows, in place: optional modifies without a
    token (or without volume credit, ``volume_credit`` at ``volume_usd`` traded so far)
    become keeps, optional places become ``ACT_DEFERRED``. Returns how many were put
    off. No pacing when ``cfg[C_BUDGET_PER_MIN]`` and ``cfg[C_REQUESTS_PER_USD]`` are 0."""
    timed = cfg[C_BUDGET_PER_MIN] > 0.0
    if not timed and cfg[C_REQUESTS_PER_USD] <= 0.0:
        return 0
    n_act = 0
    for r in range(n):
        if out[r, 0] != ACT_KEEP:
            n_act += 1
    if n_act == 0:
        return 0
    if timed:
        refill(state, now_s, rate_per_s, cfg[C_BURST])
    utol = max(cfg[C_URGENT_TOLERANCE_BPS], cfg[C_PX_TOLERANCE_BPS])
    # sides quoted: by a keep or any modify; the first place of an empty side is urgent
    quoted_buy = False
    quoted_sell = False
    for r in range(n):
        k = out[r, 0]
        if k == ACT_KEEP or k == ACT_MODIFY:
            if live_is_buy[out[r, 1]]:
                quoted_buy = True
            else:
                quoted_sell = True
    # a side rests more than its targets ask for (beyond the size tolerance): only then is
    # shrinking one order urgent; within it, sizes moving between levels can wait (issue 16)
    over = _sides_over_target(out, n, live_is_buy, live_sz, tgt_is_buy, tgt_sz, cfg[C_SZ_TOLERANCE_FRAC])
    work = np.empty((2, n), np.int64)
    opt_key = work[0]  # level * 2 + (0 modify, 1 place)
    opt_row = work[1]
    n_opt = 0
    n_urgent = 0
    for r in range(n):
        k = out[r, 0]
        if k == ACT_CANCEL:
            n_urgent += 1
        elif k == ACT_MODIFY:
            j = out[r, 1]
            i = out[r, 2]
            s = 0 if live_is_buy[j] else 1
            usf = cfg[C_URGENT_SZ_FRAC] if over[s] else math.inf  # price only, unless over
            if is_urgent_modify(live_is_buy[j], live_px[j], live_sz[j], tgt_px[i], tgt_sz[i],
                                utol, cfg[C_SZ_TOLERANCE_FRAC], usf):
                n_urgent += 1
            else:
                opt_key[n_opt] = tgt_level[i] * 2
                opt_row[n_opt] = r
                n_opt += 1
        elif k == ACT_PLACE:
            i = out[r, 2]
            if tgt_is_buy[i] and not quoted_buy:
                quoted_buy = True
                n_urgent += 1
            elif not tgt_is_buy[i] and not quoted_sell:
                quoted_sell = True
                n_urgent += 1
            else:
                opt_key[n_opt] = tgt_level[i] * 2 + 1
                opt_row[n_opt] = r
                n_opt += 1
    state[P_URGENT] += n_urgent
    credit = volume_credit(cfg, state, volume_usd)
    _sort_by(opt_key, opt_row, n_opt)
    deferred = 0
    for a in range(n_opt):
        r = opt_row[a]
        timely = not timed or state[P_TOKENS] >= 1.0
        trickle = (credit < 1.0 and cfg[C_EXHAUSTED_INTERVAL_S] > 0.0
                   and not (now_s - state[P_EXHAUSTED_S] < cfg[C_EXHAUSTED_INTERVAL_S]))  # NaN: never
        if timely and (credit >= 1.0 or trickle):
            if timed:
                state[P_TOKENS] -= 1.0
            if trickle:
                state[P_EXHAUSTED_S] = now_s
            credit -= 1.0
            state[P_OPTIONAL] += 1
        else:
            deferred += 1
            out[r, 0] = ACT_KEEP if out[r, 0] == ACT_MODIFY else ACT_DEFERRED
    state[P_DEFERRED] += deferred
    return deferred
