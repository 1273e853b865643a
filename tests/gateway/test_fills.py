"""Fill de-duplication: websocket duplicates, snapshot re-delivery, and the
immediate-fill amount rule of seed 004; the cloid map across reconnects."""

from __future__ import annotations

import numpy as np
import orjson

from appliance.feed.events import SourceStats
from appliance.feed.hyperliquid_ws.decode import HlDecoder, ReusableEventWriter, UserEventWriter
from appliance.gateway.fills import CloidMap, Fill, FillProcessor
from shm_layout.constants import UE_FILL, UE_RESYNC

CLOID = "0x000000000000000000000000000000aa"


def _f(tid: int, oid: int = 10, sz: float = 0.1, **kw) -> Fill:
    base = {"coin": 0, "oid": oid, "tid": tid, "px": 100.0, "sz": sz, "side": 1,
            "time_ms": 1_737_918_843_000 + tid}
    base.update(kw)
    return Fill(**base)


def test_fill_when_delivered_twice_on_websocket_then_booked_once():
    fp = FillProcessor()
    assert fp.on_fill(_f(1)) == 0.1
    assert fp.on_fill(_f(1)) == 0.0  # the same fill from userEvents
    assert fp.on_fill(_f(2)) == 0.1
    assert fp.duplicates == 1 and fp.applied == 2


def test_fill_when_same_hash_different_tid_then_both_booked():
    # A taker sweep: one transaction hash, several fills.
    fp = FillProcessor()
    h = "0x" + "ee" * 32
    assert fp.on_fill(_f(1, hash=h)) == 0.1 and fp.on_fill(_f(2, hash=h)) == 0.1
    # A fill without a tid (older format) falls back to hash + amount + time.
    assert fp.on_fill(_f(0, hash=h, sz=0.3)) == 0.3
    assert fp.on_fill(_f(0, hash=h, sz=0.3)) == 0.0


def test_fill_when_snapshot_redelivers_after_reconnect_then_nothing_booked_twice():
    fp = FillProcessor()
    live = [_f(t, oid=10 + t % 3) for t in range(1, 21)]
    booked = sum(fp.on_fill(f) for f in live)
    snapshot = [Fill(**{**f.to_record(), "is_snapshot": True}) for f in live]
    missed = _f(99, oid=50, sz=0.25, is_snapshot=True)  # happened while disconnected
    again = sum(fp.on_fill(f) for f in [*snapshot, missed])
    assert np.isclose(booked, 2.0) and again == 0.25
    assert fp.snapshot_duplicates == 20


def test_immediate_fill_when_ws_reports_same_amount_then_not_booked_again():
    fp = FillProcessor()
    pos = fp.record_immediate(oid=10, total_sz=0.5, cloid=CLOID)
    pos += fp.on_fill(_f(1, sz=0.5))
    assert pos == 0.5 and 10 not in fp.immediate_remaining
    assert fp.cloids.oid(CLOID) == 10


def test_immediate_fill_when_ws_splits_it_then_skipped_by_amount():
    fp = FillProcessor()
    pos = fp.record_immediate(oid=10, total_sz=0.5)
    pos += fp.on_fill(_f(1, sz=0.2)) + fp.on_fill(_f(2, sz=0.3))
    assert np.isclose(pos, 0.5) and np.isclose(fp.immediate_skipped_sz, 0.5)


def test_partial_immediate_fill_when_later_ws_fills_then_only_the_rest_booked():
    fp = FillProcessor()
    pos = fp.record_immediate(oid=10, total_sz=0.3)  # 0.3 of 1.0 matched on arrival
    # ws: the 0.3 echoed in two pieces, then the resting part filling later
    for tid, sz in ((1, 0.2), (2, 0.2), (3, 0.6)):
        pos += fp.on_fill(_f(tid, sz=sz))
    assert np.isclose(pos, 1.0)
    assert fp.on_fill(_f(3, sz=0.6)) == 0.0  # and its duplicate is still a duplicate
    other = fp.on_fill(_f(4, oid=11, sz=0.3))  # another oid is not affected
    assert other == 0.3


def test_cloid_map_when_reconnect_and_open_orders_then_survives_and_completes():
    m = CloidMap()
    m.bind(CLOID, 10)
    assert m.update_from_open_orders([{"oid": 10, "cloid": CLOID}, {"oid": 12, "cloid": "0xBB"},
                                      {"oid": 13}]) == 1
    assert m.oid(CLOID) == 10 and m.oid("0xbb") == 12 and m.cloid(12) == "0xbb"
    m.bind(CLOID, 14)  # a modify re-issues the order under the same cloid
    assert m.oid(CLOID) == 14 and m.cloid(10) is None and len(m) == 2


def test_fill_when_decoded_user_events_across_a_resync_then_cloid_kept_and_dedup_holds():
    out: list[np.ndarray] = []
    stats = SourceStats()
    dec = HlDecoder(["BTC"], ReusableEventWriter(8, stats, lambda b, n: None),
                    UserEventWriter(8, lambda b, n: out.append(b[:n].copy())), stats)
    fill = {"coin": "BTC", "px": "100", "sz": "0.1", "side": "B", "time": 1737918843000,
            "startPosition": "0", "dir": "Open Long", "closedPnl": "0", "hash": "0x" + "1" * 64,
            "oid": 10, "crossed": False, "fee": "0.001", "tid": 5, "cloid": CLOID}
    fp = FillProcessor()
    dec.feed(orjson.dumps({"channel": "userFills", "data": {"user": "0x1", "fills": [fill]}}), 1)
    dec.resync(2, 2)  # the client reconnected
    dec.feed(orjson.dumps({"channel": "userFills",
                           "data": {"user": "0x1", "isSnapshot": True, "fills": [fill]}}), 3)
    dec.user.commit()
    ue = np.concatenate(out)
    assert list(ue["kind"]) == [UE_FILL, UE_RESYNC, UE_FILL]
    booked = [fp.on_fill(Fill.from_user_event(e)) for e in ue if e["kind"] == UE_FILL]
    assert booked == [0.1, 0.0]
    assert fp.cloids.oid(CLOID) == 10
