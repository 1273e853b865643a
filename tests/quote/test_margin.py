"""The venue account's margin end to end (issue 6): a real clearinghouseState body into
PositionState (gateway/hyperliquid/account.py), PositionState through the quote process's
``step`` into the kernel's ``acct`` (quote/account.py) over real shared memory, the
backtester's simulated account, and the local venue's own clearinghouseState read
over HTTP into PositionState as ``mmctl inspect position`` shows it."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pytest
from quote_helpers import MAX_POS, cfg_vector, params
from risk_helpers import fresh_segments

from appliance.backtest import venue_exec
from appliance.cli.inspect import inspect_dict
from appliance.gateway.hyperliquid import account as gw_account
from appliance.gateway.hyperliquid.positions import Positions
from appliance.hyperliquid.http_transport import HttpTransport
from appliance.ipc import byte_rows, seqlock
from appliance.quote import account
from appliance.quote import kernel as quote
from appliance.quote.margin import A_AVAILABLE_MARGIN_USD, A_LEVERAGE, A_LIQ_PX
from appliance.quote.process import new_seen
from appliance.quote.process import step as quote_step
from appliance.venue import matching
from shm_layout import records
from shm_layout.constants import LAT_BUCKETS

pytestmark = pytest.mark.timeout(120)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hyperliquid" / "info"
MAX_AGE_NS = 60_000_000_000


class RowsOnly:
    """The part of ``Positions`` that ``gw_account.apply`` writes."""

    def __init__(self, n: int) -> None:
        self.pos = np.zeros(n, records.POSITION_STATE)
        gw_account.set_not_known(self.pos)
        self.dirty = [False] * n


def _body(withdrawable="30.0", value="1000.0", used="50.0", lev=10, liq=None, szi="0.01"):
    """A clearinghouseState body in the venue's current shape (protocol reference)."""
    return {"marginSummary": {"accountValue": value, "totalNtlPos": "1000.0", "totalRawUsd": value,
                              "totalMarginUsed": used},
            "crossMarginSummary": {"accountValue": value, "totalNtlPos": "1000.0",
                                   "totalRawUsd": value, "totalMarginUsed": used},
            "crossMaintenanceMarginUsed": "12.5", "withdrawable": withdrawable, "time": 1,
            "assetPositions": [{"type": "oneWay", "position": {
                "coin": "BTC", "szi": szi, "entryPx": "100000.0",
                "leverage": {"type": "cross", "value": lev}, "liquidationPx": liq,
                "marginUsed": used, "maxLeverage": 40, "positionValue": "1000.0",
                "returnOnEquity": "0.0", "unrealizedPnl": "0.0",
                "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"}}}]}


# --- parsing --------------------------------------------------------------------------


def test_parse_when_real_clearinghouse_body_then_account_fields_per_coin():
    path = DATA / "user_state.json"
    if not path.exists():
        pytest.skip(f"real clearinghouseState body missing: {path}")
    ch = json.loads(path.read_text())
    rows = RowsOnly(3)
    assert gw_account.apply(rows, {"BTC": 0, "ETH": 1, "DOGE": 2}, ch, now_mono_ns=123)
    btc, eth, doge = rows.pos
    for r in rows.pos:  # account-wide figures on every coin
        assert r["account_value_usd"] == pytest.approx(1182.312496)
        assert r["available_margin_usd"] == pytest.approx(1010.57173)
        assert r["margin_used_usd"] == pytest.approx(171.740766)
        assert r["account_update_mono_ns"] == 123
    assert btc["leverage"] == 20.0 and btc["liquidation_px"] == pytest.approx(173198.69592357)
    assert eth["leverage"] == 20.0 and eth["liquidation_px"] == 0.0  # null: none
    assert doge["leverage"] == 0.0 and doge["liquidation_px"] == 0.0  # no position: not known
    assert rows.dirty == [True, True, True]


def test_parse_when_values_malformed_then_not_known_logged_once_and_no_crash(caplog):
    rows = RowsOnly(1)
    bad = _body(withdrawable="abc", value=None, lev="x", liq="nan")
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert gw_account.apply(rows, {"BTC": 0}, bad, now_mono_ns=5)
        n_logged = len(caplog.records)
        assert gw_account.apply(rows, {"BTC": 0}, bad, now_mono_ns=6)
        assert len(caplog.records) == n_logged  # once per field
    r = rows.pos[0]
    assert r["available_margin_usd"] == -1.0 and r["account_value_usd"] == 0.0
    assert r["leverage"] == 0.0 and r["liquidation_px"] == 0.0
    assert r["margin_used_usd"] == 50.0 and r["account_update_mono_ns"] == 6
    for junk in (None, [], {"assetPositions": 3}, {"error": "x"}, "text"):
        assert not gw_account.apply(rows, {"BTC": 0}, junk, now_mono_ns=7)
    assert rows.pos[0]["account_update_mono_ns"] == 6  # untouched


def test_poller_when_old_or_after_fill_then_due_and_rate_budget_respected():
    p = gw_account.AccountPoller(refresh_s=15.0, after_fill_s=2.0)
    now = 1000.0
    upd_ns = int(995.0 * 1e9)  # read 5 s ago
    assert p.due(now, 0, 0.0, 1.0)  # never read
    assert not p.due(now, upd_ns, 0.0, 1.0)
    assert p.due(now + 11.0, upd_ns, 0.0, 1.0)  # 16 s old
    assert p.due(now, upd_ns, 996.0, 1.0)  # a fill since the last read, >= 2 s ago
    assert not p.due(now, upd_ns, 996.0, 0.3)  # ... but not with the IP budget short
    assert not p.due(now, int(999.5e9), 999.7, 1.0)  # at most every after_fill_s
    assert not gw_account.AccountPoller(15.0, 0.0).due(now, upd_ns, 996.0, 1.0)  # off


# --- the quote process over real shared memory -------------------------------------------


@pytest.fixture
def mem():
    with fresh_segments("acct") as m:
        yield m


def _publish_params(mem) -> None:
    p = params(update_mono_ns=time.monotonic_ns())
    seqlock.write_block(mem.params.seqs, mem.params.rows, 0, byte_rows(p)[0])


def _quote(mem, cfg, max_age_ns=MAX_AGE_NS):
    """One step of the quote process for coin 0; returns (ladder, acct row used)."""
    n = mem.params.spec.n_records
    prm = np.zeros(n, records.MARKET_PARAMS)
    pos = np.zeros(n, records.POSITION_STATE)
    lad = np.zeros(n, records.TARGET_LADDER)
    acct = account.account_rows(n)
    seen = new_seen(1)
    args = (mem.params.seqs, mem.params.rows, prm, byte_rows(prm), seen,
            mem.position.seqs, mem.position.rows, pos, byte_rows(pos),
            mem.ladder.seqs, mem.ladder.rows, lad, byte_rows(lad), np.atleast_2d(cfg), acct,
            max_age_ns, np.zeros(n, np.int64), 0, 0, 1.0, 1, np.zeros(LAT_BUCKETS, np.uint32),
            np.zeros(1, np.uint64))
    quote_step(*args)  # compiles on first use: that must not age the params below
    _publish_params(mem)
    seen[:] = -1
    assert quote_step(*args) == 1
    return lad[0], acct[0]


def _sides(lad):
    return lad["bid_sz"][:lad["n_bids"]].sum(), lad["ask_sz"][:lad["n_asks"]].sum()


def _gateway_publishes(mem, position_sz, body) -> Positions:
    g = Positions(mem, 1)
    g.set_position(0, position_sz, 100_000.0 if position_sz else 0.0)
    if body is not None:
        assert gw_account.apply(g, {"BTC": 0}, body)
    g.publish(force=True)
    return g


LONG_SZ = 0.2 * MAX_POS  # a long position a fifth of the limit (bids still quoted)


def test_quote_step_when_margin_tiny_then_accumulating_side_shrinks_reducing_stays(mem):
    cfg = cfg_vector()
    _gateway_publishes(mem, LONG_SZ, None)  # account not known: the position limit only
    free_lad, free_acct = _quote(mem, cfg)
    assert free_acct[A_AVAILABLE_MARGIN_USD] == -1.0
    free_bid, free_ask = _sides(free_lad)
    # 30 $ free at 10x, 20 % buffer: 240 $ = 0.0024 BTC more on the accumulating side
    _gateway_publishes(mem, LONG_SZ, _body(withdrawable="30.0", lev=10))
    lad, acct = _quote(mem, cfg)
    assert acct[A_AVAILABLE_MARGIN_USD] == 30.0 and acct[A_LEVERAGE] == 10.0
    bid, ask = _sides(lad)
    assert free_bid > 0.0024 and 0.0 <= bid <= 0.0024 + 1e-12  # long: bids accumulate
    assert ask == pytest.approx(free_ask) and ask > 0.0  # the reducing side needs no margin


def test_quote_step_when_liquidation_close_to_mid_then_accumulating_side_cleared(mem):
    cfg = cfg_vector()
    _gateway_publishes(mem, LONG_SZ, _body(withdrawable="100000.0", liq="99000.0"))  # 100 bps
    lad, acct = _quote(mem, cfg)
    assert acct[A_LIQ_PX] == 99_000.0
    assert lad["n_bids"] == 0 and lad["n_asks"] > 0
    _gateway_publishes(mem, LONG_SZ, _body(withdrawable="100000.0", liq="50000.0"))  # far
    lad, _ = _quote(mem, cfg)
    assert lad["n_bids"] > 0 and lad["n_asks"] > 0


def test_quote_step_when_account_stale_then_treated_as_not_known(mem):
    cfg = cfg_vector()
    _gateway_publishes(mem, LONG_SZ, _body(withdrawable="0.0", liq="99000.0"))
    lad, acct = _quote(mem, cfg, max_age_ns=1)  # any age is too old
    assert acct[A_AVAILABLE_MARGIN_USD] == -1.0 and acct[A_LIQ_PX] == 0.0
    assert lad["n_bids"] > 0  # only the position limit applies


# --- the backtester's simulated account --------------------------------------------------


def test_backtest_account_when_small_collateral_then_acct_limits_accumulating_side():
    va = matching.new_venue([5], [40.0], n_accounts=1)
    matching.fund_account(va, 0, 30.0)
    va.books[0]["mark_px"] = 100_000.0
    p = va.positions[0, 0]
    p["szi"], p["entry_px"] = 0.01, 100_000.0  # 1000 $ at 40x: 25 $ margin used
    matching.accounts.refresh_liq(va.books, va.accounts, va.positions, 0)
    pos = np.zeros(1, records.POSITION_STATE)
    venue_exec.publish_account(pos[0], va.books, va.accounts, va.positions, 0, 77)
    r = pos[0]
    assert r["account_value_usd"] == pytest.approx(30.0) and r["margin_used_usd"] == pytest.approx(25.0)
    assert r["available_margin_usd"] == pytest.approx(5.0) and r["leverage"] == 40.0
    assert 97_000.0 < r["liquidation_px"] < 100_000.0  # 30 $ on 1000 $: 3 % away
    acct = quote.account_unknown()
    assert account.fill_from_position(acct, pos[0], 77, MAX_AGE_NS)
    out = np.zeros(1, records.TARGET_LADDER)
    quote.compute_ladder(params()[0], 0.01, acct, cfg_vector(), 0, 0, 10_000_000_000, out[0])
    assert out[0]["n_bids"] == 0 and out[0]["n_asks"] > 0  # liquidation 300 bps guard


# --- the local venue over HTTP -> PositionState -> inspect ---------------------------------


def test_account_when_read_from_local_venue_then_position_state_matches_its_clearinghouse(mem):
    from venue_server_helpers import DEMO_ADDRESS, RawClient, mid, order_action, post_info, start_venue

    v = start_venue(funded=(f"{DEMO_ADDRESS}:1000",))
    try:
        c = RawClient(v)
        st = c.act(order_action(float(round(mid(v) * 1.01)), 0.05, "Ioc"))  # ~5000 $ long
        assert "filled" in st["response"]["data"]["statuses"][0], st
        t = HttpTransport(v.url)

        positions = Positions(mem, 1)
        body = t.info({"type": "clearinghouseState", "user": DEMO_ADDRESS}).body
        assert gw_account.apply(positions, {"BTC": 0}, body)
        positions.publish(force=True)
        venue = post_info(v, {"type": "clearinghouseState", "user": DEMO_ADDRESS}).json()
        t.close()
    finally:
        v.stop()
    d = inspect_dict(mem, "position", 0)  # what `mmctl inspect position` prints
    f = d["fields"]
    vp = venue["assetPositions"][0]["position"]
    assert d["account_age_ms"] is not None and d["account_age_ms"] >= 0.0
    assert f["account_value_usd"] == pytest.approx(float(venue["marginSummary"]["accountValue"]),
                                                   rel=1e-4)
    assert f["available_margin_usd"] == pytest.approx(float(venue["withdrawable"]), rel=1e-3, abs=0.5)
    assert f["margin_used_usd"] == pytest.approx(float(venue["marginSummary"]["totalMarginUsed"]),
                                                 rel=1e-3)
    assert f["leverage"] == float(vp["leverage"]["value"])
    assert vp["liquidationPx"] is not None
    assert f["liquidation_px"] == pytest.approx(float(vp["liquidationPx"]), rel=1e-3)
    assert 0.0 < f["liquidation_px"] < float(vp["entryPx"])  # a long's lies below its entry
