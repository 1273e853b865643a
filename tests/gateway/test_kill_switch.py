"""KillSwitch, FatalStop and VenuePull, alone over a scripted venue: under the kill
flag every order is cancelled, pending plans dropped, and nothing counts as done until
``openOrders`` shows none of ours (then PositionState says so); a reset is reported
once; a fatal reason raises the flag once. A slow venue's pull cancels and probes, and
on recovery every coin plans again."""

from __future__ import annotations

from gateway_fakes import USER, GatewayParts

from appliance.gateway.hyperliquid.kill_switch import FatalStop
from appliance.gateway.hyperliquid.venue_pull import VenuePull
from appliance.gateway.order_state import S_CANCELLED
from appliance.gateway.reconcile_plan import NewOrder, Plan
from appliance.gateway.venue_health import PULLED, VenueHealth


def _place(ex, n=2):
    ex.sender.send_orders([NewOrder(0, True, 99_990.0 - i, 0.001, i, "Alo") for i in range(n)], 0)


def test_kill_step_when_flag_seen_then_cancels_drops_pending_and_verifies(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    _place(ex, 3)
    ex.pending.put(0, Plan(0, place=[NewOrder(0, True, 99_000.0, 0.001, 0, "Alo")]), 0)
    ex.venue.resting[999] = {}  # an order of ours the tracker does not know
    ex.kill_switch.step(10.0)
    assert not ex.pending and ex.kill_switch.stats["kill_cancels"] == 3
    assert ex.venue.resting == {} and not ex.kill_switch.verified  # openOrders showed the stranger
    ex.kill_switch.step(10.1)  # before the next verify: nothing to do
    assert ex.venue.infos == ["openOrders"]
    ex.kill_switch.step(10.0 + 0.31)
    assert ex.kill_switch.verified and ex.kill_switch.stats["kill_to_verified_ms"] is not None
    assert all(o.state == S_CANCELLED for o in ex.tracker.by_cloid.values())
    assert int(ex.positions.pos[0]["kill_active"]) == 1
    assert ex.kill_switch.step(20.0) == 0  # verified: quiet until the flag is reset


def test_kill_step_when_backing_off_then_nothing_is_sent(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    _place(ex, 1)
    ex.client.backoff_until = 1e12
    assert ex.kill_switch.step(10.0) == 0 and len(ex.venue.resting) == 1


def test_reset_when_the_flag_goes_down_then_reported_once(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    assert not ex.kill_switch.reset()
    ex.kill_switch.step(1.0)
    assert ex.kill_switch.reset() and not ex.kill_switch.reset()
    assert not ex.kill_switch.verified


def test_graceful_stop_when_orders_rest_then_none_left_within_the_bound(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    _place(ex, 2)
    ex.client.backoff_until = 1e12  # a 429 backoff does not hold a stop
    drained = []
    ex.kill_switch.cancel_all_bounded(lambda: drained.append(1) or 0)
    assert ex.venue.resting == {} and ex.kill_switch.verified and drained


def test_fatal_stop_when_declared_twice_then_flag_raised_once_with_the_short_reason():
    kills: list[str] = []
    f = FatalStop(kills.append)
    assert not f
    f.declare("venue does not know our signer 0x1 (long story)", "does not exist")
    f.declare("something else")
    assert f and f.reason.startswith("venue does not know") and kills == ["gateway: does not exist"]


def _pull(ex, clock):
    g = ex.cfg.gateway
    health = VenueHealth(g, ex.control, clock=lambda: clock[0])
    return health, VenuePull(health, ex.client, ex.sender, ex.tracker, ex.pending, ex.follow, USER,
                             ex.coin_index, ex.asset, cancel_unknown=True)


def test_pull_when_venue_too_slow_then_cancels_probes_and_replans_on_recovery(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    clock = [100.0]
    health, pull = _pull(ex, clock)
    assert pull.step(100.0) is None  # healthy: quote as usual
    _place(ex, 2)
    ex.pending.put(0, Plan(0), 0)
    for _ in range(ex.cfg.gateway.venue_pull_failures):
        health.observe(0.0, answered=False)
    assert health.state == PULLED
    ex.venue.resting[999] = {}  # not ours to know; unknown_orders = cancel
    assert pull.step(100.0) > 0
    assert ex.venue.resting == {} and not ex.pending and ex.venue.infos == ["openOrders"]
    ex.follow.replan[0] = False
    clock[0] += 60.0
    for _ in range(20):
        health.observe(1.0, answered=True)
    assert not health.pulled
    assert pull.step(clock[0]) is None and ex.follow.replan == [True]
