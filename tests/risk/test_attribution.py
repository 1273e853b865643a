"""Live P&L attribution in the watchdog (appliance/risk/attribution.py) over real segments:
the session's baseline, a fill booked only once PositionState counts it, its adverse
selection at the first cycle past the horizon, the journal, the metrics, a restart."""

import time

import pytest
from risk_helpers import NOON, fresh_segments, make_view, publish_fill, set_params, set_position

from appliance.ipc import seqlock
from appliance.risk.attribution import LiveAttribution
from appliance.risk.journal import read_records
from appliance.risk.metrics import ApplianceCollector

H = 10_000_000_000


@pytest.fixture
def setup(tmp_path):
    with fresh_segments("rattr") as mem:
        view = make_view(mem, tmp_path)
        yield mem, view, tmp_path / "attribution-journal.jsonl"


def _cycle(att, view, now):
    view.refresh(NOON)
    att.step(view, now)


def test_live_when_fill_then_booked_with_the_position_and_marked_out_after_the_horizon(setup):
    mem, view, path = setup
    att = LiveAttribution(view.cfg, mem, path, every_s=0.0)
    t0 = time.monotonic_ns()
    set_position(mem, 0, update_mono_ns=t0, position_sz=0.0, mark_px=100.0)
    set_position(mem, 1, update_mono_ns=t0, position_sz=0.0, mark_px=2000.0)
    _cycle(att, view, t0)
    rec = mem.attrib.records
    assert rec[0]["started"] == 1 and rec[1]["started"] == 1
    # a fill on the ring, the position not yet republished: waiting, not booked
    publish_fill(mem, coin=0, side=1, sz=1.0, px=99.0, mid_px=100.0, fee_usd=0.01, is_maker=1,
                 pub_mono_ns=t0 + 1, ts_ns=123)
    _cycle(att, view, t0 + 2)
    assert rec[0]["n_pending"] == 1 and rec[0]["n_fills"] == 0 and rec[0]["ok"] == 1
    # the position counts it: booked, sums
    set_position(mem, 0, update_mono_ns=t0 + 3, position_sz=1.0, mark_px=100.0, total_pnl_usd=0.99,
                 fees_usd=0.01)
    set_params(mem, 0, mid_px=100.0)
    _cycle(att, view, t0 + 4)
    assert rec[0]["n_fills"] == 1 and rec[0]["ok"] == 1
    assert rec[0]["spread_usd"] == pytest.approx(1.0) and rec[0]["fees_usd"] == pytest.approx(-0.01)
    # past the horizon, the mid at 102: the move is adverse selection (for us: +2)
    set_params(mem, 0, mid_px=102.0)
    set_position(mem, 0, update_mono_ns=t0 + H + 5, position_sz=1.0, mark_px=102.0, total_pnl_usd=2.99,
                 fees_usd=0.01)
    _cycle(att, view, t0 + H + 6)
    assert rec[0]["n_pending"] == 0 and rec[0]["ok"] == 1
    assert rec[0]["adverse_selection_usd"] == pytest.approx(2.0) and rec[0]["inventory_usd"] == 0.0
    # later the inventory carries the move: 103
    set_position(mem, 0, update_mono_ns=t0 + H + 7, position_sz=1.0, mark_px=103.0, total_pnl_usd=3.99,
                 fees_usd=0.01)
    _cycle(att, view, t0 + H + 8)
    assert rec[0]["inventory_usd"] == pytest.approx(1.0) and rec[0]["total_usd"] == pytest.approx(3.99)
    assert rec[0]["pnl_usd"] == pytest.approx(3.99) and abs(rec[0]["residual_usd"]) < 1e-9
    att.close()
    kinds = [(r["k"], r["coin"]) for r in read_records(path)]
    assert kinds[:2] == [("session", "BTC"), ("session", "ETH")] and ("fill", "BTC") in kinds
    fill = next(r for r in read_records(path) if r["k"] == "fill")
    assert fill["adverse_selection_usd"] == pytest.approx(2.0) and fill["mid_h_px"] == 102.0
    # the metrics exporter reads the block
    fams = {f.name: f for f in ApplianceCollector(mem, view.cfg, "inst").collect()}
    got = {(s.labels["component"], s.labels["coin"]): s.value
           for s in fams["mm_pnl_component_usd"].samples}
    assert got[("spread", "BTC")] == pytest.approx(1.0) and got[("inventory", "BTC")] == pytest.approx(1.0)
    assert {c for c, _ in got} == {"spread", "adverse_selection", "inventory", "funding", "fees"}
    # a restarted watchdog carries on from the block
    again = LiveAttribution(view.cfg, mem, path, every_s=0.0)
    assert again.ledgers[0].started and again.recs[0]["n_fills"] == 1
    again.close()


def test_live_when_sum_breaks_then_flagged_logged_and_journaled(setup):
    mem, view, path = setup
    att = LiveAttribution(view.cfg, mem, path, every_s=0.0)
    t0 = time.monotonic_ns()
    set_position(mem, 0, update_mono_ns=t0, position_sz=0.0, mark_px=100.0)
    _cycle(att, view, t0)
    # the P&L moves with no fill and no position: nothing explains it
    set_position(mem, 0, update_mono_ns=t0 + 1, position_sz=0.0, mark_px=100.0, total_pnl_usd=-1.0)
    _cycle(att, view, t0 + 2)
    rec, _ = seqlock.snapshot(mem.attrib, 0)
    assert rec["ok"] == 0 and rec["n_failed"] == 1 and rec["residual_usd"] == pytest.approx(-1.0)
    att.close()
    assert "mismatch" in [r["k"] for r in read_records(path)]


def test_live_when_position_adopted_then_adjustment_journaled_and_fills_counted_once(setup):
    mem, view, path = setup
    att = LiveAttribution(view.cfg, mem, path, every_s=0.0)
    t0 = time.monotonic_ns()
    set_position(mem, 0, update_mono_ns=t0, position_sz=0.0, mark_px=100.0)
    _cycle(att, view, t0)
    publish_fill(mem, coin=0, side=1, sz=1.0, px=99.0, mid_px=100.0, pub_mono_ns=t0 + 1)
    set_position(mem, 0, update_mono_ns=t0 + 2, position_sz=1.0, mark_px=100.0, total_pnl_usd=1.0)
    _cycle(att, view, t0 + 3)
    att.step(view, t0 + 4)  # the same cycle's fills again: not booked twice
    rec = mem.attrib.records
    assert rec[0]["n_fills"] == 1 and rec[0]["ok"] == 1 and rec[0]["n_adjustments"] == 0
    # the gateway corrects the position to the venue's (3 at 98): not a fill of ours
    set_position(mem, 0, update_mono_ns=t0 + 5, position_sz=3.0, avg_entry_px=98.0, mark_px=100.0,
                 total_pnl_usd=6.0)
    _cycle(att, view, t0 + 6)
    assert rec[0]["n_adjustments"] == 1 and rec[0]["adjustment_usd"] == pytest.approx(5.0)
    assert rec[0]["ok"] == 1
    att.close()
    adj = [r for r in read_records(path) if r["k"] == "adjustment"]
    assert len(adj) == 1 and adj[0]["pnl_jump_usd"] == pytest.approx(5.0) and adj[0]["position_sz"] == 3.0


def test_live_when_cycles_between_steps_then_their_fills_wait_for_the_next_step(setup):
    mem, view, path = setup
    att = LiveAttribution(view.cfg, mem, path, every_s=1.0)
    t0 = time.monotonic_ns()
    set_position(mem, 0, update_mono_ns=t0, position_sz=0.0, mark_px=100.0)
    _cycle(att, view, t0)
    publish_fill(mem, coin=0, side=-1, sz=1.0, px=101.0, mid_px=100.0, pub_mono_ns=t0 + 1)
    set_position(mem, 0, update_mono_ns=t0 + 2, position_sz=-1.0, mark_px=100.0, total_pnl_usd=1.0)
    _cycle(att, view, t0 + 3)  # read now, between two steps
    rec = mem.attrib.records
    assert rec[0]["n_fills"] == 0
    _cycle(att, view, t0 + 1_000_000_000)
    assert rec[0]["n_fills"] == 1 and rec[0]["spread_usd"] == pytest.approx(1.0) and rec[0]["ok"] == 1
    att.close()


def test_live_when_journal_cannot_be_written_then_carries_on_and_backs_off(setup, tmp_path):
    mem, view, _ = setup
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    att = LiveAttribution(view.cfg, mem, blocked / "attribution-journal.jsonl", every_s=0.0)
    t0 = time.monotonic_ns()
    set_position(mem, 0, update_mono_ns=t0, position_sz=0.0, mark_px=100.0)
    _cycle(att, view, t0)  # the session record fails
    publish_fill(mem, coin=0, side=1, sz=1.0, px=99.0, mid_px=100.0, pub_mono_ns=t0 + 1)
    set_position(mem, 0, update_mono_ns=t0 + 2, position_sz=1.0, mark_px=100.0, total_pnl_usd=1.0)
    set_params(mem, 0, mid_px=100.0)
    _cycle(att, view, t0 + H + 3)  # the fill's record: dropped, not tried
    assert mem.attrib.records[0]["n_fills"] == 1 and mem.attrib.records[0]["ok"] == 1
    assert att.journal.errors == 1 and att.dropped >= 1
    att.close()
