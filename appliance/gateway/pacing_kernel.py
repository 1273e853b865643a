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

from . import request_reasons as rr
from .reconcile_kernel import (
    ACT_DEFERRED,
    ACT_KEEP,
    ACT_MODIFY,
    ACT_PLACE,
    C_BUDGET_PER_MIN,
    C_BURST,
    C_EXHAUSTED_INTERVAL_S,
    C_REQUEST_ALLOWANCE,
    C_REQUEST_COST_USD,
    C_REQUESTS_PER_USD,
    _sort_by,
)

# pacing state vector
P_TOKENS = 0
P_LAST_S = 1  # time of the last refill, s (NaN: never)
P_URGENT = 2  # counters
P_OPTIONAL = 3
P_DEFERRED = 4
P_EXHAUSTED_S = 5  # time of the last optional action sent with the volume budget spent (NaN: never)
P_REASONS = 6  # requests sent, by ``request_reasons`` reason (the backtester counts them)
N_PACING_STATE = P_REASONS + rr.N_REASONS


def new_pacing_state(burst: float) -> np.ndarray:
    """A full bucket, never refilled yet."""
    s = np.zeros(N_PACING_STATE)
    s[P_TOKENS] = burst
    s[P_LAST_S] = math.nan
    s[P_EXHAUSTED_S] = math.nan
    return s


@njit(cache=True)
def n_tgt_rows(out, n):
    """Length a per-target array of the plan needs (largest target index + 1)."""
    m = 0
    for r in range(n):
        m = max(m, out[r, 2] + 1)
    return m


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
def request_cost_now(cfg, state, volume_usd):
    """What a request costs now, USD (the reconciler's ``request_cost_usd``): the full
    ``C_REQUEST_COST_USD`` once the volume budget's allowance is spent, in proportion to
    how much of it is spent before, 0 while volume keeps the budget full (a request is
    scarce only as the budget runs down). 0 without a volume budget."""
    cost = cfg[C_REQUEST_COST_USD]
    if not cost > 0.0 or cfg[C_REQUESTS_PER_USD] <= 0.0:
        return 0.0
    allowance = cfg[C_REQUEST_ALLOWANCE]
    credit = volume_credit(cfg, state, volume_usd)
    if not allowance > 0.0:
        return cost if credit < 1.0 else 0.0
    return cost * min(max(1.0 - credit / allowance, 0.0), 1.0)


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
    # urgency is the request's reason (``request_reasons``: the first order of an empty
    # side, a risk-removing modify, every cancel); the edge is not needed for it
    reasons = np.empty(n, np.int64)
    rr.classify(out, n, live_is_buy, live_px, live_sz, tgt_is_buy, tgt_px, tgt_sz,
                np.full(n_tgt_rows(out, n), math.nan), cfg, reasons)
    work = np.empty((2, n), np.int64)
    opt_key = work[0]  # level * 2 + (0 modify, 1 place)
    opt_row = work[1]
    n_opt = 0
    n_urgent = 0
    for r in range(n):
        k = out[r, 0]
        if reasons[r] < 0:
            continue
        if rr.is_urgent(reasons[r]):
            n_urgent += 1
        else:
            i = out[r, 2]
            opt_key[n_opt] = tgt_level[i] * 2 + (1 if k == ACT_PLACE else 0)
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
