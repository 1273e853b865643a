"""The gateway process: TargetLadder (seqlock) + md ring -> executor -> PositionState
(seqlock) and the fills ring.

The executor is the paper one (``paper.py``) or, with ``gateway.venue =
"hyperliquid"``, the venue client (``hyperliquid/executor.py``), behind the same
``step(kill)`` / ``cancel_all()`` seam. Under the kill
flag every order is cancelled and none placed until the flag is reset. On a
graceful stop every order is cancelled before the process exits.
"""

import numpy as np
from numba import njit

from appliance.ipc import byte_rows, ring, seqlock
from appliance.ipc.timing import monotonic_ns
from appliance.runtime.context import ProcessContext
from appliance.runtime.position_fields import position_fields, totals
from shm_layout import records
from shm_layout.constants import EV_TRADE, PROC_ESTIMATOR, PROC_QUOTE, PROC_RISK

from . import paper
from .hyperliquid import account
from .hyperliquid.executor import HyperliquidExecutor

MAX_EVENTS_PER_STEP = 512
SEQLOCK_TRIES = 10_000


@njit(cache=True)
def _publish_fills(fl_words, fl_seqs, fl_rows, fills, fills_u8, nf):
    now = monotonic_ns()
    for i in range(nf):
        fills[i].pub_mono_ns = now
        ring.publish(fl_words, fl_seqs, fl_rows, fills_u8[i], now)


@njit(cache=True)
def step(md_words, md_seqs, md_rows, cursors, ev_u8, ev,
         l_seqs, l_rows, ladder, ladder_u8, seen,
         pos_seqs, pos_rows, pos, pos_u8,
         fl_words, fl_seqs, fl_rows, fills, fills_u8,
         cfg, kill, n_coins, max_events):
    """Match md events against our orders, reconcile new ladders, publish.
    cursors: [md_next, md_lost]; seen: [coin] last ladder seq, [n_coins] kill.
    Returns the work done (events + order actions)."""
    dirty = np.zeros(n_coins, np.bool_)
    work = 0
    nf = 0
    while work < max_events and ring.read_next_prefix(md_words, md_seqs, md_rows, cursors, 0, ev_u8):
        work += 1
        c = ev[0].coin
        if c >= n_coins:
            continue
        before = pos[c].n_fills
        nf = paper.match_event(pos[c], ev[0], cfg, fills, nf)
        if pos[c].n_fills != before or ev[0].kind != EV_TRADE:
            dirty[c] = True
        if nf >= fills.shape[0] - 2 * ladder.shape[0]:
            _publish_fills(fl_words, fl_seqs, fl_rows, fills, fills_u8, nf)
            nf = 0
    _publish_fills(fl_words, fl_seqs, fl_rows, fills, fills_u8, nf)
    kill_changed = seen[n_coins] != kill
    seen[n_coins] = kill
    for c in range(n_coins):
        s = seqlock.read(l_seqs, l_rows, c, ladder_u8[c], SEQLOCK_TRIES)
        if s < 0 or (s == seen[c] and not kill_changed):
            continue
        seen[c] = s
        work += paper.reconcile(pos[c], ladder[c], kill, cfg) + 1
        dirty[c] = True
    now = monotonic_ns()
    for c in range(n_coins):
        if dirty[c]:
            pos[c].coin = c
            pos[c].update_mono_ns = now
            seqlock.write(pos_seqs, pos_rows, c, pos_u8[c])
    return work


class PaperExecutor:
    """Orders and fills simulated against the md ring."""

    def __init__(self, ctx: ProcessContext):
        mem, slot = ctx.mem, ctx.slot
        self.ctx = ctx
        n = mem.position.spec.n_records
        self.pos = np.zeros(n, records.POSITION_STATE)
        for c in range(ctx.n_coins):  # resume position and orders of the last run
            self.pos[c], _ = seqlock.snapshot(mem.position, c)
        account.set_not_known(self.pos)  # no venue account: margin not known
        self.ladder = np.zeros(n, records.TARGET_LADDER)
        self.fills = np.zeros(256, records.FILL_EVENT)
        self.ev = np.zeros(1, records.MD_EVENT)
        self.cursors = np.zeros(2, np.int64)
        cur = int(slot["md_cursor"])
        self.cursors[0] = cur if cur > 0 else ring.start_cursor(mem.md.ring_words)
        self.cursors[1] = slot["md_lost"]
        self.seen = np.full(ctx.n_coins + 1, -1, np.int64)
        cfg = paper.config_vector(ctx.cfg.gateway, ctx.cfg.quote.min_notional_usd)
        self._head = (mem.md.ring_words, mem.md.seqs, mem.md.rows, self.cursors,
                      self.ev.view(np.uint8), self.ev,
                      mem.ladder.seqs, mem.ladder.rows, self.ladder, byte_rows(self.ladder), self.seen,
                      mem.position.seqs, mem.position.rows, self.pos, byte_rows(self.pos),
                      mem.fills.ring_words, mem.fills.seqs, mem.fills.rows,
                      self.fills, byte_rows(self.fills), cfg)

    def step(self, kill: int) -> int:
        work = step(*self._head, kill, self.ctx.n_coins, MAX_EVENTS_PER_STEP)
        self.ctx.slot["md_cursor"], self.ctx.slot["md_lost"] = self.cursors[0], self.cursors[1]
        return work

    def cancel_all(self) -> None:
        """Leave nothing resting: the graceful-stop path."""
        self.seen[:] = -1
        step(*self._head, 1, self.ctx.n_coins, 0)

    def summary(self) -> dict:
        """The shutdown line's figures: simulated fills and the P&L per coin."""
        pos = [self.pos[c] for c in range(self.ctx.n_coins)]
        return {"fills": sum(int(p["n_fills"]) for p in pos), **totals(pos),
                "coins": {coin: position_fields(p) for coin, p in zip(self.ctx.coins, pos, strict=True)}}


def main(argv=None) -> int:
    ctx = ProcessContext("gateway", argv, consumers=(PROC_ESTIMATOR, PROC_QUOTE, PROC_RISK))
    if ctx.cfg.gateway.venue == "hyperliquid":
        try:
            executor = HyperliquidExecutor(ctx)
        except Exception as e:  # key file, venue unreachable, coin not listed: say it, stop
            ctx.log.error("cannot start the Hyperliquid executor: %s", e)
            ctx.kill(f"gateway: {e}"[:128])
            return 2
    else:
        executor = PaperExecutor(ctx)
    return ctx.run(lambda: executor.step(int(ctx.control["kill_flag"])),
                   on_exit=executor.cancel_all, summary=executor.summary)
