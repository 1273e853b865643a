"""The estimator process: md ring + fills ring -> kernel -> MarketParams (seqlock).

State lives in the ``estate`` segment and the ring cursors in this process's
control slot, so a restarted estimator resumes warm where it stopped. A build whose
estimator dtypes differ from the segment's cannot attach it (the layout hash covers
every estimator; the refusal names them, ``shm_layout.shm``); each coin's block also
carries the layout directory it was written under, and a block whose directory is
not this build's is started cold, with a log line naming the estimators that changed.
"""

import numpy as np
from numba import njit

from appliance.ipc import byte_rows, ring, seqlock
from appliance.ipc.timing import monotonic_ns
from appliance.runtime.context import ProcessContext
from shm_layout import records
from shm_layout.constants import PROC_QUOTE, PROC_RISK
from shm_layout.estimators import LAYOUT_DIRECTORY, changed_estimators

from . import kernel

MAX_EVENTS_PER_STEP = 512


@njit(cache=True)
def drain(md_words, md_seqs, md_rows, fl_words, fl_seqs, fl_rows, cursors,
          ev_u8, ev, fill_u8, fill, states, cfgs, n_coins,
          out, out_u8, p_seqs, p_rows, max_events):
    """Fold up to ``max_events`` md events and all new fills into the state, then
    publish MarketParams once for each coin that changed (conflation).
    cursors: [md_next, md_lost, fills_next, fills_lost]. Returns events read.
    cfgs: the config record in a one-element array: numba types a record scalar
    argument anew on every call from Python (~30 us), an array in well under 1 us."""
    cfg = cfgs[0]
    dirty = np.zeros(n_coins, np.bool_)
    # Fills first: a markout must not miss the book that follows.
    while ring.read_next(fl_words, fl_seqs, fl_rows, cursors, 2, fill_u8):
        c = fill[0].coin
        if c < n_coins:
            kernel.on_fill(states[c], fill[0])
    n = 0
    while n < max_events and ring.read_next_prefix(md_words, md_seqs, md_rows, cursors, 0, ev_u8):
        n += 1
        c = ev[0].coin
        if c < n_coins:
            kernel.on_event(states[c], cfg, ev[0])
            if n_coins > 1:
                kernel.cross_event(states, cfg, ev[0])
            dirty[c] = True
    now = monotonic_ns()
    for c in range(n_coins):
        if dirty[c]:
            kernel.write_params(states[c], cfg, c, out[c], now)
            seqlock.write(p_seqs, p_rows, c, out_u8[c])
    return n


def resume_or_start_cold(block: np.ndarray, cfg: np.void, coin: str, log) -> bool:
    """Resume one coin's ``ESTIMATOR_BLOCK`` (a 1-record view) if it was written under
    this build's estimator layouts; else start it cold and say which estimators changed.
    Returns True when resumed."""
    b = block[0]
    if b["initialized"]:
        changed = changed_estimators(b["layouts"])
        if not changed:
            log.info("coin %s: resuming warm after %d events", coin, int(b["state"]["header"]["n_events"]))
            return True
        log.warning("coin %s: estimator state layout changed since it was written: %s; "
                    "starting cold", coin, "; ".join(changed))
    kernel.init_state(block["state"][0], cfg)
    b["layouts"] = LAYOUT_DIRECTORY
    b["initialized"] = 1
    return False


def main(argv=None) -> int:
    # The gateway reads no MarketParams (ladders, md, user events): not rung by us.
    ctx = ProcessContext("estimator", argv, consumers=(PROC_QUOTE, PROC_RISK))
    mem, slot = ctx.mem, ctx.slot
    cfg = kernel.config_vector(ctx.cfg.estimator, ctx.coins)
    estate = mem.estate.records
    states = estate["state"]
    for c in range(ctx.n_coins):
        resume_or_start_cold(estate[c:c + 1], cfg, ctx.coins[c], ctx.log)
    cursors = np.zeros(4, np.int64)
    md_cur, fl_cur = int(slot["md_cursor"]), int(slot["fills_cursor"])
    cursors[0] = md_cur if md_cur > 0 else ring.start_cursor(mem.md.ring_words, from_start=True)
    cursors[2] = fl_cur if fl_cur > 0 else ring.start_cursor(mem.fills.ring_words, from_start=True)
    cursors[1], cursors[3] = slot["md_lost"], slot["fills_lost"]
    ev = np.zeros(1, records.MD_EVENT)
    fill = np.zeros(1, records.FILL_EVENT)
    out = np.zeros(mem.params.spec.n_records, records.MARKET_PARAMS)
    out_u8 = byte_rows(out)
    cfgs = np.zeros(1, cfg.dtype)
    cfgs[0] = cfg
    args = (mem.md.ring_words, mem.md.seqs, mem.md.rows,
            mem.fills.ring_words, mem.fills.seqs, mem.fills.rows, cursors,
            ev.view(np.uint8), ev, fill.view(np.uint8), fill, states, cfgs, ctx.n_coins,
            out, out_u8, mem.params.seqs, mem.params.rows, MAX_EVENTS_PER_STEP)

    def step() -> int:
        n = drain(*args)
        slot["md_cursor"], slot["md_lost"] = cursors[0], cursors[1]
        slot["fills_cursor"], slot["fills_lost"] = cursors[2], cursors[3]
        return n

    return ctx.run(step)
