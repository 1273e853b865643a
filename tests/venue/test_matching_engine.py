"""VenueEngine: entry rules and texts, taker paths, self-trade, fees and pnl,
funding, liquidation, determinism, real-capture replay (issue 3)."""

from pathlib import Path

import numpy as np
import pytest

from appliance.venue.matching.engine import CoinSpec, FeeSchedule, VenueEngine
from shm_layout.constants import EV_ASSET_CTX, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT
from shm_layout.venue_records import HOUR_NS

A = "0x14791697260e4c9a71f18484c9f997b308e59325"
B = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
T0 = 1_700_000_000_000_000_000 - 1_700_000_000_000_000_000 % HOUR_NS + 1_000  # just after an hour
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def book_ev(bids, asks, t=T0):
    e = np.zeros(1, MD_EVENT)
    e[0]["kind"] = EV_BOOK
    e[0]["exch_ts_ns"] = t
    e[0]["n_bids"] = len(bids)
    e[0]["n_asks"] = len(asks)
    for i, (p, s) in enumerate(bids):
        e[0]["lv"]["bid_px"][i], e[0]["lv"]["bid_sz"][i], e[0]["lv"]["bid_n"][i] = p, s, 2
    for i, (p, s) in enumerate(asks):
        e[0]["lv"]["ask_px"][i], e[0]["lv"]["ask_sz"][i], e[0]["lv"]["ask_n"][i] = p, s, 2
    return e


def trade_ev(side, px, sz, t):
    e = np.zeros(1, MD_EVENT)
    e[0]["kind"], e[0]["exch_ts_ns"], e[0]["side"], e[0]["px"], e[0]["sz"] = EV_TRADE, t, side, px, sz
    return e


def ctx_ev(mark, funding_per_h, oracle, t):
    e = np.zeros(1, MD_EVENT)
    e[0]["kind"], e[0]["exch_ts_ns"] = EV_ASSET_CTX, t
    e[0]["px"], e[0]["aux0"], e[0]["aux1"] = mark, funding_per_h, oracle
    return e


def engine(usdc=100_000.0, **kw):
    eng = VenueEngine([CoinSpec("BTC", 5, 50)], FeeSchedule(maker_bps=1.5, taker_bps=4.5), **kw)
    eng.add_account(A, usdc)
    eng.on_market(book_ev([(60000.0, 1.0), (59999.0, 2.0)], [(60001.0, 0.5), (60002.0, 1.0),
                                                            (60005.0, 3.0)]))
    return eng


# --- entry rules and texts ------------------------------------------------------------
@pytest.mark.parametrize(
    ("px", "sz", "ro", "text"),
    [
        (60000.5, 0.01, False, "Price must be divisible by tick size."),  # 6 sig figs
        (60000.0, 0.0001, False, "Order must have minimum value of $10."),
        (59000.0, 0.01, True, "Reduce only order would increase position."),
        (59000.0, 1000.0, False, "Insufficient margin to place order."),
    ],
)
def test_place_when_rule_broken_then_real_error_text(px, sz, ro, text):
    r = engine().place(A, "BTC", True, px, sz, "Gtc", ro)
    assert r.kind == "error" and r.error == text


def test_tick_rule_when_integer_or_five_sig_figs_then_accepted():
    eng = VenueEngine([CoinSpec("ETH", 4, 50)])
    eng.add_account(A, 1e6)
    eng.on_market(book_ev([(2500.0, 1.0)], [(2501.0, 1.0)]))
    assert eng.place(A, "ETH", True, 2400.5, 0.01, "Alo").kind == "resting"
    assert eng.place(A, "ETH", True, 2400.55, 0.01, "Alo").error == "Price must be divisible by tick size."
    assert eng.place(A, "ETH", True, 2400.0, 0.00001, "Alo").error == "Order has invalid size."


def test_alo_when_it_would_cross_then_rejected_with_bbo_text():
    eng = engine()
    r = eng.place(A, "BTC", True, 60001.0, 0.01, "Alo")
    assert r.kind == "error"
    assert r.error == "Post only order would have immediately matched, bbo was 60000@60001."
    assert eng.order_status(A, r.oid).status == "badAloPxRejected"


def test_ioc_when_crossing_depth_then_fills_level_by_level_at_level_prices_with_taker_fee():
    eng = engine()
    r = eng.place(A, "BTC", True, 60003.0, 2.0, "Ioc")
    assert r.kind == "filled" and r.total_sz == pytest.approx(1.5)
    assert r.avg_px == pytest.approx((0.5 * 60001 + 1.0 * 60002) / 1.5)
    fills = eng.fills(A)
    assert [(f.px, f.sz, f.crossed) for f in fills] == [(60001.0, 0.5, True), (60002.0, 1.0, True)]
    assert fills[0].fee == pytest.approx(60001 * 0.5 * 4.5e-4)
    assert fills[0].dir == "Open Long" and fills[1].start_position == pytest.approx(0.5)
    assert eng.order_status(A, r.oid).status == "canceled"
    assert eng.open_orders(A) == []
    # the depth we took stays taken while the source still displays it
    asks = eng.book("BTC")[1]
    assert asks[0][0] == 60005.0


def test_ioc_when_nothing_crosses_then_could_not_match_text():
    r = engine().place(A, "BTC", True, 59000.0, 0.01, "Ioc")
    assert r.error == "Order could not immediately match against any resting orders."


def test_gtc_when_crossing_then_takes_then_rests_rest():
    eng = engine()
    r = eng.place(A, "BTC", True, 60001.0, 0.8, "Gtc")
    assert r.kind == "resting" and r.total_sz == pytest.approx(0.5)
    (o,) = eng.open_orders(A)
    assert o.sz == pytest.approx(0.3) and o.limit_px == 60001.0
    assert eng.queue_ahead(r.oid) == 0.0
    bids = eng.book("BTC")[0]
    assert bids[0][:2] == (60001.0, pytest.approx(0.3))


def test_self_trade_when_taker_meets_own_resting_then_resting_expires_no_fee():
    eng = engine()
    ask = eng.place(A, "BTC", False, 60004.0, 0.2, "Alo")
    assert ask.kind == "resting"
    eng.drain_updates()
    r = eng.place(A, "BTC", True, 60004.0, 0.5, "Ioc")
    assert r.kind == "filled"
    assert eng.order_status(A, ask.oid).status == "selfTradeCanceled"
    assert all(f.oid == r.oid for f in eng.fills(A))  # no fill for the expired maker
    kinds = [k for _, k, _ in eng.drain_updates()]
    assert "nonUserCancel" in kinds


def test_cross_account_when_taker_meets_other_resting_then_both_fill():
    eng = engine()
    eng.add_account(B, 100_000.0)
    eng.on_market(book_ev([(59990.0, 1.0)], [(60010.0, 1.0)], T0 + 1))
    mk = eng.place(B, "BTC", False, 60000.0, 0.1, "Alo")  # inside the spread
    assert mk.kind == "resting"
    r = eng.place(A, "BTC", True, 60010.0, 0.3, "Ioc")
    assert r.total_sz == pytest.approx(0.3)
    (bf,) = eng.fills(B)
    assert bf.px == 60000.0 and not bf.crossed and bf.fee == pytest.approx(60000.0 * 0.1 * 1.5e-4)
    assert [(f.px, f.sz) for f in eng.fills(A)] == [(60000.0, 0.1), (60010.0, 0.2)]


def test_fees_and_realized_pnl_when_round_trip_then_arithmetic_exact():
    eng = engine(usdc=10_000.0)
    eng.place(A, "BTC", True, 60000.0, 0.1, "Alo")
    eng.on_market(trade_ev(-1, 59990.0, 1.0, T0 + 10))  # trade-through: bought 0.1 @ 60000
    eng.place(A, "BTC", False, 60100.0, 0.25, "Alo")
    eng.on_market(trade_ev(1, 60110.0, 1.0, T0 + 20))  # sold 0.25 @ 60100: close 0.1, open 0.15
    f = eng.fills(A)
    assert [x.dir for x in f] == ["Open Long", "Long > Short"]
    assert f[1].closed_pnl == pytest.approx(0.1 * 100.0)
    assert f[1].start_position == pytest.approx(0.1)
    fees = 60000 * 0.1 * 1.5e-4 + 60100 * 0.25 * 1.5e-4
    acct = eng.account(A)
    (p,) = acct.positions
    assert p.szi == pytest.approx(-0.15) and p.entry_px == 60100.0
    assert acct.total_raw_usd == pytest.approx(10_000.0 + 10.0 - fees)


def test_funding_when_hour_boundary_passes_then_long_pays_oracle_times_rate():
    eng = engine()
    eng.on_market(ctx_ev(60000.0, 0.0001, 59990.0, T0 + 5))
    eng.place(A, "BTC", True, 60000.0, 0.2, "Alo")
    eng.on_market(trade_ev(-1, 59999.0, 1.0, T0 + 6))
    eng.drain_updates()
    eng.on_market(book_ev([(60000.0, 1.0)], [(60001.0, 1.0)], T0 - 1_000 + HOUR_NS - 1))
    assert eng.fundings(A) == []
    eng.on_market(book_ev([(60000.0, 1.0)], [(60001.0, 1.0)], T0 - 1_000 + HOUR_NS + 7))
    (fu,) = eng.fundings(A)
    assert fu.usdc == pytest.approx(-0.2 * 59990.0 * 0.0001)
    assert fu.szi == pytest.approx(0.2) and fu.funding_rate == 0.0001
    assert fu.time_ms == (T0 - 1_000 + HOUR_NS) // 1_000_000
    assert eng.account(A).positions[0].cum_funding_all == pytest.approx(fu.usdc)
    assert any(k == "funding" for _, k, _ in eng.drain_updates())


def test_funding_when_short_and_rate_positive_then_receives():
    eng = engine()
    eng.on_market(ctx_ev(60000.0, 0.00005, 60000.0, T0 + 5))
    eng.place(A, "BTC", False, 60001.0, 0.1, "Ioc")  # no bid at 60001: rejected
    eng.place(A, "BTC", False, 60000.0, 0.1, "Ioc")
    eng.on_market(book_ev([(60000.0, 1.0)], [(60001.0, 1.0)], T0 + HOUR_NS))
    (fu,) = eng.fundings(A)
    assert fu.usdc == pytest.approx(0.1 * 60000.0 * 0.00005)


def test_liquidation_when_mark_crosses_liq_px_then_closed_and_reported():
    eng = engine(usdc=1_000.0)
    assert eng.update_leverage(A, "BTC", 20, True) is None
    assert eng.update_leverage(A, "BTC", 51, True) == "Invalid leverage value."
    r = eng.place(A, "BTC", True, 60001.0, 0.3, "Ioc")  # 18 000 notional on 1 000
    assert r.total_sz == pytest.approx(0.3)
    eng.place(A, "BTC", False, 70000.0, 0.1, "Alo")
    eng.drain_updates()
    (p,) = eng.account(A).positions
    liq = p.liquidation_px
    # long 0.3: avail = value - mm; liq = mark - avail / 0.3 / (1 - 1/100)
    assert liq is not None and 56_000 < liq < 60_000
    eng.on_market(ctx_ev(liq + 5.0, 0.0, liq + 5.0, T0 + 100))
    assert eng.account(A).positions[0].szi == pytest.approx(0.3)
    eng.on_market(ctx_ev(liq - 5.0, 0.0, liq - 5.0, T0 + 200))
    acct = eng.account(A)
    assert acct.positions == []
    ups = eng.drain_updates()
    kinds = [k for _, k, _ in ups]
    assert "liquidation" in kinds
    last = [p for _, k, p in ups if k == "fill"][-1]
    assert last.liquidation and last.px == pytest.approx(liq - 5.0) and last.dir == "Close Long"
    assert [p.status for _, k, p in ups if k == "order"] == ["liquidatedCanceled"]
    assert acct.account_value > 0.0  # closed before the equity ran out


def test_cancel_and_modify_when_order_gone_then_false_and_real_text():
    eng = engine()
    r = eng.place(A, "BTC", True, 59000.0, 0.01, "Alo", cloid="0x" + "00" * 15 + "01")
    assert eng.order_status(A, "0x" + "00" * 15 + "01").oid == r.oid
    m = eng.modify(A, r.oid, "BTC", True, 59001.0, 0.02, "Alo")
    assert m.kind == "resting" and m.oid != r.oid
    assert eng.order_status(A, r.oid).status == "canceled"
    assert eng.cancel(A, "BTC", r.oid) is False
    assert eng.modify(A, r.oid, "BTC", True, 59002.0, 0.02).error == "Cannot modify canceled or filled order"
    assert eng.cancel(A, "BTC", m.oid) is True


def _scenario(model):
    eng = engine(queue_model=model)
    rng = np.random.default_rng(3)
    mid = 60000.0
    evs = []
    for i in range(400):
        t = T0 + (i + 1) * 50_000_000
        mid += float(rng.normal(0, 3.0))
        m = round(mid)
        bid_sz, ask_sz = float(rng.uniform(0.1, 2)), float(rng.uniform(0.1, 2))
        evs.append(book_ev([(m - 1.0, bid_sz)], [(m + 1.0, ask_sz)], t))
        evs.append(trade_ev(int(rng.choice([-1, 1])), m + (1.0 if rng.random() < 0.5 else -1.0),
                            float(rng.uniform(0.01, 1.0)), t + 1))
    for i, e in enumerate(evs):
        eng.on_market(e)
        if i % 40 == 0:
            eng.cancel_all(A)
            bid, ask = eng.bbo("BTC")
            eng.place(A, "BTC", True, bid, 0.05, "Alo")
            eng.place(A, "BTC", False, ask, 0.05, "Alo")
    return [(f.tid, f.px, f.sz, f.side, f.hash) for f in eng.fills(A)]


@pytest.mark.parametrize("model", ["risk_averse", "prob_power", "prob_log"])
def test_determinism_when_same_events_then_same_fills(model):
    a = _scenario(model)
    assert a and a == _scenario(model)


def test_replay_binance_capture_when_orders_rest_then_fills_and_no_crash():
    path = DATA / "binance_usdm" / "btcusdt_20240808.gz"
    if not path.exists():
        pytest.skip(f"capture missing: {path}")
    from appliance.feed.sources import open_source

    src = open_source(f"replay:{path}", ["BTC"])
    eng = VenueEngine([CoinSpec("BTC", 3, 50)])
    eng.add_account(A, 1_000_000.0)
    n = 0
    for chunk in src.chunks(20_000):
        eng.on_market(chunk)
        n += len(chunk)
        if not eng.open_orders(A):
            bid, ask = eng.bbo("BTC")
            if bid > 0 and ask > 0:
                for k in range(3):
                    eng.place(A, "BTC", True, bid - k * 1.0, 0.01, "Alo")
                    eng.place(A, "BTC", False, ask + k * 1.0, 0.01, "Alo")
    fills = eng.fills(A)
    assert n > 50_000 and len(fills) > 0
    assert all(not f.crossed for f in fills)
    assert eng.account(A) is not None


def test_entry_latency_when_order_not_live_yet_then_trade_through_does_not_fill_it():
    eng = engine()
    r = eng.place(A, "BTC", True, 59999.0, 0.01, "Alo", latency_ns=1_000_000_000)
    assert r.kind == "resting"
    eng.on_market(trade_ev(-1, 59998.0, 1.0, T0 + 500_000_000))  # through our bid, too early
    assert eng.fills(A) == []
    eng.on_market(trade_ev(-1, 59998.0, 1.0, T0 + 1_500_000_000))  # now live
    assert [f.sz for f in eng.fills(A)] == [pytest.approx(0.01)]


def test_venue_latency_when_configured_then_engine_draws_the_entry_latency():
    from appliance.config import load_config
    from appliance.venue.server.settings import settings_from_config
    from appliance.venue.server.state import VenueState

    cfg = load_config(overrides={"venue": {"order_latency_ms": 25.0}})
    state = VenueState(settings_from_config(cfg, port=0))
    assert state.engine.order_latency_ns() == 25_000_000
