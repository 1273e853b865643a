"""The gateway's pre-trade gate: every denial reason reachable, a batch checked as a
whole, denied places never sent, a denied modify cancelled instead, cancels never
gated, denials counted (control block, gateway.json, Prometheus)."""

from __future__ import annotations

import math

import orjson
import pytest
from gateway_fakes import GatewayParts

from appliance.config import load_config
from appliance.gateway.pretrade import REASONS, Limits, OpenBook, PreTradeGate, check
from appliance.gateway.reconcile_plan import LiveOrder, Modify, NewOrder
from appliance.risk.metrics.gateway import collect_gateway

LIM = Limits(max_position_sz=0.05, max_order_notional_usd=2_000.0, max_open_notional_usd=20_000.0,
             price_band_bps=300.0, max_open_orders=40, reduce_only_at_frac=0.9)
MID = 100_000.0


def _book(buy_sz=0.0, sell_sz=0.0, n_orders=0, notional=0.0) -> OpenBook:
    b = OpenBook()
    b.buy_sz[0], b.sell_sz[0] = buy_sz, sell_sz
    b.n_orders, b.notional_usd = n_orders, notional
    return b


# (reason, book, is_buy, px, sz, mid, position)
DENIALS = [
    ("invalid", _book(), True, MID, math.nan, MID, 0.0),
    ("invalid", _book(), True, -1.0, 0.001, MID, 0.0),
    ("no_mid", _book(), True, MID, 0.001, math.nan, 0.0),
    ("no_mid", _book(), True, MID, 0.001, 0.0, 0.0),
    ("price_band", _book(), True, MID * 1.031, 0.001, MID, 0.0),
    ("price_band", _book(), False, MID * 0.969, 0.001, MID, 0.0),
    ("order_notional", _book(), True, MID, 0.021, MID, 0.0),
    ("no_position", _book(), True, MID, 0.001, MID, math.nan),
    ("reduce_only", _book(), True, MID, 0.001, MID, 0.046),  # long near the limit: no buy
    ("reduce_only", _book(), False, MID, 0.001, MID, -0.046),  # short near the limit: no sell
    ("reduce_only", _book(sell_sz=0.04), False, MID, 0.01, MID, 0.046),  # would flip the position
    ("position", _book(buy_sz=0.015), True, MID, 0.01, MID, 0.03),  # 0.03 + 0.015 + 0.01 > 0.05
    ("position", _book(sell_sz=0.05), False, MID, 0.001, MID, 0.0),
    ("open_orders", _book(n_orders=40), True, MID, 0.001, MID, 0.0),
    ("open_notional", _book(n_orders=5, notional=19_500.0), True, MID, 0.01, MID, 0.0),
]


@pytest.mark.parametrize("reason,book,is_buy,px,sz,mid,pos", DENIALS)
def test_check_when_a_limit_is_broken_then_denied_with_its_reason(reason, book, is_buy, px, sz, mid, pos):
    assert check(LIM, book, 0, is_buy, px, sz, mid, pos) == reason


def test_every_reason_has_a_denial_case():
    assert {d[0] for d in DENIALS} == set(REASONS)


@pytest.mark.parametrize("book,is_buy,sz,pos", [
    (_book(), True, 0.01, 0.0),
    (_book(buy_sz=0.02), True, 0.01, 0.02),  # 0.05 exactly: at the limit, not beyond
    (_book(), False, 0.01, 0.06),  # beyond the limit: a sell only reduces it
    (_book(sell_sz=0.02), False, 0.01, 0.046),  # reduce-only and it reduces
    (_book(buy_sz=0.04, n_orders=39, notional=19_000.0), False, 0.01, 0.0),  # other side's size
])
def test_check_when_within_every_limit_then_passes(book, is_buy, sz, pos):
    assert check(LIM, book, 0, is_buy, MID, sz, MID, pos) is None


def test_gate_when_a_batch_grows_then_later_orders_see_the_earlier_ones_and_denials_count():
    gate = PreTradeGate(LIM)
    book = OpenBook()
    got = [gate.check(book, 0, True, MID, 0.02, MID, 0.0) for _ in range(3)]
    assert got == [None, None, "position"]  # 0.02, 0.04, then 0.06 > 0.05
    assert book.n_orders == 2 and book.side_sz(0, True) == pytest.approx(0.04)
    assert gate.check(book, 0, True, MID * 2, 0.001, MID, 0.0) == "price_band"
    assert gate.denials["position"] == 1 and gate.denials["price_band"] == 1 and gate.total == 2


def _orders(n, is_buy=True, sz=0.02, px=MID - 10.0):
    return [NewOrder(0, is_buy, px - i, sz, i, "Alo") for i in range(n)]


def test_send_orders_when_the_gate_denies_then_only_the_passing_orders_reach_the_venue(tmp_path):
    # $5,000 at the 100,000 mid: 0.05 coin, room for two of the three 0.02 orders
    ex = GatewayParts(tmp_path / "j.jsonl",
                      cfg=load_config(overrides={"risk": {"max_position_usd": 5_000.0}}))
    assert ex.sender.send_orders(_orders(3), 0) == 2
    (sent,) = [a for a in ex.venue.actions if a["type"] == "order"]
    assert len(sent["orders"]) == 2 and len(ex.venue.resting) == 2
    assert ex.pretrade.denials["position"] == 1
    assert int(ex.ctx.control["gw_pretrade_denials"]) == 1
    # the open orders count for the next batch too: one more buy breaks the position limit
    assert ex.sender.send_orders(_orders(1, sz=0.015), 0) == 0
    assert len(ex.venue.actions) == 1 and int(ex.ctx.control["gw_pretrade_denials"]) == 2


def test_send_orders_when_no_mid_then_nothing_is_sent(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl", mid_px=math.nan)
    assert ex.sender.send_orders(_orders(2, sz=0.001), 0) == 0
    assert ex.venue.actions == [] and ex.pretrade.denials["no_mid"] == 2
    assert not ex.tracker.by_cloid  # a denied order is never tracked or journaled
    assert ex.journal.n == 0


def test_send_modifies_when_the_new_price_is_outside_the_band_then_the_order_is_cancelled(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders(_orders(1, sz=0.001), 0)
    (o,) = ex.tracker.active(0)
    live = LiveOrder(o.cloid, o.oid, 0, True, o.px, o.open_sz)
    ex.sender.send_modifies([Modify(live, MID * 0.95, 0.001, 0, "Alo")], 0)
    assert ex.venue.kinds() == ["order", "cancel"]
    assert ex.venue.resting == {} and ex.pretrade.denials["price_band"] == 1
    # within the band the modify goes out (its own order does not count against it)
    ex.sender.send_orders(_orders(1, sz=0.02), 0)
    (o,) = ex.tracker.active(0)
    ex.sender.send_modifies([Modify(LiveOrder(o.cloid, o.oid, 0, True, o.px, o.open_sz), MID - 50.0, 0.02, 0,
                              "Alo")], 0)
    assert ex.venue.kinds()[-1] == "batchModify"


def test_cancels_when_limits_broken_then_never_gated(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.sender.send_orders(_orders(2, sz=0.01), 0)
    ex.ladder[0]["mid_px"] = math.nan  # nothing could be placed now ...
    ex.positions.pos[0]["position_sz"] = 1.0
    live = [LiveOrder(o.cloid, o.oid, 0, o.is_buy, o.px, o.open_sz) for o in ex.tracker.active(0)]
    assert ex.sender.send_cancels(live) == 2  # ... but cancels go out
    assert ex.venue.resting == {} and ex.pretrade.total == 0


def test_metrics_when_gateway_reports_denials_then_counter_by_reason(tmp_path):
    p = tmp_path / "gateway.json"
    p.write_bytes(orjson.dumps({"pretrade_denials": {"position": 3, "price_band": 1}}))
    fams = {f.name: f for f in collect_gateway(p)}
    samples = {(s.name, s.labels["reason"]): s.value for s in fams["mm_pretrade_denials"].samples
               if s.name.endswith("_total")}
    assert samples == {("mm_pretrade_denials_total", "position"): 3.0,
                       ("mm_pretrade_denials_total", "price_band"): 1.0}


def test_check_when_limit_in_usd_then_converted_to_coin_at_the_mid():
    lim = Limits(0.0, 1e9, 1e9, 300.0, 40, 0.9, max_position_usd=5_000.0)  # 0.05 BTC at 100k
    assert check(lim, OpenBook(), 0, True, MID, 0.04, MID, 0.0) is None
    assert check(lim, OpenBook(), 0, True, MID, 0.06, MID, 0.0) == "position"
    # the same coin amount is inside the limit when the coin is worth half as much
    assert check(lim, OpenBook(), 0, True, MID / 2, 0.06, MID / 2, 0.0) is None


def test_check_when_coin_has_its_own_limit_then_that_one_applies():
    lim = Limits(0.0, 1e9, 1e9, 300.0, 40, 0.9, max_position_usd=5_000.0,
                 per_coin={1: (0.0, 10_000.0)})
    assert check(lim, OpenBook(), 0, True, MID, 0.06, MID, 0.0) == "position"
    assert check(lim, OpenBook(), 1, True, MID, 0.06, MID, 0.0) is None


def test_limits_from_config_when_per_coin_entry_then_that_coin_gets_it():
    cfg = load_config(overrides={"quote": {"per_coin": ["ETH:max_position_usd=500"]}})
    lim = Limits.from_config(cfg.risk, cfg.quote, ("BTC", "ETH"))
    assert lim.position_limit_sz(0, 100_000.0) == pytest.approx(cfg.risk.max_position_usd / 100_000.0)
    assert lim.position_limit_sz(1, 2_500.0) == pytest.approx(0.2)
    assert math.isnan(lim.position_limit_sz(1, math.nan))
