"""``POST /info`` request types.

A body the real venue cannot deserialize gets HTTP 422 and axum's text
``Failed to deserialize the JSON body into the target type: <serde detail>``.
"""

from __future__ import annotations

from . import objects
from .auth import normalize_address
from .clock import now_ms
from .meta import meta_json, spot_meta_json
from .ratelimit import info_extra_weight, info_weight

DESERIALIZE = "Failed to deserialize the JSON body into the target type: "
INFO_TYPES = ("meta", "spotMeta", "metaAndAssetCtxs", "clearinghouseState", "openOrders",
              "frontendOpenOrders", "userFills", "l2Book", "fundingHistory", "userRateLimit",
              "allMids", "orderStatus", "userFunding", "spotClearinghouseState", "exchangeStatus")
MAX_FUNDING_ITEMS = 500


class BadRequest(ValueError):
    """The body does not deserialize: HTTP 422 with this detail."""


def _field(payload: dict, name: str, kind: str):
    if name not in payload:
        raise BadRequest(f"missing field `{name}`")
    v = payload[name]
    if kind == "address":
        a = normalize_address(v)
        if a is None:
            raise BadRequest(f"invalid value for `{name}`: expected a 42-character hex address")
        return a
    if kind == "str" and not isinstance(v, str):
        raise BadRequest(f"invalid type for `{name}`: expected a string")
    if kind == "int" and (not isinstance(v, int) or isinstance(v, bool)):
        raise BadRequest(f"invalid type for `{name}`: expected u64")
    return v


def _opt_int(payload: dict, name: str) -> int | None:
    v = payload.get(name)
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadRequest(f"invalid type for `{name}`: expected u64")
    return v


def handle_info(state, payload, ip: str):
    """(HTTP status, body): body is JSON-able, or the error text for a 4xx."""
    if not isinstance(payload, dict):
        return 422, DESERIALIZE + "invalid type: expected struct InfoRequest"
    typ = payload.get("type")
    if typ is None:
        return 422, DESERIALIZE + "missing field `type`"
    if typ not in INFO_TYPES:
        expected = ", ".join(f"`{t}`" for t in INFO_TYPES)
        return 422, DESERIALIZE + f"unknown variant `{typ}`, expected one of {expected}"
    if not state.ip_limiter.take(ip, info_weight(typ)):
        return 429, None
    try:
        body = _dispatch(state, typ, payload)
    except BadRequest as exc:
        return 422, DESERIALIZE + str(exc)
    if isinstance(body, list):
        state.ip_limiter.charge(ip, info_extra_weight(typ, len(body)))
    return 200, body


def _dispatch(state, typ: str, p: dict):
    if typ == "meta":
        dex = p.get("dex", "")
        if dex not in ("", None):
            return None  # no builder dexs locally (the real venue answers null for an unknown dex)
        return meta_json(state.universe)
    if typ == "spotMeta":
        return spot_meta_json()
    if typ == "metaAndAssetCtxs":
        return [meta_json(state.universe), [state.asset_ctx(c.name) for c in state.universe]]
    if typ == "allMids":
        return state.all_mids()
    if typ == "exchangeStatus":
        return {"time": now_ms(), "specialStatuses": None}
    if typ == "l2Book":
        coin = _field(p, "coin", "str")
        if coin not in state.coin_by_name:
            return None
        return state.l2_book(coin)
    if typ == "fundingHistory":
        coin = _field(p, "coin", "str")
        start = _field(p, "startTime", "int")
        end = _opt_int(p, "endTime")
        hist = state.funding_hist.get(coin, [])
        out = [h for h in hist if h["time"] >= start and (end is None or h["time"] <= end)]
        return out[:MAX_FUNDING_ITEMS]
    user = _field(p, "user", "address")
    if typ == "clearinghouseState":
        view = state.engine.account(user) if user in state.accounts.funded_usdc else None
        return objects.clearinghouse(view or {}, now_ms())
    if typ == "spotClearinghouseState":
        return {"balances": []}
    if typ in ("openOrders", "frontendOpenOrders"):
        out = []
        if user in state.accounts.funded_usdc:
            for o in state.engine.open_orders(user):
                rec = state.orders.get(int(objects.attr(o, "oid")))
                if rec is None:
                    continue
                rec["sz"] = objects.dec(float(objects.attr(o, "sz")))
                if typ == "openOrders":
                    out.append(objects.order_wire_fields(rec) | {"reduceOnly": rec["reduceOnly"]})
                else:
                    out.append(objects.frontend_fields(rec))
        out.sort(key=lambda r: -r["oid"])  # newest first, as the real venue
        return out
    if typ == "userFills":
        return list(reversed(state.fills.get(user, ())))[:2000]
    if typ == "userFunding":
        start = _opt_int(p, "startTime") or 0
        end = _opt_int(p, "endTime")
        return [{"time": f["time"], "hash": "0x" + "0" * 64,
                 "delta": {"type": "funding", "coin": f["coin"], "usdc": f["usdc"], "szi": f["szi"],
                           "fundingRate": f["fundingRate"], "nSamples": f["nSamples"]}}
                for f in state.fundings.get(user, ())
                if f["time"] >= start and (end is None or f["time"] <= end)][:MAX_FUNDING_ITEMS]
    if typ == "userRateLimit":
        return state.addr_limiter.status(user)
    if typ == "orderStatus":
        oid = p.get("oid")
        if isinstance(oid, str):
            oid = state.cloids.get((user, oid.lower()))
        elif not isinstance(oid, int) or isinstance(oid, bool):
            raise BadRequest("invalid type for `oid`: expected u64 or a cloid string")
        rec = state.orders.get(oid) if oid is not None else None
        if rec is None or rec["user"] != user:
            return {"status": "unknownOid"}
        live = {int(objects.attr(o, "oid")): o for o in state.engine.open_orders(user)}
        if oid in live:
            rec["sz"] = objects.dec(float(objects.attr(live[oid], "sz")))
            status, ts = "open", rec["timestamp"]
        else:
            status, ts = state.order_status.get(oid, ("canceled", rec["timestamp"]))
        return {"status": "order", "order": {"order": objects.frontend_fields(rec), "status": status,
                                             "statusTimestamp": ts}}
    raise BadRequest(f"unknown variant `{typ}`")  # pragma: no cover
