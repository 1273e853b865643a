"""The quote process: MarketParams + PositionState (seqlocks) -> kernel -> TargetLadder.

A ladder is recomputed when the coin's MarketParams or the kill flag changed. The
event -> ladder latency (feed publish to ladder publish, CLOCK_MONOTONIC) goes
into this process's histogram in the control block. The venue account the gateway
publishes in PositionState (available margin, leverage, liquidation price) reaches
the kernel as its ``acct`` vector (account.py): margin-aware sizing.
"""

import numpy as np
from numba import njit

from appliance.ipc import byte_rows, seqlock
from appliance.ipc.timing import monotonic_ns
from appliance.runtime import latency
from appliance.runtime.context import ProcessContext
from shm_layout import records
from shm_layout.constants import PROC_GATEWAY, PROC_RISK

from . import account, kernel

SEQLOCK_TRIES = 10_000


@njit(cache=True)
def step(p_seqs, p_rows, params, params_u8, seen, pos_seqs, pos_rows, pos, pos_u8,
         l_seqs, l_rows, ladder, ladder_u8, cfg, acct, acct_max_age_ns, kill, n_coins, hist,
         lat_count):
    """Recompute the ladder of every coin whose params (or the kill flag) moved.
    seen: [coin] last params seq used; seen[n_coins]: last kill flag. Returns ladders.
    acct: (n_coins, N_ACCOUNT) margin vectors, refilled per coin from PositionState
    (account.py: not known when never published or older than acct_max_age_ns)."""
    kill_changed = seen[n_coins] != kill
    seen[n_coins] = kill
    n = 0
    for c in range(n_coins):
        s = seqlock.read(p_seqs, p_rows, c, params_u8[c], SEQLOCK_TRIES)
        if s < 0 or (s == seen[c] and not kill_changed):
            continue
        seen[c] = s
        position_sz = 0.0
        reducing_only = 0
        now = monotonic_ns()
        if seqlock.read(pos_seqs, pos_rows, c, pos_u8[c], SEQLOCK_TRIES) >= 0:
            position_sz = pos[c].position_sz
            reducing_only = pos[c].reducing_only  # the gateway's rate budget is short
            account.fill_from_position(acct[c], pos[c], now, acct_max_age_ns)
        else:
            account.set_unknown(acct[c])
        kernel.compute_ladder(params[c], position_sz, acct[c], cfg, kill, reducing_only, now,
                              ladder[c])
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
    cfg = kernel.config_vector(ctx.cfg.quote, ctx.cfg.risk)
    n = mem.params.spec.n_records
    params = np.zeros(n, records.MARKET_PARAMS)
    pos = np.zeros(n, records.POSITION_STATE)
    ladder = np.zeros(n, records.TARGET_LADDER)
    for c in range(ctx.n_coins):  # resume the ladder ids where the last run stopped
        rec, _ = seqlock.snapshot(mem.ladder, c)
        ladder[c] = rec
    seen = np.full(ctx.n_coins + 1, -1, np.int64)
    hist = ctx.slot["lat_hist"]
    lat_count = np.zeros(1, np.uint64)
    lat_count[0] = ctx.slot["lat_count"]
    args_head = (mem.params.seqs, mem.params.rows, params, byte_rows(params), seen,
                 mem.position.seqs, mem.position.rows, pos, byte_rows(pos),
                 mem.ladder.seqs, mem.ladder.rows, ladder, byte_rows(ladder), cfg,
                 account.account_rows(n), int(ctx.cfg.gateway.account_max_age_s * 1e9))

    def run_step() -> int:
        done = step(*args_head, int(ctx.control["kill_flag"]), ctx.n_coins, hist, lat_count)
        if done:
            ctx.slot["lat_count"] = lat_count[0]
        return done

    return ctx.run(run_step)
