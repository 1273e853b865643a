"""Journal replay and compaction, alone: a long run's journal replayed rebuilds the
orders, fills, fundings and position; compacted, it replays to the same state from a
fraction of the records; an order answered ``filled`` at once is booked once again
after a restart; a malformed record is skipped."""

from gateway_fakes import GatewayParts

from appliance.gateway.fills import Fill
from appliance.gateway.hyperliquid import journal_compaction, journal_replay
from appliance.gateway.order_state import (
    E_ACK_RESTING,
    S_FILLED_IMMEDIATELY,
    S_PARTIAL_FILLED,
    S_RESTING,
    TrackedOrder,
)


def _replayed(path):
    ex = GatewayParts(path)
    n = journal_replay.replay(ex.journal.records, ex.tracker, ex.booking, ex.positions)
    return ex, n


def _state(ex):
    p = ex.positions.pos[0]
    orders = sorted((o.cloid, o.state, o.oid, o.px, o.sz, o.filled_sz) for o in ex.tracker.by_cloid.values()
                    if o.state in (S_RESTING, S_PARTIAL_FILLED))
    return (orders, [float(p[f]) for f in journal_compaction.POS_FIELDS], set(ex.booking.fills._seen),
            dict(ex.booking.fills.immediate_remaining), ex.booking.fundings.records())


def test_journal_when_compacted_then_replays_to_the_same_state(tmp_path):
    path = tmp_path / "j.jsonl"
    ex = GatewayParts(path)
    t0 = 1_800_000_000_000
    for i in range(300):  # a long run: orders placed, filled, cancelled
        cl = f"0x{i:032x}"
        o = ex.tracker.add(TrackedOrder(cl, 0, i % 2 == 0, 100_000.0 + i, 0.002))
        ex.journal.append("place", cloid=cl, coin=0, is_buy=o.is_buy, px=o.px, sz=o.sz, tif="Alo",
                          level=i % 3)
        ex.journal.append("ack", cloid=cl, oid=1000 + i, st="resting")
        ex.booking.bind(o, 1000 + i)
        ex.tracker.apply(o, E_ACK_RESTING)
        if i % 3 == 0:
            ex.booking.on_fill(Fill(0, 1000 + i, 5000 + i, o.px, 0.002 if i % 2 else 0.001,
                                    1 if o.is_buy else -1, t0 + i, 0.01, "", cl))
        elif i % 3 == 1 and i < 290:
            ex.journal.append("cancel", cloid=cl, oid=o.oid)
            ex.journal.append("cancel_ack", cloid=cl, ok=True)
            ex.journal.append("ou", cloid=cl, oid=o.oid, ev=8)
        if i % 50 == 0:
            ex.booking.on_funding(0, -0.5, 0.01, 1e-5, t0 + i * 3_600_000, t0 + i * 3_600_000 + 9)
    ex.journal.close()

    full, n = _replayed(path)
    snap = journal_compaction.snapshot_records(full.positions, full.tracker, full.booking)
    full.journal.close()
    journal_compaction.rewrite(path, snap)
    compact, m = _replayed(path)
    assert m == len(snap) < n / 4
    assert _state(compact) == _state(full)
    assert journal_compaction.archives(path) == [(1, str(path) + ".1")]  # the previous one archived
    # appending goes on after the compacted records
    assert compact.journal.append("noop") == len(snap) + 1


def test_replay_when_an_order_filled_at_once_then_booked_once_and_ws_copy_skipped(tmp_path):
    path = tmp_path / "j.jsonl"
    ex = GatewayParts(path)
    o = ex.tracker.add(TrackedOrder("0x" + "22" * 16, 0, True, 100_000.0, 0.003, "Ioc"))
    ex.journal.append("place", cloid=o.cloid, coin=0, is_buy=True, px=o.px, sz=o.sz, tif="Ioc")
    ex.booking.on_immediate(o, 55, 0.003, 100_000.0)
    ex.journal.close()
    again, _ = _replayed(path)
    o2 = again.tracker.get(oid=55)
    assert o2 is not None and o2.state == S_FILLED_IMMEDIATELY
    assert abs(float(again.positions.pos[0]["position_sz"]) - 0.003) < 1e-12
    assert again.positions.published == []  # the last run published it
    ws_copy = Fill(0, 55, 9, 100_000.0, 0.003, 1, 1, 0.0, "", o.cloid, crossed=True)
    assert again.booking.on_fill(ws_copy) == 0.0  # counted by amount from the response


def test_replay_when_a_record_is_malformed_then_skipped_and_the_rest_applied(tmp_path):
    path = tmp_path / "j.jsonl"
    ex = GatewayParts(path)
    ex.journal.append("place", coin=0)  # no cloid
    ex.journal.append("venue_pos", coin=0, szi=0.5, entry_px=99_000.0)
    ex.journal.close()
    again, n = _replayed(path)
    assert n == 2 and not again.tracker.by_cloid
    assert float(again.positions.pos[0]["position_sz"]) == 0.5
