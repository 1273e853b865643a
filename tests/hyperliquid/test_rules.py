"""One set of Hyperliquid price/size rules: the quote kernel, the wire form, the local
venue's matching core and the backtester all agree on random inputs."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit
from quote_helpers import cfg_vector, ladder, params

from appliance.backtest import venue_exec
from appliance.hyperliquid import rules, wire
from appliance.venue import matching
from appliance.venue.matching import entry
from appliance.venue.server import actions as venue_actions
from shm_layout.venue_records import RES_ERR_SIZE, RES_ERR_TICK, RES_RESTING, TIF_ALO

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
prices = st.floats(1e-3, 5e6, allow_nan=False, allow_infinity=False)
sz_decimals = st.integers(0, 5)
sides = st.sampled_from([rules.ROUND_BID_DOWN, rules.ROUND_ASK_UP])


@njit(cache=True)
def _round_in_a_kernel(px, szd, side):
    """As the quote kernel and the backtester call it: from inside njit code."""
    return rules.round_px(px, szd, side, 0.0)


def _venue_accepts(px: float, szd: int, side: int) -> int:
    """The matching core's verdict on a post-only order at ``px`` (an empty book)."""
    va = matching.new_venue([szd], [50.0], n_accounts=1, max_orders=8)
    matching.fund_account(va, 0, 1e15)
    sz = rules.round_sz(max(20.0 / px, 10.0 ** -szd) * 2.0, szd)
    res = matching.new_place_result()
    return int(matching.place_order(va.st[0], va.books, va.orders, va.accounts, va.positions,
                                    va.fills, va.updates, 0, 0, side, px, sz, TIF_ALO, 0,
                                    np.zeros(16, np.uint8), 0, 0, 0, res))


@SETTINGS
@given(prices, sz_decimals, sides)
def test_round_px_when_random_price_then_passive_valid_and_every_user_accepts(px, szd, side):
    p = rules.round_px(px, szd, side)
    step = rules.px_step(px, szd)
    # passive: a bid never rounds up, an ask never down; at most one step away
    assert (p <= px * (1 + 1e-9)) if side > 0 else (p >= px * (1 - 1e-9))
    assert abs(p - px) <= step * (1 + 1e-9)
    if p == 0.0:  # a bid below one step: no valid price (the kernels quote nothing)
        assert side > 0 and px < step
        return
    # the kernels' call gives the same float
    assert _round_in_a_kernel(px, szd, side) == p
    # the wire signs it as is; the venue server and the matching core accept it
    assert wire.px_valid(p, szd) and wire.float_to_wire(p)
    assert venue_actions.px_valid is wire.px_valid
    assert _venue_accepts(p, szd, side) == RES_RESTING
    # a valid price is a fixed point of every rounding (the backtester re-rounds)
    for s in (rules.ROUND_BID_DOWN, rules.ROUND_ASK_UP, rules.ROUND_NEAREST):
        assert rules.round_px(p, szd, s) == p
    assert wire.round_px(p, szd) == p


@SETTINGS
@given(prices, sz_decimals)
def test_px_valid_when_random_price_then_wire_and_venue_agree(px, szd):
    raw = float(f"{px:.7g}")  # often invalid: up to 7 significant figures
    valid = bool(rules.px_valid(raw, szd))
    assert wire.px_valid(raw, szd) is valid
    code = _venue_accepts(raw, szd, 1)
    assert (code != RES_ERR_TICK) is valid


@SETTINGS
@given(st.floats(1e-6, 1e4, allow_nan=False), sz_decimals)
def test_sizes_when_random_then_lot_rules_agree(sz, szd):
    r = rules.round_sz(sz, szd)
    f = rules.floor_sz(sz, szd)
    lot = 10.0 ** -szd
    assert abs(r - sz) <= 0.5 * lot + 1e-12 and f <= sz + 1e-9 and sz - f < lot + 1e-9
    for x in (r, f):
        if x > 0:
            assert rules.sz_valid(x, szd) and wire.sz_valid(x, szd)
            assert wire.round_sz(x, szd) == x
    if r > 0 and not rules.sz_valid(sz, szd):
        assert _venue_accepts_size(sz, szd) == RES_ERR_SIZE


def _venue_accepts_size(sz: float, szd: int) -> int:
    va = matching.new_venue([szd], [50.0], n_accounts=1, max_orders=8)
    matching.fund_account(va, 0, 1e15)
    res = matching.new_place_result()
    return int(matching.place_order(va.st[0], va.books, va.orders, va.accounts, va.positions,
                                    va.fills, va.updates, 0, 0, 1, 1e6, sz, TIF_ALO, 0,
                                    np.zeros(16, np.uint8), 0, 0, 0, res))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.05, 2e5, allow_nan=False), st.integers(0, 5))
def test_quote_ladder_when_random_market_then_every_price_already_valid_everywhere(mid, szd):
    spread = mid * 2e-4
    p = params(mid_px=mid, microprice_px=mid, best_bid_px=mid - spread / 2,
               best_ask_px=mid + spread / 2, tick_size_px=rules.px_step(mid, szd))
    _, lad = ladder(p, cfg=cfg_vector(sz_decimals=szd, total_size_sz=max(200.0 / mid, 1.0)))
    for side, n, pxs in ((1, lad["n_bids"], lad["bid_px"]), (-1, lad["n_asks"], lad["ask_px"])):
        for px in pxs[:n]:
            px = float(px)
            assert rules.px_valid(px, szd) and wire.px_valid(px, szd)
            assert rules.round_px(px, szd, side) == px  # the backtester's executor keeps it
            assert wire.round_px(px, szd) == px
            assert _venue_accepts(px, szd, side) == RES_RESTING


def test_users_import_the_one_module():
    """No second copy: the venue core and the backtester call these very functions."""
    assert entry.px_valid is rules.px_valid and entry.sz_valid is rules.sz_valid
    assert venue_exec.rk.rules is rules  # its targets: reconcile_kernel.ladder_targets
    assert math.isclose(rules.px_step(117_365.5, 0), 1.0)
