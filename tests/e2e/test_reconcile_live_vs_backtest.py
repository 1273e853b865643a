"""The live gateway and the backtester run one reconciler: fed the same ladders and
the same books, they make the same plans, pace them the same and leave the same
orders, in the same queue places, at the venue.

Live side: the gateway's own planner (``LadderPlanner`` over a real TargetLadder
seqlock block, each ladder planned as a replan would: ``ladder_kernel.plan_ladder`` with
the coin's szDecimals and the ``RequotePacer``, built from the config as
``HyperliquidExecutor`` builds them) against the local venue's engine
(``VenueEngine``: place, modify, cancel, as the venue server applies the gateway's
batches: cancels, then modifies, then orders). Backtest side: ``venue_exec.reconcile``
on the arrays of a ``runner.Simulation``, as the njit loop calls it. Both venues take
the same market events, so our fills, and so the live orders, agree too.
"""


import numpy as np
import pytest
from risk_helpers import fresh_segments

from appliance.backtest import venue_exec
from appliance.backtest.load import load_events
from appliance.backtest.runner import Simulation
from appliance.config import load_config
from appliance.gateway import pacing_kernel as pk
from appliance.gateway import reconcile_kernel as rk
from appliance.gateway.hyperliquid.follow_ups import FollowUps
from appliance.gateway.hyperliquid.ladder_planner import LadderPlanner
from appliance.gateway.hyperliquid.pending_plans import PendingPlans
from appliance.gateway.order_state import S_RESTING, OrderTracker, TrackedOrder
from appliance.gateway.rate_budget import RateBudget
from appliance.gateway.reconcile_plan import Plan, plan_config_of
from appliance.gateway.requote_pacing import RequotePacer, pacing_config_of
from appliance.gateway.venue_health import VenueHealth
from appliance.ipc import byte_rows, seqlock
from appliance.venue import matching
from appliance.venue.matching.engine import CoinSpec, VenueEngine
from shm_layout import records
from shm_layout.records import TARGET_LADDER
from shm_layout.venue_records import OS_OPEN

ADDRESS = "0x" + "ab" * 20
STEP_NS = 100_000_000  # a ladder every 100 ms of market time
MAX_POSITION_SZ = 1e6  # the backtester's room check never binds here


def _ladder(mid: float, rng: np.random.Generator) -> np.ndarray:
    """A ladder that moves a little (keeps), sometimes more (modifies), changes its
    level count (cancels, places) and now and then pulls a side."""
    lad = np.zeros(1, TARGET_LADDER)
    n_bids, n_asks = rng.integers(0, 6) if rng.random() < 0.1 else 5, rng.integers(3, 6)
    jump = rng.random() < 0.3
    for side, n, px_key, sz_key in ((1, n_bids, "bid_px", "bid_sz"), (-1, n_asks, "ask_px", "ask_sz")):
        for i in range(n):
            off_bps = 2.0 + 3.0 * i + (rng.normal(0.0, 2.0) if jump else rng.normal(0.0, 0.2))
            lad[px_key][0, i] = mid * (1.0 - side * off_bps * 1e-4)
            lad[sz_key][0, i] = 0.0011 * (1.0 + 0.3 * rng.random()) if jump else 0.0012
            # a per-fill edge (E[PnL] / P(fill)) now and then too small to keep an order
            # that rests closer than its target (the keep tolerance's edge rule)
            pre = "bid" if side > 0 else "ask"
            # the deep levels hardly fill: worth less than a request once the allowance is spent
            fill_prob = 0.5 if i < 3 else 0.0005
            lad[f"{pre}_fill_prob"][0, i] = fill_prob
            lad[f"{pre}_epnl_bps"][0, i] = fill_prob * rng.uniform(-0.5, 3.0)
    lad["n_bids"], lad["n_asks"] = n_bids, n_asks
    return lad


class _Positions:
    """The PositionState rows the planner reads (position, volume) and marks."""

    def __init__(self) -> None:
        self.pos = np.zeros(1, records.POSITION_STATE)

    def mark(self, c: int, mid: float) -> None:
        pass


@pytest.fixture
def mem():
    with fresh_segments("rlb") as m:
        yield m


def _live_rows(plan, resting: list[tuple]) -> list[tuple]:
    """The plan's rows; the orders it leaves untouched (``resting``: oid, is_buy, px,
    sz) are its keeps."""
    acted = {m.order.oid for m in plan.modify} | {o.oid for o in plan.cancel}
    rows = [("keep", b, px, sz) for oid, b, px, sz in resting if oid not in acted]
    rows += [("modify", m.order.is_buy, m.order.px, m.px, m.sz) for m in plan.modify]
    rows += [("cancel", o.is_buy, o.px, o.sz) for o in plan.cancel]
    rows += [("place", n.is_buy, n.px, n.sz) for n in plan.place]
    return sorted(rows)


def _backtest_rows(out, l_buy, l_px, l_sz, t_buy, t_px, t_sz) -> list[tuple]:
    rows = []
    for kind, j, i in out.tolist():
        if kind == rk.ACT_KEEP:
            rows.append(("keep", bool(l_buy[j]), float(l_px[j]), float(l_sz[j])))
        elif kind == rk.ACT_MODIFY:
            rows.append(("modify", bool(l_buy[j]), float(l_px[j]), float(t_px[i]), float(t_sz[i])))
        elif kind == rk.ACT_CANCEL:
            rows.append(("cancel", bool(l_buy[j]), float(l_px[j]), float(l_sz[j])))
        elif kind == rk.ACT_PLACE:
            rows.append(("place", bool(t_buy[i]), float(t_px[i]), float(t_sz[i])))
    return sorted(rows)


def _venue_orders_live(eng: VenueEngine) -> list[tuple]:
    return sorted((o.oid, o.side == "B", o.limit_px, o.sz, eng.queue_ahead(o.oid))
                  for o in eng.open_orders(ADDRESS))


def _venue_orders_backtest(sim: Simulation) -> list[tuple]:
    o = sim.va.orders
    mine = o[(o["status"] == OS_OPEN) & (o["account"] == 0) & (o["oid"] > 0)]
    return sorted((int(r["oid"]), int(r["side"]) > 0, float(r["px"]), float(r["sz"]),
                   float(r["queue_ahead_sz"])) for r in mine)


# without and with the volume budget: one request per 20 USDC, so that it runs down and
# requests get a price (the deep levels, worth less than one, keep their orders)
@pytest.mark.parametrize("requests_per_usd", [0.0, 0.05])
def test_plans_when_same_ladders_and_books_then_live_gateway_and_backtester_agree(mem, requests_per_usd):
    cfg = load_config(overrides={"gateway": {"requote_requests_per_usd": requests_per_usd,
                                             "requote_request_allowance": 20.0}})
    g, b = cfg.gateway, cfg.backtest
    events, _ = load_events("synthetic", seed=5, duration_s=40.0)
    rng = np.random.default_rng(7)

    # the backtester, as runner.Simulation builds it
    sim = Simulation(cfg)
    bt, vst = sim.st[0], sim.va.st[0]
    # the live gateway's planning objects, as HyperliquidExecutor builds them
    plan_cfg = plan_config_of(g, cfg.quote.min_notional_usd)
    clock_s = [0.0]
    pacer = RequotePacer(pacing_config_of(g), plan_cfg, clock=lambda: clock_s[0])
    tracker, follow, pending, positions = OrderTracker(), FollowUps(1), PendingPlans(), _Positions()
    planner = LadderPlanner(mem.ladder, 1, [b.sz_decimals], tracker, positions, RateBudget(), pacer,
                            VenueHealth(g), plan_cfg, follow, pending,
                            limit_sz=lambda c, mid: MAX_POSITION_SZ)
    eng = VenueEngine([CoinSpec("BTC", b.sz_decimals, b.max_leverage)], queue_model=b.queue_model,
                      queue_power=b.queue_power)
    eng.add_account(ADDRESS, b.account_usd)

    kinds = dict.fromkeys(("keep", "modify", "cancel", "place"), 0)
    next_ladder_ns = 0
    steps = 0
    for k in range(events.shape[0]):
        ev = events[k]
        eng.on_market(events[k:k + 1])
        matching.on_market_event(vst, *sim.va[1:], ev)
        vst["n_fills"] = 0
        vst["n_updates"] = 0
        t = int(ev["recv_ts_ns"])
        if ev["n_bids"] < 1 or ev["n_asks"] < 1 or t < next_ladder_ns:
            continue
        next_ladder_ns = t + STEP_NS
        steps += 1
        lad = _ladder(0.5 * (float(ev["lv"]["bid_px"][0]) + float(ev["lv"]["ask_px"][0])), rng)
        now_ns = int(vst["now_ns"])
        assert eng.now_ms() == now_ns // 1_000_000

        # live: plan, pace, send (cancels, modifies, orders)
        clock_s[0] = now_ns * 1e-9
        resting = [(o.oid, o.side == "B", o.limit_px, o.sz) for o in eng.open_orders(ADDRESS)]
        tracker.by_cloid.clear()
        for oid, is_buy, px, sz in resting:
            tracker.add(TrackedOrder(f"{oid}", 0, is_buy, px, sz, oid=oid, state=S_RESTING))
        volume_usd = float(sim.va.accounts[0]["volume_usd"])  # the venue's: both see the same fills
        positions.pos["volume_usd"] = volume_usd
        lad["src_pub_mono_ns"] = steps
        seqlock.write_block(mem.ladder.seqs, mem.ladder.rows, 0, byte_rows(lad)[0])
        follow.replan_coin(0)  # planned whatever the ladder, as the backtester plans each one
        assert planner.read() == 1
        plans, _ = pending.take()
        plan = plans[0] if plans else Plan(0)
        for o in plan.cancel:
            eng.cancel(ADDRESS, "BTC", o.oid)
        for m in plan.modify:
            eng.modify(ADDRESS, m.order.oid, "BTC", m.order.is_buy, m.px, m.sz, "Alo")
        for n in plan.place:
            eng.place(ADDRESS, "BTC", n.is_buy, n.px, n.sz, "Alo")

        # backtest: its plan (on copies: reconcile plans again from the same state)
        got = venue_exec.plan_for(sim.st.copy()[0], sim.va.orders, sim.va.books, lad[0], sim.pcfg,
                                  sim.pstate.copy(), 0, now_ns, sim.recs.copy(), volume_usd)
        venue_exec.reconcile(bt, vst, sim.va.books, sim.va.orders, sim.va.accounts,
                             sim.va.positions, sim.va.fills, sim.va.updates, sim.res, lad[0],
                             sim.pcfg, sim.pstate, 0, sim.cloid, MAX_POSITION_SZ, sim.recs)
        vst["n_fills"] = 0
        vst["n_updates"] = 0

        live_rows = _live_rows(plan, resting)
        assert _backtest_rows(*got[:7]) == live_rows, f"step {steps}"
        assert _venue_orders_backtest(sim) == _venue_orders_live(eng), f"step {steps}"
        for row in live_rows:
            kinds[row[0]] += 1

    assert steps > 300
    assert int(bt["n_actions_deferred"]) == pacer.deferred > 0
    assert int(bt["n_orders_modified"]) == kinds["modify"] > 0
    assert int(bt["n_orders_placed"]) == kinds["place"] > 0
    assert int(bt["n_orders_cancelled"]) == kinds["cancel"] > 0
    assert kinds["keep"] > 0
    assert float(sim.pstate[pk.P_TOKENS]) == pacer.tokens
    if requests_per_usd > 0.0:  # the allowance ran down: both priced requests, the same
        cost = pk.request_cost_now(sim.pcfg, sim.pstate, float(sim.va.accounts[0]["volume_usd"]))
        assert cost > 0.0 and cost == pk.request_cost_now(pacer.kernel_cfg, pacer.state, pacer.volume_usd)
