"""Positions over real shared memory: fills move the average entry and realize PnL on
the closing part (a flip re-enters at the fill price), a venue position is adopted,
PositionState is published through the seqlock, fills go out on the fills ring."""

from __future__ import annotations

import numpy as np
import pytest
from risk_helpers import fresh_segments

from appliance.gateway.hyperliquid.positions import Positions
from appliance.gateway.hyperliquid.tick_to_wire import STAGES, STRATEGY_PARTS, TickToWire
from appliance.ipc import ring, seqlock
from appliance.runtime import latency
from shm_layout import records


@pytest.fixture
def mem():
    with fresh_segments("pos") as m:
        yield m


def test_apply_fill_when_position_flips_then_pnl_realized_and_entry_reset(mem):
    p = Positions(mem, 1)
    p.apply_fill(0, 1, 100.0, 2.0, 0.1)
    p.apply_fill(0, 1, 103.0, 1.0, 0.1)
    r = p.pos[0]
    assert float(r["position_sz"]) == 3.0 and float(r["avg_entry_px"]) == pytest.approx(101.0)
    p.apply_fill(0, -1, 105.0, 4.0, 0.2)  # closes 3 at +4 each, opens 1 short at 105
    assert float(r["position_sz"]) == -1.0 and float(r["avg_entry_px"]) == 105.0
    assert float(r["realized_pnl_usd"]) == pytest.approx(12.0)
    p.mark(0, 104.0)
    assert float(r["unrealized_pnl_usd"]) == pytest.approx(1.0)
    assert float(r["total_pnl_usd"]) == pytest.approx(12.0 + 1.0 - 0.4)
    assert int(r["n_fills"]) == 3


def test_publish_when_dirty_then_readers_see_the_row_and_fills_on_the_ring(mem):
    p = Positions(mem, 1)
    p.set_position(0, 0.5, 99_000.0)
    p.set_orders(0, [(99_990.0, 0.01)], [])
    p.publish()
    row, seq = seqlock.snapshot(mem.position, 0)
    assert seq > 0 and float(row["position_sz"]) == 0.5 and int(row["n_open_bids"]) == 1
    assert float(row["available_margin_usd"]) == -1.0  # account not known yet
    cur = np.zeros(2, np.int64)
    cur[0] = ring.start_cursor(mem.fills.ring_words, from_start=True)
    p.publish_fill(0, 1, 99_990.0, 0.01, 0.0, 1, 7, True, 0, 42, 100_000.0, 0.3, 1.5)
    out = np.zeros(1, records.FILL_EVENT)
    assert ring.read_next(mem.fills.ring_words, mem.fills.seqs, mem.fills.rows, cur, 0,
                          out.view(np.uint8))
    f = out[0]
    assert (int(f["oid"]), int(f["level_id"]), float(f["position_sz"])) == (7, 42, 0.5)


def test_tick_to_wire_when_the_source_event_is_found_then_sampled_from_its_receive_time():
    md = np.zeros(4, records.MD_EVENT)
    md["pub_mono_ns"] = [10, 20, 30, 40]
    md["recv_ts_ns"] = [0, 1_000, 2_000, 3_000]
    slot = np.zeros(1, records.PROC_SLOT)[0]
    t = TickToWire(md, slot)
    t.sample(20, 51_000)  # 50 µs
    t.sample(10, 99_000)  # no receive time: not a sample
    t.sample(99, 99_000)  # not in the ring any more
    assert t.samples_ns == [50_000] and t.summary()["p50"] == 50.0 and t.summary()["n"] == 1
    # the slot's histogram (mm_tick_to_wire_seconds) counts the one sample, in its bucket
    assert int(slot["lat_count"]) == 1 and int(slot["lat_hist"].sum()) == 1
    assert int(slot["lat_hist"][latency.bucket_of(50_000)]) == 1


def test_tick_to_wire_when_ladder_and_sign_stamps_known_then_stages_sum_to_the_sample():
    import time

    offset = time.time_ns() - time.monotonic_ns()
    pub = time.monotonic_ns()  # md published; received 30 µs before, on the realtime clock
    md = np.zeros(2, records.MD_EVENT)
    md["pub_mono_ns"] = [pub, pub + 1]
    md["recv_ts_ns"] = [pub - 30_000 + offset, 5]
    t = TickToWire(md)
    t.ladder_read(pub, pub + 100_000, pub + 150_000)  # ladder +100 µs, read +150 µs
    t.sample(pub, pub + 400_000 + offset, (pub + 200_000, pub + 240_000))  # wire +400 µs
    t.sample(pub + 1, 99 + offset, None)  # no ladder known: a total, no stages
    st = t.summary()["stages"]
    assert st["strategy"]["p50"] == 100.0 and st["to_gateway"]["p50"] == 50.0
    assert st["plan_queue"]["p50"] == 50.0 and st["sign"]["p50"] == 40.0
    # the two stages that cross clocks move with the realtime-monotonic offset's jitter
    assert abs(st["to_socket"]["p50"] - 160.0) < 10.0 and abs(st["feed"]["p50"] - 30.0) < 10.0
    assert all(st[s]["n"] == 1 for s in STAGES) and t.summary()["n"] == 2
    assert all(st[s]["n"] == 0 for s in STRATEGY_PARTS)  # no MarketParams block: not cut
    # only the newest ladders are kept
    for k in range(300):
        t.ladder_read(10_000 + k, 1, 2)
    assert len(t._ladders) == 256 and 10_000 not in t._ladders


def test_tick_to_wire_when_the_ladders_params_still_in_their_block_then_strategy_cut_in_two(mem):
    import time

    from appliance.ipc import byte_rows

    offset = time.time_ns() - time.monotonic_ns()
    pub = time.monotonic_ns()
    md = np.zeros(2, records.MD_EVENT)
    md["pub_mono_ns"] = [pub, pub + 1]
    md["recv_ts_ns"] = [pub - 30_000 + offset, pub - 20_000 + offset]
    params = np.zeros(1, records.MARKET_PARAMS)
    params["src_pub_mono_ns"], params["update_mono_ns"] = pub, pub + 60_000  # estimator +60 µs
    seqlock.write_block(mem.params.seqs, mem.params.rows, 0, byte_rows(params)[0])
    t = TickToWire(md, params_block=mem.params)
    t.ladder_read(pub, pub + 100_000, pub + 150_000, 0)  # quote's ladder +100 µs
    t.sample(pub, pub + 400_000 + offset, (pub + 200_000, pub + 240_000))
    t.ladder_read(pub + 1, pub + 100_000, pub + 150_000, 0)  # the block holds another event's params
    t.sample(pub + 1, pub + 400_000 + offset, (pub + 200_000, pub + 240_000))
    st = t.summary()["stages"]
    assert st["strategy_estimator"]["p50"] == 60.0 and st["strategy_quote"]["p50"] == 40.0
    assert st["strategy_estimator"]["n"] == 1 and st["strategy"]["n"] == 2


def test_tick_to_wire_when_a_batch_is_a_replan_then_a_sample_but_not_ladder_caused():
    md = np.zeros(2, records.MD_EVENT)
    md["pub_mono_ns"] = [10, 20]
    md["recv_ts_ns"] = [1_000, 2_000]
    t = TickToWire(md)
    t.batch_fresh = True  # planned when its ladder was read
    t.sample(10, 51_000)
    t.batch_fresh = False  # a replan after a fill, on the same ladder, much later
    t.sample(20, 9_002_000)
    s = t.summary()
    assert s["n"] == 2 and s["ladder_caused"]["n"] == 1
    assert s["ladder_caused"]["p50"] == 50.0 and s["ladder_caused"]["samples"] == [50.0]
