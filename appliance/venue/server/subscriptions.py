"""Websocket subscription parsing: validate, normalize, and key a subscription.

The real venue answers anything it cannot parse into a known subscription with
``Error parsing JSON into valid websocket request: <the text received>``.
"""

from __future__ import annotations

from .auth import normalize_address

COIN_TYPES = ("l2Book", "trades", "bbo", "activeAssetCtx")
USER_TYPES = ("userFills", "orderUpdates", "userEvents", "userFundings")
# channel a user subscription's messages carry
USER_CHANNEL = {"userFills": "userFills", "orderUpdates": "orderUpdates", "userEvents": "user",
                "userFundings": "userFundings"}
_ALLOWED_KEYS = {
    "allMids": {"type", "dex"},
    "l2Book": {"type", "coin", "nSigFigs", "mantissa", "fast"},
    "trades": {"type", "coin"},
    "bbo": {"type", "coin"},
    "activeAssetCtx": {"type", "coin"},
    "userFills": {"type", "user", "aggregateByTime"},
    "orderUpdates": {"type", "user"},
    "userEvents": {"type", "user"},
    "userFundings": {"type", "user"},
}


class BadSubscription(ValueError):
    pass


def parse_subscription(sub: object) -> tuple[tuple, dict]:
    """(key, normalized echo) of a subscription object; raises BadSubscription."""
    if not isinstance(sub, dict):
        raise BadSubscription("not an object")
    typ = sub.get("type")
    if typ not in _ALLOWED_KEYS or not set(sub) <= _ALLOWED_KEYS[typ]:
        raise BadSubscription(f"unknown subscription {typ!r}")
    if typ == "allMids":
        dex = sub.get("dex", "")
        if not isinstance(dex, str):
            raise BadSubscription("dex")
        return ("allMids", dex), dict(sub)
    if typ in COIN_TYPES:
        coin = sub.get("coin")
        if not isinstance(coin, str):
            raise BadSubscription("coin")
        if typ == "l2Book":
            n_sig = sub.get("nSigFigs")
            mantissa = sub.get("mantissa")
            if n_sig is not None and (not isinstance(n_sig, int) or isinstance(n_sig, bool)
                                      or not 2 <= n_sig <= 5):
                raise BadSubscription("nSigFigs")
            if mantissa is not None and (n_sig != 5 or mantissa not in (1, 2, 5)):
                raise BadSubscription("mantissa")
            echo = {"type": "l2Book", "coin": coin, "nSigFigs": n_sig, "mantissa": mantissa}
            if "fast" in sub:
                echo["fast"] = bool(sub["fast"])
            return ("l2Book", coin, n_sig, mantissa), echo
        return (typ, coin), {"type": typ, "coin": coin}
    user = normalize_address(sub.get("user"))
    if user is None:
        raise BadSubscription("user")
    echo = {"type": typ, "user": user}
    if typ == "userFills" and "aggregateByTime" in sub:
        echo["aggregateByTime"] = bool(sub["aggregateByTime"])
    return (typ, user), echo
