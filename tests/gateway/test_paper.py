import numpy as np
import pytest

from appliance.config import load_config
from appliance.gateway import paper
from shm_layout import records
from shm_layout.constants import EV_BOOK, EV_TRADE


def _cfg():
    return paper.config_vector(load_config().gateway)


def _pos_with_orders(bids, asks, sz=0.01):
    pos = np.zeros(1, records.POSITION_STATE)
    lad = np.zeros(1, records.TARGET_LADDER)
    lad["n_bids"], lad["n_asks"] = len(bids), len(asks)
    lad["bid_px"][0, : len(bids)] = bids
    lad["bid_sz"][0, : len(bids)] = sz
    lad["ask_px"][0, : len(asks)] = asks
    lad["ask_sz"][0, : len(asks)] = sz
    paper.reconcile(pos[0], lad[0], 0, _cfg())
    return pos, lad


def _event(kind, **kw):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"] = kind
    for k, v in kw.items():
        ev[k] = v
    return ev[0]


def _book(bid, ask):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["n_bids"], ev["n_asks"] = EV_BOOK, 1, 1
    ev["lv"]["bid_px"][0, 0], ev["lv"]["ask_px"][0, 0] = bid, ask
    ev["lv"]["bid_sz"][0, 0] = ev["lv"]["ask_sz"][0, 0] = 1.0
    return ev[0]


def test_reconcile_when_ladder_then_orders_rest_and_are_counted():
    pos, _ = _pos_with_orders([99.0, 98.0], [101.0, 102.0])
    p = pos[0]
    assert p["n_open_bids"] == 2 and p["n_open_asks"] == 2 and p["orders_placed"] == 4


def test_reconcile_when_price_within_tolerance_then_order_kept():
    pos, lad = _pos_with_orders([100_000.0], [100_100.0])
    lad["bid_px"][0, 0] = 100_005.0  # 0.5 bps away: within the 1 bps tolerance
    paper.reconcile(pos[0], lad[0], 0, _cfg())
    assert pos[0]["open_bid_px"][0] == 100_000.0 and pos[0]["orders_cancelled"] == 0
    lad["bid_px"][0, 0] = 100_050.0
    paper.reconcile(pos[0], lad[0], 0, _cfg())
    assert pos[0]["open_bid_px"][0] == 100_050.0 and pos[0]["orders_cancelled"] == 1


def test_reconcile_when_kill_then_everything_cancelled():
    pos, lad = _pos_with_orders([99.0, 98.0], [101.0])
    paper.reconcile(pos[0], lad[0], 1, _cfg())
    assert pos[0]["n_open_bids"] == 0 and pos[0]["n_open_asks"] == 0
    assert pos[0]["kill_active"] == 1 and pos[0]["orders_cancelled"] == 3


def test_match_when_trade_at_our_price_then_no_fill_through_it_then_fill():
    pos, _ = _pos_with_orders([99.0], [101.0])
    fills = np.zeros(8, records.FILL_EVENT)
    n = paper.match_event(pos[0], _event(EV_TRADE, side=-1, px=99.0, sz=1.0), _cfg(), fills, 0)
    assert n == 0  # at our price we are assumed last in the queue
    n = paper.match_event(pos[0], _event(EV_TRADE, side=-1, px=98.5, sz=0.004), _cfg(), fills, 0)
    assert n == 1 and fills[0]["side"] == 1 and fills[0]["px"] == 99.0
    assert fills[0]["sz"] == pytest.approx(0.004) and pos[0]["position_sz"] == pytest.approx(0.004)
    assert pos[0]["open_bid_sz"][0] == pytest.approx(0.006)  # partially filled, still resting


def test_match_when_book_moves_through_ask_then_filled_whole_and_pnl_booked():
    pos, _ = _pos_with_orders([99.0], [101.0])
    fills = np.zeros(8, records.FILL_EVENT)
    paper.match_event(pos[0], _book(98.5, 98.9), _cfg(), fills, 0)  # ask 98.9 <= our bid 99
    assert pos[0]["position_sz"] == pytest.approx(0.01) and pos[0]["n_open_bids"] == 0
    n = paper.match_event(pos[0], _book(101.2, 101.5), _cfg(), fills, 0)
    assert n == 1 and pos[0]["position_sz"] == pytest.approx(0.0)
    assert pos[0]["realized_pnl_usd"] == pytest.approx(0.01 * 2.0)
    fees = (99.0 + 101.0) * 0.01 * 1.5e-4
    assert pos[0]["fees_usd"] == pytest.approx(fees)
    assert pos[0]["total_pnl_usd"] == pytest.approx(0.02 - fees)


def test_apply_fill_when_position_flips_then_avg_entry_resets():
    pos = np.zeros(1, records.POSITION_STATE)
    paper.apply_fill(pos[0], 1, 100.0, 1.0, 0.0)
    paper.apply_fill(pos[0], -1, 110.0, 3.0, 0.0)
    assert pos[0]["position_sz"] == -2.0 and pos[0]["avg_entry_px"] == 110.0
    assert pos[0]["realized_pnl_usd"] == pytest.approx(10.0)
