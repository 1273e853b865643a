"""P&L families: the gateway's books per coin, the account's session, UTC-day and
drawdown figures the loss checks act on (with their limits), and the attribution.

Which P&L is which:

* ``mm_pnl_realized_usd``, ``mm_pnl_unrealized_usd``, ``mm_fees_usd``,
  ``mm_funding_usd`` are PositionState's books: since the gateway's journal began
  (the session on the local venue and in paper mode, whose books start empty).
* ``mm_pnl_session_usd`` (per coin, from the attribution ledger) and
  ``mm_account_pnl_session_usd`` (all coins, from the risk baselines) are since this
  session started: what the old ``mm_daily_pnl`` showed under a wrong name.
* ``mm_account_pnl_utc_day_usd`` is since 00:00 UTC, ``mm_account_drawdown_usd`` from
  the session's peak: what ``daily_loss`` and ``drawdown`` compare with their limits.
"""

from __future__ import annotations

import math

from appliance.ipc import seqlock
from appliance.measure.attribution import COMPONENT_LABELS, COMPONENTS
from appliance.risk import pnl as baselines

from .coins import SNAPSHOT_TRIES
from .families import gauge, num


def collect_pnl(mem, cfg):
    coins = cfg.appliance.coins
    C = ["coin"]
    real = gauge("mm_pnl_realized_usd", "realized P&L booked by the gateway (funding included), USD", C)
    unreal = gauge("mm_pnl_unrealized_usd", "unrealized P&L at the mark price, USD", C)
    fees = gauge("mm_fees_usd", "fees paid, net of rebates (a gauge: rebates lower it), USD", C)
    funding = gauge("mm_funding_usd", "funding received (negative: paid), USD", C)
    total = 0.0
    for c, coin in enumerate(coins):
        q, seq = seqlock.snapshot(mem.position, c, max_tries=SNAPSHOT_TRIES)
        real.add_metric([coin], num(q["realized_pnl_usd"]))
        unreal.add_metric([coin], num(q["unrealized_pnl_usd"]))
        fees.add_metric([coin], num(q["fees_usd"]))
        funding.add_metric([coin], num(q["funding_usd"]))
        total = total + float(q["total_pnl_usd"]) if seq >= 0 else math.nan
    yield from (real, unreal, fees, funding)
    yield from _account(mem.control.records[0], cfg.risk, total)
    yield from _attribution(mem, coins)


def _account(control, r, total: float):
    """The loss checks' figures, once the risk watchdog took its baselines."""
    sess = gauge("mm_account_pnl_session_usd", "P&L of every coin since the session started, USD "
                 "(the loss check)")
    day = gauge("mm_account_pnl_utc_day_usd", "P&L of every coin since 00:00 UTC, USD (daily_loss)")
    dd = gauge("mm_account_drawdown_usd", "the session's peak P&L less P&L now, USD (drawdown)")
    if control["risk_state_init"] and math.isfinite(total):
        sess.add_metric([], baselines.session_pnl_usd(control, total))
        day.add_metric([], baselines.day_pnl_usd(control, total))
        dd.add_metric([], baselines.drawdown_usd(control, total))
    yield from (sess, day, dd)
    for name, value, doc in (
            ("mm_loss_limit_usd", r.max_loss_usd, "risk.max_loss_usd: session loss limit"),
            ("mm_daily_loss_limit_usd", r.max_daily_loss_usd, "risk.max_daily_loss_usd"),
            ("mm_drawdown_limit_usd", r.max_drawdown_usd, "risk.max_drawdown_usd")):
        g = gauge(name, doc + ", USD")
        g.add_metric([], float(value))
        yield g


def _attribution(mem, coins):
    """The session's P&L by component (risk/attribution.py), per coin once it started."""
    L = ["component", "coin"]
    comp = gauge("mm_pnl_component_usd", "session P&L by component, USD (spread, adverse_selection, "
                 "inventory, funding, fees: they sum to mm_pnl_session_usd less adjustments)", L)
    sess = gauge("mm_pnl_session_usd", "P&L since the session started, USD", ["coin"])
    res = gauge("mm_pnl_attribution_residual_usd",
                "session P&L less components and adjustments, USD (|x| > 0.005: broken)", ["coin"])
    adj = gauge("mm_pnl_adjustment_usd", "P&L of positions adopted or corrected from the venue "
                "this session, USD", ["coin"])
    for c, coin in enumerate(coins):
        a, _ = seqlock.snapshot(mem.attrib, c, max_tries=SNAPSHOT_TRIES)
        if not a["started"]:
            continue
        for k in COMPONENTS:
            comp.add_metric([COMPONENT_LABELS[k], coin], num(a[k]))
        sess.add_metric([coin], num(a["pnl_usd"]))
        res.add_metric([coin], num(a["residual_usd"]))
        adj.add_metric([coin], num(a["adjustment_usd"]))
    yield from (comp, sess, res, adj)
