"""Per-coin families: the market, our quotes, the position, orders and fills, margin.

Read at scrape time from MarketParams, TargetLadder and PositionState (seqlocks).
"""

from __future__ import annotations

import time

from appliance.config import sizing
from appliance.ipc import seqlock

from .families import counter, gauge, num

SNAPSHOT_TRIES = 100_000


def collect_coins(mem, cfg, horizons_s: tuple[float, ...]):
    """Yield the per-coin families. ``horizons_s``: the markout horizons of
    ``markout_bps_by_horizon`` (estimator.adverse_selection.horizons_ms)."""
    coins = cfg.appliance.coins
    now = time.monotonic_ns()
    C = ["coin"]
    half = gauge("mm_quote_half_spread_bps", "quoted half-spread of the current ladder, bps", C)
    mkt = gauge("mm_market_spread_bps", "market bid-ask spread, bps", C)
    mid = gauge("mm_mid_price_usd", "mid price the estimator last published, USD", C)
    age = gauge("mm_market_params_age_seconds", "time since the estimator last published this "
                "coin's MarketParams (NaN: never)", C)
    sigma = gauge("mm_sigma_bps_per_sqrt_second", "jump-robust volatility, bps per sqrt(s)", C)
    kappa = gauge("mm_kappa_per_bps", "fill-intensity decay, per bps", C)
    as1 = gauge("mm_adverse_selection_bps", "adverse selection of our fills at 1 s (EWMA), bps", C)
    mark = gauge("mm_markout_bps", "markout of our fills at each horizon, side * (mid then - "
                 "price) / price (EWMA; positive: a gain, spread included), bps",
                 ["coin", "horizon_seconds"])
    pulled = gauge("mm_ladder_pulled", "1 when the ladder is pulled", C)
    reducing = gauge("mm_reducing_side_only", "1 while the rate budget allows the reducing side only", C)
    pos = gauge("mm_position_coins", "position, in coins (negative: short)", C)
    notional = gauge("mm_position_notional_usd", "position at the mark price, USD", C)
    limit = gauge("mm_position_limit_coins", "the position limit in coins at the mark "
                  "(risk.max_position_usd / mark unless risk.max_position_sz; NaN: no mark)", C)
    opened = gauge("mm_open_orders", "our resting orders", C)
    fills = counter("mm_fills_total", "our fills", C)
    volume = counter("mm_volume_usd_total", "traded notional of our fills, USD", C)
    placed = counter("mm_orders_placed_total", "orders placed (a modify places a new one)", C)
    cancelled = counter("mm_orders_cancelled_total", "cancels of our orders sent", C)
    requests = counter("mm_requests_sent_total", "places, modifies and cancels sent: the address "
                       "budget's debit (it earns one per USDC of mm_volume_usd_total)", C)
    lev = gauge("mm_leverage_ratio", "the position's leverage at the venue (0: none or not known)", C)
    liq = gauge("mm_liquidation_price_usd", "the position's liquidation price (0: none or not known)", C)
    account = None  # the row with the newest venue account reading
    for c, coin in enumerate(coins):
        p, _ = seqlock.snapshot(mem.params, c, max_tries=SNAPSHOT_TRIES)
        lad, _ = seqlock.snapshot(mem.ladder, c, max_tries=SNAPSHOT_TRIES)
        q, _ = seqlock.snapshot(mem.position, c, max_tries=SNAPSHOT_TRIES)
        half.add_metric([coin], num(lad["half_spread_bps"]))
        mkt.add_metric([coin], num(p["spread_bps"]))
        mid.add_metric([coin], num(p["mid_px"]))
        upd = int(p["update_mono_ns"])
        age.add_metric([coin], (now - upd) / 1e9 if upd > 0 else float("nan"))
        sigma.add_metric([coin], num(p["sigma_clean_bps_per_sqrt_s"]))
        kappa.add_metric([coin], num(p["kappa_per_bps"]))
        as1.add_metric([coin], num(p["adverse_selection_bps"]))
        for h, v in zip(horizons_s, p["markout_bps_by_horizon"], strict=True):
            mark.add_metric([coin, f"{h:g}"], num(v))
        pulled.add_metric([coin], float(lad["pulled_reason"] != 0))
        reducing.add_metric([coin], float(q["reducing_only"]))
        sz, mpx = float(q["position_sz"]), float(q["mark_px"])
        pos.add_metric([coin], num(sz))
        notional.add_metric([coin], num(sz * mpx) if mpx > 0 else 0.0)
        limit.add_metric([coin], sizing.coin_max_position_sz(cfg, coin, mpx))
        opened.add_metric([coin], float(q["n_open_bids"] + q["n_open_asks"]))
        fills.add_metric([coin], float(q["n_fills"]))
        volume.add_metric([coin], num(q["volume_usd"]))
        placed.add_metric([coin], float(q["orders_placed"]))
        cancelled.add_metric([coin], float(q["orders_cancelled"]))
        requests.add_metric([coin], float(q["requests_sent"]))
        lev.add_metric([coin], num(q["leverage"]))
        liq.add_metric([coin], num(q["liquidation_px"]))
        if int(q["account_update_mono_ns"]) > 0 and (
                account is None or int(q["account_update_mono_ns"]) > int(account["account_update_mono_ns"])):
            account = q
    yield from (half, mkt, mid, age, sigma, kappa, as1, mark, pulled, reducing, pos, notional,
                limit, opened, fills, volume, placed, cancelled, requests, lev, liq)
    yield from _account(account)


def _account(q):
    """The venue account (the same in every coin's row; the newest reading is used).
    Absent until the gateway has read it (never in paper mode)."""
    value = gauge("mm_account_value_usd", "the venue account's value, USD")
    used = gauge("mm_margin_used_usd", "margin used by the account's positions, USD")
    free = gauge("mm_margin_available_usd", "free collateral (withdrawable), USD")
    util = gauge("mm_margin_utilization_ratio", "margin used over account value "
                 "(risk.max_margin_util_frac acts on it)")
    if q is not None:
        v, u = float(q["account_value_usd"]), float(q["margin_used_usd"])
        value.add_metric([], num(v))
        used.add_metric([], num(u))
        a = float(q["available_margin_usd"])
        free.add_metric([], num(a) if a >= 0 else float("nan"))
        util.add_metric([], num(u / v) if v > 0 else float("nan"))
    yield from (value, used, free, util)
