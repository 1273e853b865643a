"""VenueSync, alone over a scripted venue: the reconcile ordering race (a fill between
the open-orders and fills requests), orders the venue cancelled, unknown orders,
user events, the position check (a mismatch adopted only when seen twice, quiet);
and the funding book that pairs the two funding channels."""

import time

import numpy as np
from gateway_fakes import GatewayParts

from appliance.gateway.fundings import FundingBook
from appliance.gateway.hyperliquid.venue_sync import VenueSync
from appliance.gateway.order_state import (
    E_ACK_RESTING,
    E_CANCEL_SENT,
    S_CANCEL_PENDING,
    S_CANCELLED,
    S_FILLED,
    S_PARTIAL_FILLED,
    S_RESTING,
    TrackedOrder,
)
from appliance.runtime.journal import read_journal
from shm_layout import records
from shm_layout.constants import UE_FILL, UE_NON_USER_CANCEL, UE_RESYNC

CLOID = "0x" + "11" * 16


class Parts(GatewayParts):
    """The collaborators plus a VenueSync over them; ``drained`` counts user-ring drains."""

    def __init__(self, journal_path, adopt_unknown=False):
        super().__init__(journal_path)
        self.drained = 0
        self.sync = VenueSync(self.client, self.sender, self.tracker, self.booking, self.positions,
                              self.journal, self.follow, "0xabc", ["BTC"], self.asset, adopt_unknown,
                              self.new_cloid, self._drain)

    def _drain(self):
        self.drained += 1
        return 0


def _resting(ex, sz=0.01, oid=11):
    o = ex.tracker.add(TrackedOrder(CLOID, 0, True, 100_000.0, sz))
    ex.journal.append("place", cloid=CLOID, coin=0, is_buy=True, px=100_000.0, sz=sz, tif="Alo")
    ex.booking.bind(o, oid)
    ex.journal.append("ack", cloid=CLOID, oid=oid, st="resting")
    ex.tracker.apply(o, E_ACK_RESTING)
    return o


def _wire_fill(sz, tid, time_ms, oid=11):
    return {"coin": "BTC", "px": "100000", "sz": str(sz), "side": "B", "time": time_ms, "oid": oid,
            "tid": tid, "fee": "0.1", "hash": "0x" + "ab" * 32, "cloid": CLOID, "crossed": False}


def _open(oid=11, sz="0.01"):
    return {"coin": "BTC", "oid": oid, "cloid": CLOID, "limitPx": "100000", "sz": sz, "side": "B",
            "origSz": "0.01"}


def test_reconcile_when_fill_lands_between_open_orders_and_fills_requests_then_filled_once(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    later_ms = time.time_ns() // 1_000_000 + 1000
    fill = _wire_fill(0.01, 7, later_ms)
    # frontendOpenOrders still shows the order whole; the fill lands before userFills
    ex.venue.answers = {"frontendOpenOrders": [_open()], "userFills": [fill]}
    assert ex.sync.reconcile(fresh=False)
    assert ex.venue.infos[:2] == ["frontendOpenOrders", "userFills"]
    assert o.state == S_FILLED and abs(o.filled_sz - 0.01) < 1e-12
    ex.booking.on_fill(ex.booking.from_wire(fill))  # the websocket copy arrives afterwards
    assert ex.tracker.illegal == 0
    assert ex.positions.pos[0]["position_sz"] == 0.01 and ex.positions.pos[0]["n_fills"] == 1


def test_reconcile_when_partial_fill_lands_between_requests_then_open_size_not_double_counted(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex, sz=0.01)
    later_ms = time.time_ns() // 1_000_000 + 1000
    f1 = _wire_fill(0.004, 7, later_ms)
    ex.venue.answers = {"frontendOpenOrders": [_open()], "userFills": [f1]}
    assert ex.sync.reconcile(fresh=False)
    assert o.state == S_PARTIAL_FILLED and abs(o.open_sz - 0.006) < 1e-12
    ex.booking.on_fill(ex.booking.from_wire(f1))  # duplicate: nothing changes
    ex.booking.on_fill(ex.booking.from_wire(_wire_fill(0.006, 8, later_ms + 5)))
    assert o.state == S_FILLED and ex.tracker.illegal == 0
    assert abs(ex.positions.pos[0]["position_sz"] - 0.01) < 1e-12


def test_reconcile_when_order_filled_before_snapshot_then_filled_not_cancelled(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    fill = _wire_fill(0.01, 7, time.time_ns() // 1_000_000 - 1000)
    ex.venue.answers = {"frontendOpenOrders": [], "userFills": [fill]}
    assert ex.sync.reconcile(fresh=False)
    ex.booking.on_fill(ex.booking.from_wire(fill))
    assert o.state == S_FILLED and ex.tracker.illegal == 0
    assert ex.positions.pos[0]["n_fills"] == 1


def test_funding_when_reported_on_both_channels_then_booked_once():
    fb = FundingBook()
    hour_ms = 1_800_000_000_000 // 3_600_000 * 3_600_000
    assert fb.accept(0, -0.12, 0.01, 1e-5, hour_ms, hour_ms + 40)  # userFundings
    assert not fb.accept(0, -0.12, 0.01, 1e-5, 0, hour_ms + 90)  # user (no time)
    assert not fb.accept(0, -0.12, 0.01, 1e-5, hour_ms, hour_ms + 5000)  # snapshot replay
    # the untimed copy first, the timed one after; and a new hour with equal amounts is new
    assert fb.accept(0, -0.12, 0.01, 1e-5, 0, hour_ms + 3_600_000 + 30)
    assert not fb.accept(0, -0.12, 0.01, 1e-5, hour_ms + 3_600_000, hour_ms + 3_600_000 + 80)
    assert fb.accept(0, -0.12, 0.01, 1e-5, hour_ms + 7_200_000, hour_ms + 7_200_000 + 10)
    assert fb.duplicates == 3


def test_reconcile_when_venue_did_not_answer_then_false_and_nothing_changes(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    assert not ex.sync.reconcile(fresh=False)  # frontendOpenOrders: null
    assert o.state == S_RESTING and ex.sync.stats["reconciles"] == 0


def test_reconcile_when_ours_vanished_and_an_unknown_rests_then_closed_and_unknown_cancelled(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    ex.venue.resting[77] = {}
    stranger = {"coin": "BTC", "oid": 77, "cloid": None, "limitPx": "99000", "sz": "0.5", "side": "A"}
    ex.venue.answers = {"frontendOpenOrders": [stranger], "userFills": []}
    ex.follow.replan[0] = False
    assert ex.sync.reconcile(fresh=False)
    assert o.state == S_CANCELLED and 77 not in ex.venue.resting  # ours closed, theirs cancelled
    assert ex.venue.kinds() == ["cancel"] and ex.sync.stats["unknown_cancelled"] == 1
    assert ex.follow.replan == [True]


def test_reconcile_when_unknown_orders_adopted_then_tracked_resting_and_journaled(tmp_path):
    ex = Parts(tmp_path / "j.jsonl", adopt_unknown=True)
    stranger = {"coin": "BTC", "oid": 77, "cloid": None, "limitPx": "99000", "sz": "0.5", "side": "A"}
    ex.venue.answers = {"frontendOpenOrders": [stranger], "userFills": []}
    assert ex.sync.reconcile(fresh=False)
    o = ex.tracker.get(oid=77)
    assert o is not None and o.state == S_RESTING and not o.is_buy and o.open_sz == 0.5
    assert ex.venue.kinds() == [] and [r["k"] for r in _journal(ex)][-1] == "adopt"


def test_reconcile_when_a_cancelled_order_still_rests_then_cancelled_again(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    ex.venue.resting[11] = {}
    ex.tracker.apply(o, E_CANCEL_SENT)  # the cancel went out and never landed
    assert o.state == S_CANCEL_PENDING
    ex.venue.answers = {"frontendOpenOrders": [_open()], "userFills": []}
    assert ex.sync.reconcile(fresh=False)
    assert ex.venue.kinds() == ["cancel"] and ex.venue.resting == {}


def test_reconcile_when_fresh_then_the_venue_position_is_adopted_and_journaled(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    ex.venue.answers = {"frontendOpenOrders": [], "userFills": [], "clearinghouseState": _ch("0.25")}
    assert ex.sync.reconcile(fresh=True)
    assert ex.positions.pos[0]["position_sz"] == 0.25
    assert [r["k"] for r in _journal(ex)] == ["venue_pos"]


def _ch(szi):
    return {"marginSummary": {"accountValue": "1000", "totalMarginUsed": "10"}, "withdrawable": "900",
            "assetPositions": [{"position": {"coin": "BTC", "szi": szi, "entryPx": "100000"}}]}


def _journal(ex):
    ex.journal.sync()
    return read_journal(ex.journal.path)[0]


def test_check_position_when_mismatch_seen_twice_while_quiet_then_venue_position_adopted(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    ex.venue.answers = {"clearinghouseState": _ch("0.02")}
    ex.sync.check_position()
    assert ex.positions.pos[0]["position_sz"] == 0.0 and ex.sync.pos_mismatch == [1]
    assert ex.drained == 1  # fills that came while asking are booked before judging
    ex.sync.check_position()
    assert ex.positions.pos[0]["position_sz"] == 0.02 and ex.sync.stats["position_corrections"] == 1


def test_check_position_when_a_fill_was_just_booked_then_no_correction(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    ex.venue.answers = {"clearinghouseState": _ch("0.02")}
    for _ in range(3):
        ex.booking.last_fill_mono = time.monotonic()  # not quiet: the venue may lag our fill
        ex.sync.check_position()
    assert ex.positions.pos[0]["position_sz"] == 0.0 and ex.sync.stats["position_corrections"] == 0


def _event(kind, oid=11, **kw):
    ev = np.zeros(1, records.USER_EVENT)[0]
    ev["kind"], ev["coin"], ev["oid"] = kind, 0, oid
    for k, v in kw.items():
        ev[k] = v
    return ev


def test_user_events_when_fill_cancel_and_resync_then_booked_closed_and_reconcile_asked(tmp_path):
    ex = Parts(tmp_path / "j.jsonl")
    o = _resting(ex)
    ex.follow.replan[0] = False
    ex.sync.on_user_event(_event(UE_FILL, tid=5, px=100_000.0, sz=0.004, side=1, time_ms=1))
    assert o.state == S_PARTIAL_FILLED and abs(ex.positions.pos[0]["position_sz"] - 0.004) < 1e-12
    assert ex.follow.replan == [True]
    ex.sync.on_user_event(_event(UE_NON_USER_CANCEL))
    assert o.state == S_CANCELLED
    assert not ex.follow.need_reconcile
    ex.sync.on_user_event(_event(UE_RESYNC))
    assert ex.follow.need_reconcile
