"""The quote kernel and process fail closed: an unreadable position pulls the ladder
(never quoted as flat), and the risk watchdog's graded action pulls, reduces or widens."""

import time

import numpy as np
import pytest
from quote_helpers import MAX_POS, NOW, cfg_vector, in_surplus, params
from risk_helpers import fresh_segments, set_position

from appliance.ipc import byte_rows, seqlock
from appliance.quote import account, kernel
from appliance.quote.process import POSITION_UNKNOWN_AFTER_NS, new_seen, step
from shm_layout import records
from shm_layout.constants import (
    LAT_BUCKETS,
    PULL_KILL,
    PULL_NONE,
    PULL_POSITION_UNKNOWN,
    PULL_RISK,
    RA_NONE,
    RA_PULL,
    RA_REDUCE_ONLY,
    RA_WIDEN,
)


def guarded(position_sz=0.0, known=1, kill=0, risk_action=RA_NONE, widen_mult=1.0, p=None):
    p = params() if p is None else p
    out = np.zeros(1, records.TARGET_LADDER)
    reason = kernel.compute_ladder_guarded(p[0], position_sz, known, in_surplus(),
                                           cfg_vector(), kill, 0, risk_action, widen_mult, NOW, out[0])
    return reason, out[0]


# --- the kernel ---------------------------------------------------------------------------

def test_kernel_when_position_unknown_then_pulled_with_its_own_reason():
    reason, lad = guarded(known=0)
    assert reason == PULL_POSITION_UNKNOWN == lad["pulled_reason"]
    assert lad["n_bids"] == 0 and lad["n_asks"] == 0 and np.all(lad["bid_sz"] == 0)


def test_kernel_when_risk_action_pull_then_pulled_and_kill_still_first():
    reason, lad = guarded(risk_action=RA_PULL)
    assert reason == PULL_RISK and lad["n_bids"] == 0 and lad["n_asks"] == 0
    assert guarded(risk_action=RA_PULL, known=0, kill=1)[0] == PULL_KILL


def test_kernel_when_no_guard_then_same_ladder_as_compute_ladder():
    reason, lad = guarded()
    out = np.zeros(1, records.TARGET_LADDER)
    assert kernel.compute_ladder(params()[0], 0.0, in_surplus(), cfg_vector(), 0, 0,
                                 NOW, out[0]) == reason == PULL_NONE
    assert np.array_equal(out[0]["bid_px"], lad["bid_px"]) and np.array_equal(out[0]["ask_sz"],
                                                                                lad["ask_sz"])


def test_kernel_when_risk_action_widen_then_half_spreads_times_mult():
    _, base = guarded()
    _, wide = guarded(risk_action=RA_WIDEN, widen_mult=2.0)
    assert wide["bid_half_spread_bps"] == pytest.approx(2 * base["bid_half_spread_bps"])
    assert wide["ask_half_spread_bps"] == pytest.approx(2 * base["ask_half_spread_bps"])
    assert wide["bid_px"][0] < base["bid_px"][0] and wide["ask_px"][0] > base["ask_px"][0]
    # the multiplier alone does nothing, and one below 1 never narrows
    assert guarded(widen_mult=2.0)[1]["bid_px"][0] == base["bid_px"][0]
    assert guarded(risk_action=RA_WIDEN, widen_mult=0.5)[1]["bid_px"][0] == base["bid_px"][0]


def test_kernel_when_risk_action_widen_then_caps_do_not_undo_it():
    p = params(kappa_bid_per_bps=0.01, kappa_ask_per_bps=0.01)  # GLFT depth beyond the cap
    cfg = cfg_vector(max_half_spread_bps=10.0)
    out = np.zeros(1, records.TARGET_LADDER)
    kernel.compute_ladder_guarded(p[0], 0.0, 1, kernel.account_unknown(), cfg, 0, 0, RA_WIDEN, 3.0,
                                  NOW, out[0])
    assert out[0]["bid_half_spread_bps"] == pytest.approx(30.0)


def test_kernel_when_risk_action_reduce_only_then_only_the_reducing_side():
    reason, lad = guarded(position_sz=0.02, risk_action=RA_REDUCE_ONLY)
    assert reason == PULL_NONE and lad["n_bids"] == 0 and lad["n_asks"] > 0
    assert lad["reduce_only_side"] == -1 and lad["reducing_only"] == 1
    assert lad["ask_sz"][:lad["n_asks"]].sum() <= 0.02 + 1e-12
    _, flat = guarded(position_sz=0.0, risk_action=RA_REDUCE_ONLY)
    assert flat["n_bids"] == 0 and flat["n_asks"] == 0  # nothing to reduce


# --- the process step over real segments --------------------------------------------------

@pytest.fixture
def mem():
    with fresh_segments("qfc") as m:
        yield m


class QuoteStep:
    """The quote process's step for coin 0 over real segments, with its own state."""

    def __init__(self, mem):
        n = mem.params.spec.n_records
        self.mem = mem
        self.lad = np.zeros(n, records.TARGET_LADDER)
        self.seen = new_seen(1)
        self.pos_fail_ns = np.zeros(n, np.int64)
        prm, pos = np.zeros(n, records.MARKET_PARAMS), np.zeros(n, records.POSITION_STATE)
        self.head = (mem.params.seqs, mem.params.rows, prm, byte_rows(prm), self.seen,
                     mem.position.seqs, mem.position.rows, pos, byte_rows(pos),
                     mem.ladder.seqs, mem.ladder.rows, self.lad, byte_rows(self.lad), cfg_vector()[None],
                     account.account_rows(n), int(1e12), self.pos_fail_ns)
        self.hist, self.lat = np.zeros(LAT_BUCKETS, np.uint32), np.zeros(1, np.uint64)

    def __call__(self, kill=0, risk_action=RA_NONE, widen_mult=1.0) -> int:
        return step(*self.head, kill, risk_action, widen_mult, 1, self.hist, self.lat)

    def publish_params(self):
        p = params(update_mono_ns=time.monotonic_ns())
        seqlock.write_block(self.mem.params.seqs, self.mem.params.rows, 0, byte_rows(p)[0])

    def published(self):
        rec, _ = seqlock.snapshot(self.mem.ladder, 0)
        return rec


def _started(mem) -> QuoteStep:
    q = QuoteStep(mem)
    q()  # compiles on first use: that must not age the params below
    # volume far ahead of the requests: the volume credit off, the spreads as GLFT puts them
    set_position(mem, 0, position_sz=0.2 * MAX_POS, volume_usd=1e9)
    q.publish_params()
    q.seen[:] = -1
    assert q() == 1 and q.published()["pulled_reason"] == PULL_NONE
    return q


def _until(pred, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
    return False


def test_step_when_position_unreadable_persistently_then_pulled_position_unknown(mem):
    q = _started(mem)
    mem.position.seqs[0] += 1  # the gateway stuck mid-write
    q.publish_params()
    assert q() == 0  # not at once: it may only be a busy writer
    assert _until(lambda: q() == 1)
    lad = q.published()
    assert lad["pulled_reason"] == PULL_POSITION_UNKNOWN and lad["n_bids"] == 0 and lad["n_asks"] == 0
    assert q() == 0  # said once, not republished every step
    mem.position.seqs[0] += 1  # readable again: quoting resumes without new params
    assert q() == 1 and q.published()["pulled_reason"] == PULL_NONE


def test_step_when_position_unreadable_briefly_then_never_pulled_for_it(mem):
    q = _started(mem)
    mem.position.seqs[0] += 1
    q.publish_params()
    t0 = time.monotonic_ns()
    assert q() == 0
    mem.position.seqs[0] += 1  # the writer finished
    if time.monotonic_ns() - t0 < POSITION_UNKNOWN_AFTER_NS:  # not descheduled ourselves
        assert q() == 1 and q.published()["pulled_reason"] == PULL_NONE


def test_step_when_risk_action_changes_then_ladder_recomputed_without_new_params(mem):
    q = _started(mem)
    assert q() == 0  # nothing moved
    assert q(risk_action=RA_PULL) == 1 and q.published()["pulled_reason"] == PULL_RISK
    assert q(risk_action=RA_PULL) == 0
    assert q(risk_action=RA_NONE) == 1 and q.published()["n_bids"] > 0
    base = q.published()
    assert q(risk_action=RA_WIDEN, widen_mult=2.0) == 1
    assert q.published()["half_spread_bps"] == pytest.approx(2 * base["half_spread_bps"])
    assert q(risk_action=RA_WIDEN, widen_mult=3.0) == 1  # the multiplier alone moved
    assert q(risk_action=RA_REDUCE_ONLY) == 1
    lad = q.published()
    assert lad["n_bids"] == 0 and lad["n_asks"] > 0  # long 0.01: only asks reduce
