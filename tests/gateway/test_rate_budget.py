"""The rate-limit budget: IP weights, the address quota, and the reducing-side mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.gateway.rate_budget import RateBudget, exchange_weight, info_weight

INFO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hyperliquid" / "info"


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_weights_when_protocol_examples_then_match_section_4():
    assert [exchange_weight(n) for n in (1, 39, 40, 79, 80)] == [1, 1, 2, 2, 3]
    assert info_weight("l2Book") == 2 and info_weight("clearinghouseState") == 2
    assert info_weight("userRole") == 60 and info_weight("frontendOpenOrders") == 20
    assert info_weight("userFills", n_items=2000) == 120
    assert info_weight("candleSnapshot", n_items=120) == 22


def test_ip_weight_when_window_slides_then_old_spend_expires():
    clk = _Clock()
    rb = RateBudget(clock=clk)
    for _ in range(10):
        rb.charge_info("frontendOpenOrders")  # 20 each
    assert rb.ip_used() == 200 and rb.can_spend(1000) and not rb.can_spend(1001)
    clk.t += 30
    rb.charge_exchange(80)
    assert rb.ip_used() == 203
    clk.t += 30.5
    assert rb.ip_used() == 3
    rb.on_429()
    assert rb.ip_used() == 1200 and rb.ip_headroom_frac() == 0.0 and rb.n_429 == 1


def test_address_when_user_rate_limit_body_then_cap_and_usage():
    path = INFO / "user_rate_limit.json"
    if not path.is_file():
        pytest.skip(f"missing {path}")
    body = json.loads(path.read_text())
    rb = RateBudget()
    rb.update_user_rate_limit(body)
    assert rb.addr_cap == 170043731737 and rb.addr_used == 36589831368
    assert rb.address_headroom_frac() == pytest.approx(1 - 36589831368 / 170043731737)
    rb.charge_exchange(5)
    assert rb.addr_used == 36589831373


def test_reducing_side_when_seed_002_figures_then_asks_only():
    # seed 002 part 5: headroom_pct=8.8-9.0 %, position 0.14-0.75, reduce_side=asks
    rb = RateBudget(clock=_Clock())
    rb.update_user_rate_limit({"cumVlm": "90000", "nRequestsUsed": 91_100, "nRequestsCap": 100_000})
    assert rb.address_headroom_frac() == pytest.approx(0.089)
    assert rb.decide(position_sz=0.14, max_position_sz=1.0) == -1
    assert rb.decide(position_sz=0.75, max_position_sz=1.0) == -1
    assert rb.metrics()["reducing_side"] == -1.0


def test_reducing_side_mode_by_position_sign_and_size():
    rb = RateBudget(clock=_Clock())
    rb.update_user_rate_limit({"nRequestsUsed": 91_200, "nRequestsCap": 100_000})
    assert rb.decide(0.5, 1.0) == -1 and rb.metrics()["reducing_side_only"] == 1.0  # long: sell
    assert rb.decide(-0.02, 1.0) == 1  # short: buy
    assert rb.decide(0.005, 1.0) == 0, "a position under 1 % of max quotes both sides"
    rb.update_user_rate_limit({"nRequestsUsed": 80_000, "nRequestsCap": 100_000})
    assert rb.decide(0.5, 1.0) == 0 and rb.metrics()["reducing_side_only"] == 0.0


def test_address_cap_error_when_seen_then_quota_exhausted_and_reducing():
    rb = RateBudget(clock=_Clock())
    text = ("Too many cumulative requests sent (97460 > 97456) for cumulative volume traded "
            "$87457.46. Place taker orders to free up 1 request per USDC traded.")
    assert rb.on_error_text(text) and not rb.on_error_text("Insufficient margin to place order.")
    assert rb.addr_cap == 97456 and rb.address_headroom_frac() == 0.0
    assert rb.decide(-0.3, 1.0) == 1 and rb.cancel_cap() == 194912
