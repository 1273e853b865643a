"""Matching kernels: queue models, trades, book-through, partial fills (issue 3)."""

import math

import numpy as np
import pytest

from appliance.venue.matching import (
    fund_account,
    new_latency,
    new_place_result,
    new_venue,
    on_market_events,
    place_order,
    queue_on_depth,
    queue_on_trade,
    sample_latency_ns,
)
from shm_layout.constants import EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT
from shm_layout.venue_records import (
    OS_FILLED,
    QUEUE_PROB_LOG,
    QUEUE_PROB_POWER,
    QUEUE_RISK_AVERSE,
    RES_RESTING,
    TIF_ALO,
    TIF_GTC,
    UPD_ORDER,
)

T0 = 1_700_000_000_000_000_000


def book_ev(bids, asks, t=T0):
    e = np.zeros(1, MD_EVENT)
    e[0]["kind"] = EV_BOOK
    e[0]["exch_ts_ns"] = t
    e[0]["n_bids"] = len(bids)
    e[0]["n_asks"] = len(asks)
    for i, (p, s) in enumerate(bids):
        e[0]["lv"]["bid_px"][i], e[0]["lv"]["bid_sz"][i], e[0]["lv"]["bid_n"][i] = p, s, 1
    for i, (p, s) in enumerate(asks):
        e[0]["lv"]["ask_px"][i], e[0]["lv"]["ask_sz"][i], e[0]["lv"]["ask_n"][i] = p, s, 1
    return e


def trade_ev(side, px, sz, t=T0):
    e = np.zeros(1, MD_EVENT)
    e[0]["kind"] = EV_TRADE
    e[0]["exch_ts_ns"] = t
    e[0]["side"] = side
    e[0]["px"] = px
    e[0]["sz"] = sz
    return e


class Venue:
    def __init__(self, model="prob_power", power=2.0, usdc=1e6):
        self.va = new_venue([3], [50.0], n_accounts=2, queue_model=model, queue_power=power)
        fund_account(self.va, 0, usdc)
        self.res = new_place_result()

    def ev(self, e):
        on_market_events(self.va.st[0], *self.va[1:], e)

    def place(self, side, px, sz, tif=TIF_GTC, account=0, t=T0):
        code = place_order(self.va.st[0], *self.va[1:], account, 0, side, px, sz, tif, False,
                           np.zeros(16, np.uint8), False, t, t, self.res)
        return code, self.res[0].copy()

    def fills(self):
        return self.va.fills[: self.va.st[0]["n_fills"]].copy()

    def order(self, slot):
        return self.va.orders[slot]


# --- queue models: known answers ----------------------------------------------------
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (QUEUE_RISK_AVERSE, 20.0),
        (QUEUE_PROB_POWER, 12.0),
        (QUEUE_PROB_LOG, 30.0 - (1.0 - math.log(11) / (math.log(11) + math.log(31))) * 20.0),
    ],
)
def test_queue_on_depth_when_level_shrinks_then_split_per_model(model, expected):
    # front 30 of a 40 level (10 behind) that drops to 20 with no trades
    assert queue_on_depth(model, 2.0, 30.0, 40.0, 20.0, 0.0) == pytest.approx(expected, abs=1e-9)


def test_queue_on_depth_prob_log_known_number():
    assert queue_on_depth(QUEUE_PROB_LOG, 0.0, 30.0, 40.0, 20.0, 0.0) == pytest.approx(
        18.223401, abs=1e-6)


def test_queue_on_depth_when_decrease_is_all_trades_then_unchanged():
    # the trade already moved front from 30 to 25; the book shows the 5 gone: no cancels
    assert queue_on_depth(QUEUE_PROB_POWER, 2.0, 25.0, 40.0, 35.0, 5.0) == 25.0


def test_queue_on_depth_when_level_grows_then_front_kept():
    assert queue_on_depth(QUEUE_PROB_POWER, 2.0, 30.0, 40.0, 55.0, 0.0) == 30.0
    assert queue_on_depth(QUEUE_RISK_AVERSE, 2.0, 30.0, 40.0, 55.0, 0.0) == 30.0


def test_queue_on_depth_risk_averse_when_level_stays_above_front_then_unchanged():
    assert queue_on_depth(QUEUE_RISK_AVERSE, 2.0, 30.0, 40.0, 31.0, 0.0) == 30.0


def test_queue_on_trade_consumes_ahead_first_then_fills():
    assert queue_on_trade(3.0, 2.0) == (1.0, 0.0)
    assert queue_on_trade(3.0, 4.5) == (0.0, 1.5)


# --- resting order through events ------------------------------------------------
def test_join_when_level_displayed_then_queue_behind_displayed_size():
    v = Venue()
    v.ev(book_ev([(100.0, 3.0), (99.0, 4.0)], [(101.0, 1.0)]))
    code, r = v.place(1, 100.0, 0.5)
    assert code == RES_RESTING
    assert v.order(r["slot"])["queue_ahead_sz"] == 3.0
    code, r2 = v.place(1, 100.5, 0.5)  # new level inside the spread
    assert v.order(r2["slot"])["queue_ahead_sz"] == 0.0


def test_trade_at_our_price_when_queue_ahead_then_consumes_it_then_fills_us_partially():
    v = Venue()
    v.ev(book_ev([(100.0, 3.0)], [(101.0, 1.0)]))
    _, r = v.place(1, 100.0, 0.5)
    v.ev(trade_ev(-1, 100.0, 2.0, T0 + 1))
    assert v.order(r["slot"])["queue_ahead_sz"] == 1.0
    assert len(v.fills()) == 0
    v.ev(trade_ev(-1, 100.0, 1.2, T0 + 2))  # 1.0 ahead, then 0.2 to us
    f = v.fills()
    assert len(f) == 1 and f[0]["sz"] == pytest.approx(0.2) and f[0]["px"] == 100.0
    assert f[0]["crossed"] == 0
    o = v.order(r["slot"])
    assert o["sz"] == pytest.approx(0.3) and o["filled_sz"] == pytest.approx(0.2)
    assert o["queue_ahead_sz"] == 0.0
    v.ev(trade_ev(-1, 100.0, 1.0, T0 + 3))
    f = v.fills()
    assert len(f) == 2 and f[1]["sz"] == pytest.approx(0.3)
    assert v.order(r["slot"])["status"] == OS_FILLED


def test_trade_on_buy_side_when_we_bid_then_no_fill():
    v = Venue()
    v.ev(book_ev([(100.0, 0.0)], [(101.0, 1.0)]))
    v.place(1, 100.0, 0.5)
    v.ev(trade_ev(1, 100.0, 5.0, T0 + 1))  # a buyer aggressor never hits our bid
    assert len(v.fills()) == 0


@pytest.mark.parametrize(("model", "front_after"), [("risk_averse", 20.0), ("prob_power", 12.0)])
def test_book_decrease_when_not_traded_then_split_by_model(model, front_after):
    v = Venue(model)
    v.ev(book_ev([(100.0, 30.0)], [(101.0, 1.0)]))
    _, r = v.place(1, 100.0, 0.5)
    v.ev(book_ev([(100.0, 40.0)], [(101.0, 1.0)], T0 + 1))  # 10 join behind us
    v.ev(book_ev([(100.0, 20.0)], [(101.0, 1.0)], T0 + 2))  # 20 cancelled
    assert v.order(r["slot"])["queue_ahead_sz"] == pytest.approx(front_after)


def test_book_decrease_after_trade_when_explained_by_trade_then_no_cancel_split():
    v = Venue("prob_power")
    v.ev(book_ev([(100.0, 30.0)], [(101.0, 1.0)]))
    _, r = v.place(1, 100.0, 0.5)
    v.ev(trade_ev(-1, 100.0, 5.0, T0 + 1))
    v.ev(book_ev([(100.0, 25.0)], [(101.0, 1.0)], T0 + 2))
    assert v.order(r["slot"])["queue_ahead_sz"] == pytest.approx(25.0)


def test_trade_through_when_sell_prints_below_our_bid_then_fill_whole_at_our_price():
    v = Venue()
    v.ev(book_ev([(100.0, 30.0)], [(101.0, 1.0)]))
    v.place(1, 100.0, 0.5)
    v.ev(trade_ev(-1, 99.5, 0.1, T0 + 1))
    f = v.fills()
    assert len(f) == 1 and f[0]["px"] == 100.0 and f[0]["sz"] == pytest.approx(0.5)
    assert f[0]["crossed"] == 0


def test_book_through_when_best_ask_reaches_our_bid_then_maker_fill():
    v = Venue()
    v.ev(book_ev([(100.0, 30.0)], [(101.0, 1.0)]))
    v.place(1, 100.0, 0.5)
    v.place(-1, 102.0, 0.2)
    v.ev(book_ev([(99.0, 3.0)], [(100.0, 1.0)], T0 + 1))
    f = v.fills()
    assert len(f) == 1 and f[0]["side"] == 1 and f[0]["px"] == 100.0
    v.ev(book_ev([(102.5, 3.0)], [(103.0, 1.0)], T0 + 2))
    f = v.fills()
    assert len(f) == 2 and f[1]["side"] == -1 and f[1]["px"] == 102.0


def test_order_when_not_yet_active_then_not_matched():
    v = Venue()
    v.ev(book_ev([(100.0, 30.0)], [(101.0, 1.0)]))
    code = place_order(v.va.st[0], *v.va[1:], 0, 0, 1, 100.0, 0.5, TIF_ALO, False,
                       np.zeros(16, np.uint8), False, T0, T0 + 1000, v.res)
    assert code == RES_RESTING
    v.ev(trade_ev(-1, 99.0, 1.0, T0 + 500))
    assert len(v.fills()) == 0
    v.ev(trade_ev(-1, 99.0, 1.0, T0 + 1500))
    assert len(v.fills()) == 1


def test_updates_when_order_rests_then_filled_then_both_reported():
    v = Venue()
    v.ev(book_ev([(100.0, 0.0)], [(101.0, 1.0)]))
    v.place(1, 100.0, 0.5)
    v.ev(trade_ev(-1, 99.0, 1.0, T0 + 1))
    u = v.va.updates[: v.va.st[0]["n_updates"]]
    assert [int(x) for x in u["kind"]] == [UPD_ORDER, UPD_ORDER]
    assert [int(x) for x in u["status"]] == [1, OS_FILLED]


def test_latency_when_seeded_then_deterministic_and_positive():
    a = new_latency("lognormal", 100_000, 2_000_000.0, 0.5, seed=7)
    b = new_latency("lognormal", 100_000, 2_000_000.0, 0.5, seed=7)
    xa = [sample_latency_ns(a[0]) for _ in range(200)]
    xb = [sample_latency_ns(b[0]) for _ in range(200)]
    assert xa == xb and min(xa) > 100_000
    med = sorted(xa)[100] - 100_000
    assert 1_400_000 < med < 2_800_000
    c = new_latency("constant", 250_000)
    assert sample_latency_ns(c[0]) == 250_000
