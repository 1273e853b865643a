"""The Hyperliquid gateway's bookkeeping without a venue: the reconcile ordering race,
funding reported on two channels, journal compaction, requote pacing."""

import time

import numpy as np

from appliance.gateway import hl_compact, hl_sync
from appliance.gateway.fills import Fill, FillProcessor
from appliance.gateway.fundings import FundingBook
from appliance.gateway.journal import Journal
from appliance.gateway.order_state import (
    E_ACK_RESTING,
    S_FILLED,
    S_PARTIAL_FILLED,
    S_RESTING,
    OrderTracker,
    TrackedOrder,
)
from appliance.gateway.reconcile_plan import (
    LiveOrder,
    Modify,
    NewOrder,
    Plan,
    PlanConfig,
    Target,
    ladder_changed,
)
from appliance.gateway.requote_pacing import PacingConfig, RequotePacer
from shm_layout import records


class FakePositions:
    def __init__(self, n):
        self.pos = np.zeros(n, records.POSITION_STATE)
        self.dirty = [False] * n
        self.published = []

    def apply_fill(self, c, side, px, sz, fee):
        p = self.pos[c]
        p["position_sz"] += side * sz
        p["fees_usd"] += fee
        p["volume_usd"] += px * sz
        p["n_fills"] += 1

    def add_funding(self, c, usdc):
        self.pos[c]["realized_pnl_usd"] += usdc

    def set_position(self, c, szi, entry):
        self.pos[c]["position_sz"] = szi
        self.pos[c]["avg_entry_px"] = entry

    def mark(self, c, mid):
        pass

    def publish_fill(self, *a):
        self.published.append(a)


class FakeCfg:
    class gateway:  # noqa: N801
        unknown_orders = "cancel"
        taker_fee_bps = 4.5


class FakeEx:
    """What hl_sync needs of the executor, with scripted /info answers."""

    def __init__(self, journal_path, answers=None):
        self.coins, self.coin_index, self.n_coins, self.asset = ["BTC"], {"BTC": 0}, 1, [0]
        self.user = "0xabc"
        self.cfg = FakeCfg
        self.tracker = OrderTracker()
        self.fills = FillProcessor()
        self.fundings = FundingBook()
        self.positions = FakePositions(1)
        self.journal = Journal(journal_path, fsync="never")
        self.order_meta, self.replan, self.last_fill_mono = {}, [False], 0.0
        self.stats = {"reconciles": 0, "unknown_cancelled": 0, "missed_fills_applied": 0}
        self.answers = answers or {}
        self.calls = []
        self.on_info = None

    def info(self, req):
        self.calls.append(req["type"])
        if self.on_info is not None:
            self.on_info(req["type"])
        return self.answers.get(req["type"])

    def mid(self, c):
        return 100_000.0

    def cancel_raw(self, pairs):
        return True

    def new_cloid(self):
        return "0x" + "9" * 32


CLOID = "0x" + "11" * 16


def _resting(ex, sz=0.01, oid=11):
    o = ex.tracker.add(TrackedOrder(CLOID, 0, True, 100_000.0, sz))
    ex.journal.append("place", cloid=CLOID, coin=0, is_buy=True, px=100_000.0, sz=sz, tif="Alo")
    hl_sync.bind(ex, o, oid)
    ex.journal.append("ack", cloid=CLOID, oid=oid, st="resting")
    ex.tracker.apply(o, E_ACK_RESTING)
    return o


def _wire_fill(sz, tid, time_ms, oid=11):
    return {"coin": "BTC", "px": "100000", "sz": str(sz), "side": "B", "time": time_ms, "oid": oid,
            "tid": tid, "fee": "0.1", "hash": "0x" + "ab" * 32, "cloid": CLOID, "crossed": False}


def _ws_copy(f):
    return hl_sync.fill_from_wire(_EX_FOR_WIRE, f)


_EX_FOR_WIRE = type("E", (), {"coin_index": {"BTC": 0}})()


def test_reconcile_when_fill_lands_between_open_orders_and_fills_requests_then_filled_once(tmp_path):
    ex = FakeEx(tmp_path / "j.jsonl")
    o = _resting(ex)
    later_ms = time.time_ns() // 1_000_000 + 1000
    fill = _wire_fill(0.01, 7, later_ms)
    # frontendOpenOrders still shows the order whole; the fill lands before userFills
    ex.answers = {"frontendOpenOrders": [{"coin": "BTC", "oid": 11, "cloid": CLOID, "limitPx": "100000",
                                          "sz": "0.01", "side": "B", "origSz": "0.01"}],
                  "userFills": [fill], "clearinghouseState": None}
    assert hl_sync.reconcile(ex, fresh=False)
    assert ex.calls[:2] == ["frontendOpenOrders", "userFills"]
    assert o.state == S_FILLED and abs(o.filled_sz - 0.01) < 1e-12
    hl_sync.on_fill(ex, _ws_copy(fill))  # the websocket copy arrives afterwards
    assert ex.tracker.illegal == 0
    assert ex.positions.pos[0]["position_sz"] == 0.01 and ex.positions.pos[0]["n_fills"] == 1


def test_reconcile_when_partial_fill_lands_between_requests_then_open_size_not_double_counted(tmp_path):
    ex = FakeEx(tmp_path / "j.jsonl")
    o = _resting(ex, sz=0.01)
    later_ms = time.time_ns() // 1_000_000 + 1000
    f1 = _wire_fill(0.004, 7, later_ms)
    ex.answers = {"frontendOpenOrders": [{"coin": "BTC", "oid": 11, "cloid": CLOID, "limitPx": "100000",
                                          "sz": "0.01", "side": "B"}],
                  "userFills": [f1], "clearinghouseState": None}
    assert hl_sync.reconcile(ex, fresh=False)
    assert o.state == S_PARTIAL_FILLED and abs(o.open_sz - 0.006) < 1e-12
    hl_sync.on_fill(ex, _ws_copy(f1))  # duplicate: nothing changes
    hl_sync.on_fill(ex, _ws_copy(_wire_fill(0.006, 8, later_ms + 5)))
    assert o.state == S_FILLED and ex.tracker.illegal == 0
    assert abs(ex.positions.pos[0]["position_sz"] - 0.01) < 1e-12


def test_reconcile_when_order_filled_before_snapshot_then_filled_not_cancelled(tmp_path):
    ex = FakeEx(tmp_path / "j.jsonl")
    o = _resting(ex)
    fill = _wire_fill(0.01, 7, time.time_ns() // 1_000_000 - 1000)
    ex.answers = {"frontendOpenOrders": [], "userFills": [fill], "clearinghouseState": None}
    assert hl_sync.reconcile(ex, fresh=False)
    hl_sync.on_fill(ex, _ws_copy(fill))
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


def _state(ex):
    p = ex.positions.pos[0]
    orders = sorted((o.cloid, o.state, o.oid, o.px, o.sz, o.filled_sz) for o in ex.tracker.by_cloid.values()
                    if o.state in (S_RESTING, S_PARTIAL_FILLED))
    return (orders, [float(p[f]) for f in hl_compact.POS_FIELDS], set(ex.fills._seen),
            dict(ex.fills.immediate_remaining), ex.fundings.records())


def test_journal_when_compacted_then_replays_to_the_same_state(tmp_path):
    path = tmp_path / "j.jsonl"
    ex = FakeEx(path)
    t0 = 1_800_000_000_000
    for i in range(300):  # a long run: orders placed, filled, cancelled
        cl = f"0x{i:032x}"
        o = ex.tracker.add(TrackedOrder(cl, 0, i % 2 == 0, 100_000.0 + i, 0.002))
        ex.journal.append("place", cloid=cl, coin=0, is_buy=o.is_buy, px=o.px, sz=o.sz, tif="Alo",
                          level=i % 3)
        ex.journal.append("ack", cloid=cl, oid=1000 + i, st="resting")
        hl_sync.bind(ex, o, 1000 + i)
        ex.tracker.apply(o, E_ACK_RESTING)
        if i % 3 == 0:
            hl_sync.on_fill(ex, Fill(0, 1000 + i, 5000 + i, o.px, 0.002 if i % 2 else 0.001,
                                     1 if o.is_buy else -1, t0 + i, 0.01, "", cl))
        elif i % 3 == 1 and i < 290:
            ex.journal.append("cancel", cloid=cl, oid=o.oid)
            ex.journal.append("cancel_ack", cloid=cl, ok=True)
            ex.journal.append("ou", cloid=cl, oid=o.oid, ev=8)
        if i % 50 == 0:
            hl_sync.on_funding(ex, 0, -0.5, 0.01, 1e-5, t0 + i * 3_600_000, t0 + i * 3_600_000 + 9)
    ex.journal.close()

    full = FakeEx(path)
    n = hl_sync.replay(full, full.journal.records)
    snap = hl_compact.snapshot_records(full)
    full.journal.close()
    hl_compact.rewrite(path, snap)
    compact = FakeEx(path)
    assert len(compact.journal.records) < n / 4
    hl_sync.replay(compact, compact.journal.records)
    assert _state(compact) == _state(full)
    assert hl_compact.archives(path) == [(1, str(path) + ".1")]  # the previous one archived
    # appending goes on after the compacted records
    assert compact.journal.append("noop") == len(snap) + 1


def _mod(o_px, t_px, level=0, is_buy=True, o_sz=0.01, t_sz=0.01):
    return Modify(LiveOrder("c", 1, 0, is_buy, o_px, o_sz), t_px, t_sz, level, "Alo")


def test_pacing_when_budget_short_then_only_risk_reducing_actions_go():
    now = [0.0]
    pcfg = PacingConfig(budget_per_min=60.0, horizon_h=0.0, burst=4.0, urgent_tolerance_bps=5.0)
    pacer = RequotePacer(pcfg, PlanConfig(), clock=lambda: now[0])
    plan = Plan(0, modify=[_mod(100_100.0, 100_000.0),  # bid 10 bps above its target: urgent
                           _mod(99_990.0, 100_000.0, 1),  # closer to the mid: optional
                           _mod(99_980.0, 100_000.0, 2),
                           _mod(99_970.0, 100_000.0, 3)],
                place=[NewOrder(0, False, 100_200.0, 0.01, 0, "Alo"),
                       NewOrder(0, False, 100_300.0, 0.01, 1, "Alo")])
    out, deferred = pacer.ration(plan)
    # urgent (free): the aggressive bid and the first ask of an empty side; then 4 tokens
    assert sorted(m.level for m in out.modify) == [0, 1, 2, 3]
    assert sorted(n.level for n in out.place) == [0, 1]
    assert deferred == 0
    out, deferred = pacer.ration(plan)  # no time passed: only the urgent ones; the others rest
    assert out.n_actions == 2 and deferred == 4 and pacer.retry_after_s() > 0
    assert sorted(o.px for o in out.keep) == [99_970.0, 99_980.0, 99_990.0]
    now[0] += 100.0  # refilled, capped at the burst
    out, deferred = pacer.ration(plan)
    assert deferred == 0 and pacer.tokens == 0


def test_ladder_when_levels_jitter_or_reorder_inside_tolerance_then_not_changed():
    cfg = PlanConfig(px_tolerance_bps=1.0, sz_tolerance_frac=0.1)
    a = [Target(0, True, 100_000.0, 0.01, 0), Target(0, True, 99_990.0, 0.02, 1),
         Target(0, False, 100_010.0, 0.01, 0)]
    b = [Target(0, False, 100_010.5, 0.0101, 0), Target(0, True, 99_990.0, 0.02, 1),
         Target(0, True, 100_000.0, 0.01, 0)]
    assert not ladder_changed(a, b, cfg)
    assert ladder_changed(a, b[:2], cfg)
    assert ladder_changed(a, [Target(0, True, 100_020.0, 0.01, 0), *a[1:]], cfg)
