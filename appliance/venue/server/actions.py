"""The L1 actions, after authentication: parse the wire shapes, call the engine,
answer with the real response shapes."""

from __future__ import annotations

import math

from appliance.hyperliquid.wire import meets_min_notional, px_valid, sz_valid

from . import objects
from .fmt import usd_plain

OK_DEFAULT = {"status": "ok", "response": {"type": "default"}}
CANCEL_ERROR = "Order was never placed, already canceled, or filled."
MODIFY_ERROR = "Cannot modify canceled or filled order"
SCHEDULE_MIN_DELAY_MS = 5000
TIFS = ("Alo", "Gtc", "Ioc")


class ActionShapeError(ValueError):
    """The action does not deserialize: HTTP 422."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v, name: str) -> float:
    if not isinstance(v, str):
        raise ActionShapeError(f"invalid type for `{name}`: expected a decimal string")
    try:
        x = float(v)
    except ValueError as exc:
        raise ActionShapeError(f"invalid decimal `{v}` for `{name}`") from exc
    if not math.isfinite(x):
        raise ActionShapeError(f"invalid decimal `{v}` for `{name}`")
    return x


def _cloid(v) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or len(v) != 34 or not v.startswith("0x"):
        raise ActionShapeError("invalid cloid: expected 0x + 32 hex digits")
    try:
        int(v[2:], 16)
    except ValueError as exc:
        raise ActionShapeError("invalid cloid: expected 0x + 32 hex digits") from exc
    return v.lower()


def parse_order(w) -> dict:
    if not isinstance(w, dict):
        raise ActionShapeError("invalid type: expected struct OrderWire")
    for k in ("a", "b", "p", "s", "r", "t"):
        if k not in w:
            raise ActionShapeError(f"missing field `{k}`")
    if not _is_int(w["a"]) or w["a"] < 0:
        raise ActionShapeError("invalid type for `a`: expected u32")
    if not isinstance(w["b"], bool) or not isinstance(w["r"], bool):
        raise ActionShapeError("invalid type for `b`/`r`: expected a boolean")
    t = w["t"]
    if not isinstance(t, dict) or len(t) != 1 or not ({"limit", "trigger"} & set(t)):
        raise ActionShapeError("invalid value for `t`: expected limit or trigger")
    tif = None
    if "limit" in t:
        lim = t["limit"]
        if not isinstance(lim, dict) or lim.get("tif") not in TIFS:
            raise ActionShapeError("invalid value for `tif`: expected one of `Alo`, `Ioc`, `Gtc`")
        tif = lim["tif"]
    return {"asset": w["a"], "is_buy": w["b"], "px": _num(w["p"], "p"), "sz": _num(w["s"], "s"),
            "px_text": w["p"], "sz_text": w["s"], "reduce_only": w["r"], "tif": tif,
            "cloid": _cloid(w.get("c"))}


def _list(action: dict, key: str) -> list:
    v = action.get(key)
    if not isinstance(v, list):
        raise ActionShapeError(f"missing field `{key}`")
    return v


def run(state, user: str, action: dict, now: int) -> dict:
    typ = action["type"]
    if typ == "order":
        orders = [parse_order(w) for w in _list(action, "orders")]
        grouping = action.get("grouping", "na")
        if not isinstance(grouping, str | dict):
            raise ActionShapeError("invalid type for `grouping`")
        if not orders:
            return {"status": "err", "response": "Order has no orders."}  # a whole-batch error
        statuses = [place(state, user, o, now) for o in orders]
        return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
    if typ == "cancel":
        out = []
        for c in _list(action, "cancels"):
            if not isinstance(c, dict) or not _is_int(c.get("a")) or not _is_int(c.get("o")):
                raise ActionShapeError("invalid cancel: expected {a: u32, o: u64}")
            out.append(cancel(state, user, c["a"], c["o"]))
        return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": out}}}
    if typ == "cancelByCloid":
        out = []
        for c in _list(action, "cancels"):
            if not isinstance(c, dict) or not _is_int(c.get("asset")):
                raise ActionShapeError("invalid cancel: expected {asset: u32, cloid}")
            oid = state.cloids.get((user, _cloid(c.get("cloid"))))
            out.append(cancel(state, user, c["asset"], oid) if oid is not None else {"error": CANCEL_ERROR})
        return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": out}}}
    if typ == "modify":
        status = modify(state, user, action.get("oid"), action.get("order"), now)
        if isinstance(status, dict) and "error" in status:
            return {"status": "err", "response": status["error"]}
        return OK_DEFAULT
    if typ == "batchModify":
        mods = _list(action, "modifies")
        statuses = []
        for m in mods:
            if not isinstance(m, dict):
                raise ActionShapeError("invalid modify: expected {oid, order}")
            statuses.append(modify(state, user, m.get("oid"), m.get("order"), now))
        return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
    if typ == "scheduleCancel":
        return schedule_cancel(state, user, action, now)
    if typ == "updateLeverage":
        asset, lev, cross = action.get("asset"), action.get("leverage"), action.get("isCross")
        if not _is_int(asset) or not _is_int(lev) or not isinstance(cross, bool):
            raise ActionShapeError("invalid updateLeverage: expected {asset, isCross, leverage}")
        if asset >= len(state.universe):
            return {"status": "err", "response": f"Invalid asset {asset}"}
        problem = state.engine.update_leverage(user, state.universe[asset].name, lev, cross)
        return {"status": "err", "response": problem} if problem else OK_DEFAULT
    if typ == "noop":
        return OK_DEFAULT
    return {"status": "err", "response": f"Action {typ} is not supported by the local venue."}


def _record(state, user: str, o: dict, coin: str, oid: int, now_wall: int) -> None:
    state.orders[oid] = {"user": user, "coin": coin, "side": "B" if o["is_buy"] else "A",
                         "limitPx": objects.dec(o["px"]), "sz": objects.dec(o["sz"]), "oid": oid,
                         "timestamp": now_wall, "origSz": objects.dec(o["sz"]), "tif": o["tif"],
                         "reduceOnly": o["reduce_only"], "cloid": o["cloid"]}
    if o["cloid"]:
        state.cloids[(user, o["cloid"])] = oid


def _precheck(state, o: dict):
    """(coin, None) or (None, per-order error status)."""
    if o["asset"] >= len(state.universe):
        return None, {"error": f"Invalid asset {o['asset']}"}
    c = state.universe[o["asset"]]
    if o["tif"] is None:
        return None, {"error": "Trigger orders are not supported by the local venue."}
    if state.faults.reject_order():
        return None, {"error": state.faults.order_reject_text}
    if not px_valid(o["px"], c.sz_decimals):
        return None, {"error": "Price must be divisible by tick size."}
    if not sz_valid(o["sz"], c.sz_decimals):
        return None, {"error": "Order has invalid size."}
    if not o["reduce_only"] and not meets_min_notional(o["px"], o["sz"]):
        return None, {"error": "Order must have minimum value of $10."}
    return c.name, None


def _status(state, user, o, coin, res, now_wall) -> dict:
    kind = objects.attr(res, "kind")
    oid = objects.attr(res, "oid")
    if kind == "error" or oid is None:
        return {"error": objects.attr(res, "error") or "Order rejected."}
    oid = int(oid)
    if oid not in state.orders:
        _record(state, user, o, coin, oid, now_wall)
    if kind == "resting":
        out = {"oid": oid}
        if o["cloid"]:
            out["cloid"] = o["cloid"]
        return {"resting": out}
    out = {"totalSz": objects.dec(float(objects.attr(res, "total_sz"))),
           "avgPx": objects.dec(float(objects.attr(res, "avg_px"))), "oid": oid}
    if o["cloid"]:
        out["cloid"] = o["cloid"]
    return {"filled": out}


def place(state, user: str, o: dict, now_wall: int) -> dict:
    coin, problem = _precheck(state, o)
    if problem:
        return problem
    res = state.engine.place(user, coin, o["is_buy"], o["px"], o["sz"], o["tif"], o["reduce_only"],
                             o["cloid"], None, latency_ns=state.engine.order_latency_ns())
    return _status(state, user, o, coin, res, now_wall)


def cancel(state, user: str, asset: int, oid: int) -> object:
    if asset >= len(state.universe):
        return {"error": CANCEL_ERROR}
    rec = state.orders.get(oid)
    coin = state.universe[asset].name
    if rec is None or rec["user"] != user or rec["coin"] != coin:
        return {"error": CANCEL_ERROR}
    return "success" if state.engine.cancel(user, coin, oid) else {"error": CANCEL_ERROR}


def modify(state, user: str, ref, wire, now_wall: int) -> dict:
    o = parse_order(wire)
    if isinstance(ref, str):
        oid = state.cloids.get((user, _cloid(ref)))
    elif _is_int(ref):
        oid = ref
    else:
        raise ActionShapeError("invalid type for `oid`: expected u64 or a cloid")
    rec = state.orders.get(oid) if oid is not None else None
    if rec is None or rec["user"] != user:
        return {"error": MODIFY_ERROR}
    coin, problem = _precheck(state, o)
    if problem:
        return problem
    live = {int(objects.attr(x, "oid")) for x in state.engine.open_orders(user)}
    if oid not in live:
        return {"error": MODIFY_ERROR}
    res = state.engine.modify(user, oid, coin, o["is_buy"], o["px"], o["sz"], o["tif"], o["reduce_only"],
                              o["cloid"], None)
    if objects.attr(res, "kind") == "error" and objects.attr(res, "error") == MODIFY_ERROR:
        return {"error": MODIFY_ERROR}
    new_oid = objects.attr(res, "oid")
    if new_oid is not None and int(new_oid) == oid:
        _record(state, user, o, coin, oid, now_wall)  # same oid: new price/size
    return _status(state, user, o, coin, res, now_wall)


def schedule_cancel(state, user: str, action: dict, now: int) -> dict:
    t = action.get("time")
    if t is not None and not _is_int(t):
        raise ActionShapeError("invalid type for `time`: expected u64")
    traded = state.addr_limiter.volume_usd.get(user, 0.0)
    need = state.s.schedule_cancel_min_volume_usd
    if traded < need:
        return {"status": "err", "response": (
            "Cannot set scheduled cancel time until enough volume traded. "
            f"Required: ${usd_plain(need)}. Traded: ${usd_plain(traded)}.")}
    if t is None:
        state.scheduled_cancel.pop(user, None)
        return OK_DEFAULT
    if t < now + SCHEDULE_MIN_DELAY_MS:
        return {"status": "err", "response": "Scheduled cancel time too early, must be at least 5 seconds "
                                             "after current time."}
    state.scheduled_cancel[user] = t
    return OK_DEFAULT
