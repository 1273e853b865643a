"""Venue health from the transports' response times: ok, slow (fewer, batched
requests, wider optional tolerance), pulled (nothing rests), and back."""

import numpy as np

from appliance.config import load_config
from appliance.gateway.reconcile_plan import PlanConfig
from appliance.gateway.venue_health import OK, PULL_MIN_S, PULLED, SLOW, VenueHealth
from shm_layout import records


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _health(**gateway):
    cfg = load_config(overrides={"gateway": gateway} if gateway else None)
    control = np.zeros(1, records.CONTROL)[0]
    clock = Clock()
    return VenueHealth(cfg.gateway, control, clock), control, clock, cfg.gateway


def test_health_when_venue_fast_then_ok_and_as_configured():
    h, control, _, g = _health()
    for _ in range(20):
        h.observe(3.0, True)
    assert h.state == OK and not h.pulled
    assert h.batch_window_ms(g.batch_window_ms) == g.batch_window_ms
    base = PlanConfig(px_tolerance_bps=1.0)
    assert h.plan_cfg(base) is base
    assert control["gw_venue_latency_ms"] == h.ewma_ms and 0 < h.ewma_ms < 10


def test_health_when_venue_slow_then_batched_and_optional_tolerance_widened_up_to_urgent():
    h, control, _, g = _health()
    for _ in range(10):
        h.observe(3.0, True)
    for _ in range(10):
        h.observe(550.0, True)  # response_delay_ms = 500
    assert h.state == SLOW
    assert h.batch_window_ms(g.batch_window_ms) == g.slow_batch_window_ms > g.batch_window_ms
    assert h.plan_cfg(PlanConfig(px_tolerance_bps=1.0)).px_tolerance_bps == 3.0  # x3
    # never wider than the urgent tolerance: a risk-reducing requote still goes at once
    assert h.plan_cfg(PlanConfig(px_tolerance_bps=4.0)).px_tolerance_bps == g.urgent_tolerance_bps
    assert control["gw_venue_latency_ms"] > g.venue_slow_ms


def test_health_when_unanswered_in_a_row_then_pulled_until_recovered_and_held():
    h, _, clock, g = _health()
    h.observe(3.0, True)
    for _ in range(g.venue_pull_failures):
        h.observe(5.0, False)  # refused or reset: counts as a timeout
    assert h.state == PULLED and h.pulls == 1
    assert h.ewma_ms >= g.http_timeout_s * 1e3 * 0.5
    for _ in range(20):  # answers again at once, but a pull lasts PULL_MIN_S
        h.observe(3.0, True)
    assert h.state == PULLED
    clock.t += PULL_MIN_S
    h.observe(3.0, True)
    assert h.state == OK and h.metrics()["pulled_s"] == PULL_MIN_S


def test_health_when_answers_take_longer_than_pull_threshold_then_pulled_then_slow():
    h, _, clock, g = _health()
    for _ in range(5):
        h.observe(1200.0, True)
    assert h.state == PULLED
    clock.t += PULL_MIN_S
    h.observe(1200.0, True)
    assert h.state == PULLED  # still slow: stays pulled
    while h.state == PULLED:
        h.observe(400.0, True)
    assert h.state == SLOW and h.ewma_ms < 0.6 * g.venue_pull_ms
    while h.state == SLOW:
        h.observe(3.0, True)
    assert h.state == OK
