"""The quote process: MarketParams + PositionState (seqlocks) -> kernel -> TargetLadder.

A ladder is recomputed when the coin's MarketParams, the kill flag or the risk
watchdog's graded action (``Control.risk_action``, ``risk_widen_mult``) changed. The
event -> ladder latency (feed publish to ladder publish, CLOCK_MONOTONIC) goes
into this process's histogram in the control block. The venue account the gateway
publishes in PositionState (available margin, leverage, liquidation price) reaches
the kernel as its ``acct`` vector (account.py): margin-aware sizing.

Fail closed: a PositionState that cannot be read is never quoted as flat. A read
that fails is retried on the next steps (on two shared cores the gateway can be
descheduled mid-write); once it has failed for ``POSITION_UNKNOWN_AFTER_NS`` the
ladder is pulled (PULL_POSITION_UNKNOWN) until the position reads again.
"""

import math

import numpy as np
from numba import njit

from appliance.ipc import byte_rows, seqlock
from appliance.ipc.timing import monotonic_ns
from appliance.runtime import latency
from appliance.runtime.context import ProcessContext
from shm_layout import records
from shm_layout.constants import PROC_GATEWAY, PROC_RISK, PULL_POSITION_UNKNOWN

from . import account, kernel
from .config import config_vectors, estimator_momentum_tau_s

SEQLOCK_TRIES = 10_000
POSITION_UNKNOWN_AFTER_NS = 50_000_000  # an unreadable position this long pulls the ladder
N_GUARDS = 3  # seen[n_coins:]: kill flag, risk action, widen multiplier (x 1e6)


def new_seen(n_coins: int) -> np.ndarray:
    """The ``seen`` array of ``step``: nothing seen yet."""
    return np.full(n_coins + N_GUARDS, -1, np.int64)


@njit(cache=True)
def _guards_changed(seen, n_coins, kill, risk_action, widen_mult):
    w = int(widen_mult * 1e6) if math.isfinite(widen_mult) and abs(widen_mult) < 1e9 else -2
    changed = (seen[n_coins] != kill or seen[n_coins + 1] != risk_action
               or seen[n_coins + 2] != w)
    seen[n_coins] = kill
    seen[n_coins + 1] = risk_action
    seen[n_coins + 2] = w
    return changed


@njit(cache=True)
def step(p_seqs, p_rows, params, params_u8, seen, pos_seqs, pos_rows, pos, pos_u8,
         l_seqs, l_rows, ladder, ladder_u8, cfg, acct, acct_max_age_ns, pos_fail_ns,
         kill, risk_action, widen_mult, n_coins, hist, lat_count):
    """Recompute the ladder of every coin whose params (or a guard) moved.
    seen: [coin] last params seq used, then the guards (``new_seen``).
    acct: (n_coins, N_ACCOUNT) margin vectors, refilled per coin from PositionState
    (account.py: not known when never published or older than acct_max_age_ns).
    pos_fail_ns[coin]: since when its PositionState has failed to read (0 = it reads).
    Returns the number of ladders published."""
    guards_changed = _guards_changed(seen, n_coins, kill, risk_action, widen_mult)
    n = 0
    for c in range(n_coins):
        s = seqlock.read(p_seqs, p_rows, c, params_u8[c], SEQLOCK_TRIES)
        if s < 0:
            continue
        moved = s != seen[c] or guards_changed
        if not moved and pos_fail_ns[c] == 0:
            continue
        now = monotonic_ns()
        known = seqlock.read(pos_seqs, pos_rows, c, pos_u8[c], SEQLOCK_TRIES) >= 0
        position_sz = 0.0
        reducing_only = 0
        if known:
            pos_fail_ns[c] = 0
            position_sz = pos[c].position_sz
            reducing_only = pos[c].reducing_only  # the gateway's rate budget is short
            account.fill_from_position(acct[c], pos[c], now, acct_max_age_ns)
        else:
            account.set_unknown(acct[c])
            if pos_fail_ns[c] == 0:
                pos_fail_ns[c] = now
            if now - pos_fail_ns[c] < POSITION_UNKNOWN_AFTER_NS:
                continue  # retried next step; seen[c] is left as it was
            if not moved and ladder[c].pulled_reason == PULL_POSITION_UNKNOWN:
                continue  # already pulled for it: nothing new to publish
        seen[c] = s
        kernel.compute_ladder_guarded(params[c], position_sz, known, acct[c], cfg[c], kill,
                                      reducing_only, risk_action, widen_mult, now, ladder[c])
        seqlock.write(l_seqs, l_rows, c, ladder_u8[c])
        src = params[c].src_pub_mono_ns
        if src > 0:
            latency.record(hist, monotonic_ns() - src)
            lat_count[0] += 1
        n += 1
    return n


def main(argv=None) -> int:
    ctx = ProcessContext("quote", argv, consumers=(PROC_GATEWAY, PROC_RISK))
    mem = ctx.mem
    cfg = config_vectors(ctx.cfg.quote, ctx.cfg.risk, ctx.coins,  # one row per coin
                         estimator_momentum_tau_s(ctx.cfg))
    n = mem.params.spec.n_records
    params = np.zeros(n, records.MARKET_PARAMS)
    pos = np.zeros(n, records.POSITION_STATE)
    ladder = np.zeros(n, records.TARGET_LADDER)
    for c in range(ctx.n_coins):  # resume the ladder ids where the last run stopped
        rec, _ = seqlock.snapshot(mem.ladder, c)
        ladder[c] = rec
    seen = new_seen(ctx.n_coins)
    hist = ctx.slot["lat_hist"]
    lat_count = np.zeros(1, np.uint64)
    lat_count[0] = ctx.slot["lat_count"]
    args_head = (mem.params.seqs, mem.params.rows, params, byte_rows(params), seen,
                 mem.position.seqs, mem.position.rows, pos, byte_rows(pos),
                 mem.ladder.seqs, mem.ladder.rows, ladder, byte_rows(ladder), cfg,
                 account.account_rows(n), int(ctx.cfg.gateway.account_max_age_s * 1e9),
                 np.zeros(n, np.int64))
    control = ctx.control

    def run_step() -> int:
        done = step(*args_head, int(control["kill_flag"]), int(control["risk_action"]),
                    float(control["risk_widen_mult"]), ctx.n_coins, hist, lat_count)
        if done:
            ctx.slot["lat_count"] = lat_count[0]
        return done

    return ctx.run(run_step)
