"""Engine objects -> the exact wire JSON of the real API.

The engine knows nothing of JSON; this module is the one place that knows both.
Field names and order follow the recorded ``/info`` bodies and the ws docs.
"""

from __future__ import annotations

from .fmt import dec, dec_or_none

__all__ = ["dec", "dec_or_none"]


def attr(obj, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def level_px(level) -> float:
    return float(level[0]) if isinstance(level, tuple | list) else float(attr(level, "px"))


def levels(side) -> list[dict]:
    out = []
    for lv in side[:20]:
        if isinstance(lv, tuple | list):
            px, sz, n = lv[0], lv[1], lv[2] if len(lv) > 2 else 1
        else:
            px, sz, n = attr(lv, "px"), attr(lv, "sz"), attr(lv, "n", 1)
        out.append({"px": dec(float(px)), "sz": dec(float(sz)), "n": int(n)})
    return out


def asset_ctx(ctx: dict, mid: float | None) -> dict:
    mark = float(ctx.get("mark_px", ctx.get("mark", 0.0)) or 0.0)
    oracle = float(ctx.get("oracle_px", ctx.get("oracle", 0.0)) or mark)
    funding = float(ctx.get("funding_rate", ctx.get("funding", 0.0)) or 0.0)
    oi = float(ctx.get("open_interest", 0.0) or 0.0)
    premium = ctx.get("premium")
    if premium is None and oracle:
        premium = (mark - oracle) / oracle
    impact = None if mid is None else [dec(mid), dec(mid)]
    return {
        "funding": dec(funding), "openInterest": dec(oi),
        "prevDayPx": dec(float(ctx.get("prev_day_px", mark) or mark)),
        "dayNtlVlm": dec(float(ctx.get("day_ntl_vlm", 0.0) or 0.0)), "premium": dec(float(premium or 0.0)),
        "oraclePx": dec(oracle), "markPx": dec(mark), "midPx": dec_or_none(mid),
        "impactPxs": impact, "dayBaseVlm": dec(float(ctx.get("day_base_vlm", 0.0) or 0.0)),
    }


def _side(is_buy_or_side) -> str:
    if isinstance(is_buy_or_side, str):
        return "B" if is_buy_or_side in ("B", "buy", "b") else "A"
    if isinstance(is_buy_or_side, bool):
        return "B" if is_buy_or_side else "A"
    return "B" if is_buy_or_side > 0 else "A"


def fill(f, wall_ms: int, state) -> dict:
    oid = int(attr(f, "oid"))
    side = attr(f, "side")
    out = {
        "coin": attr(f, "coin"), "px": dec(float(attr(f, "px"))), "sz": dec(float(attr(f, "sz"))),
        "side": _side(side), "time": wall_ms,
        "startPosition": dec(float(attr(f, "start_position", 0.0))),
        "dir": attr(f, "dir", "Buy"), "closedPnl": dec(float(attr(f, "closed_pnl", 0.0))),
        "hash": attr(f, "hash", "0x" + "0" * 64), "oid": oid,
        "crossed": bool(attr(f, "crossed", False)),
        "fee": dec(float(attr(f, "fee", 0.0))), "tid": int(attr(f, "tid", 0)), "feeToken": "USDC",
    }
    cloid = attr(f, "cloid") or state.orders.get(oid, {}).get("cloid")
    if cloid:
        out["cloid"] = cloid
    if attr(f, "liquidation"):
        out["liquidation"] = {"liquidatedUser": None, "markPx": out["px"], "method": "market"}
    return out


def order_wire_fields(o: dict) -> dict:
    """orderUpdates/openOrders order fields from the server's record of the order."""
    out = {"coin": o["coin"], "side": o["side"], "limitPx": o["limitPx"], "sz": o["sz"], "oid": o["oid"],
           "timestamp": o["timestamp"], "origSz": o["origSz"]}
    if o.get("cloid"):
        out["cloid"] = o["cloid"]
    return out


def frontend_fields(o: dict) -> dict:
    out = {"coin": o["coin"], "side": o["side"], "limitPx": o["limitPx"], "sz": o["sz"], "oid": o["oid"],
           "timestamp": o["timestamp"], "triggerCondition": "N/A", "isTrigger": False, "triggerPx": "0.0",
           "children": [], "isPositionTpsl": False, "reduceOnly": o["reduceOnly"], "orderType": "Limit",
           "origSz": o["origSz"], "tif": o["tif"], "cloid": o.get("cloid")}
    return out


def order_update(payload, wall_ms: int, state) -> dict:
    oid = int(attr(payload, "oid"))
    rec = state.orders.get(oid)
    sz = attr(payload, "sz")
    if rec is None:  # an order the server did not place (should not happen); best effort
        rec = {"coin": attr(payload, "coin"), "side": _side(attr(payload, "side", 1)),
               "limitPx": dec(float(attr(payload, "limit_px", attr(payload, "px", 0.0)))),
               "sz": dec(float(sz or 0.0)), "oid": oid,
               "timestamp": wall_ms, "origSz": dec(float(attr(payload, "orig_sz", sz or 0.0))),
               "tif": attr(payload, "tif", "Gtc"), "reduceOnly": bool(attr(payload, "reduce_only", False)),
               "cloid": attr(payload, "cloid"), "user": None}
        state.orders[oid] = rec
    if sz is not None:
        rec["sz"] = dec(float(sz))
    return {"order": order_wire_fields(rec), "status": attr(payload, "status"), "statusTimestamp": wall_ms}


def funding(payload, wall_ms: int) -> dict:
    return {"time": wall_ms, "coin": attr(payload, "coin"), "usdc": dec(float(attr(payload, "usdc", 0.0))),
            "szi": dec(float(attr(payload, "szi", 0.0))),
            "fundingRate": dec(float(attr(payload, "funding_rate", attr(payload, "rate", 0.0)))),
            "nSamples": int(attr(payload, "n_samples", 1) or 1)}


def liquidation(payload, address: str) -> dict:
    return {"lid": int(attr(payload, "lid", 0) or 0), "liquidator": "0x" + "0" * 40,
            "liquidated_user": address,
            "liquidated_ntl_pos": dec(float(attr(payload, "ntl", attr(payload, "liquidated_ntl_pos", 0.0)))),
            "liquidated_account_value": dec(float(attr(payload, "account_value",
                                                       attr(payload, "liquidated_account_value", 0.0))))}


def non_user_cancel(payload) -> list[dict]:
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for p in items:
        if isinstance(p, tuple):  # the engine's (coin, oid)
            out.append({"coin": p[0], "oid": int(p[1])})
        else:
            out.append({"coin": attr(p, "coin"), "oid": int(attr(p, "oid"))})
    return out


def clearinghouse(view, wall_ms: int) -> dict:
    positions = []
    for p in attr(view, "positions", []) or []:
        szi = float(attr(p, "szi", 0.0))
        if szi == 0.0:
            continue
        lev = attr(p, "leverage", 20)
        is_cross = bool(attr(p, "is_cross", True))
        lev_obj = {"type": "cross" if is_cross else "isolated", "value": int(lev)}
        if not is_cross:
            lev_obj["rawUsd"] = dec(float(attr(p, "raw_usd", 0.0)))
        value = float(attr(p, "position_value", 0.0))
        margin = float(attr(p, "margin_used", 0.0))
        upnl = float(attr(p, "unrealized_pnl", attr(p, "upnl", 0.0)))
        positions.append({"type": "oneWay", "position": {
            "coin": attr(p, "coin"), "szi": dec(szi), "leverage": lev_obj,
            "entryPx": dec(float(attr(p, "entry_px", 0.0))), "positionValue": dec(value),
            "unrealizedPnl": dec(upnl), "returnOnEquity": dec(upnl / margin if margin else 0.0),
            "liquidationPx": dec_or_none(attr(p, "liquidation_px", attr(p, "liq_px"))),
            "marginUsed": dec(margin), "maxLeverage": int(attr(p, "max_leverage", lev)),
            "cumFunding": {"allTime": dec(float(attr(p, "cum_funding_all", 0.0))),
                           "sinceOpen": dec(float(attr(p, "cum_funding_since_open", 0.0))),
                           "sinceChange": dec(float(attr(p, "cum_funding_since_change", 0.0)))},
        }})
    summary = {"accountValue": dec(float(attr(view, "account_value", 0.0))),
               "totalNtlPos": dec(float(attr(view, "total_ntl_pos", 0.0))),
               "totalRawUsd": dec(float(attr(view, "total_raw_usd", attr(view, "account_value", 0.0)))),
               "totalMarginUsed": dec(float(attr(view, "total_margin_used", 0.0)))}
    return {"marginSummary": summary, "crossMarginSummary": dict(summary),
            "crossMaintenanceMarginUsed": dec(float(attr(view, "cross_maintenance_margin_used", 0.0))),
            "withdrawable": dec(float(attr(view, "withdrawable", 0.0))),
            "assetPositions": positions, "time": wall_ms}
