"""Numbers and actions in the exact wire form the Hyperliquid SDK sends.

The action dicts are msgpack-hashed in insertion order, so every builder here writes
its keys in the SDK's order (hyperliquid/utils/signing.py and exchange.py, 0.24.0).
Prices and sizes must be rounded to the tick and lot rules *before* `float_to_wire`,
which refuses to round (a silently rounded number signs a different action). The rules
themselves live in ``rules`` (one copy for quote, wire, venue and backtest); the
helpers here are their Python face.
"""

from __future__ import annotations

from decimal import Decimal

from . import rules
from .rules import MAX_DECIMALS_PERP, MAX_DECIMALS_SPOT, MIN_NOTIONAL_USD, PX_SIG_FIGS  # noqa: F401

TIFS = ("Alo", "Gtc", "Ioc")
GROUPINGS = ("na", "normalTpsl", "positionTpsl")


# -- numbers ------------------------------------------------------------------------

def float_to_wire(x: float) -> str:
    """SDK-identical decimal string: 8 decimals at most, no trailing zeros.

    Raises ValueError("float_to_wire causes rounding", x) when `x` does not survive
    8-decimal formatting (round to the tick/lot first)."""
    rounded = f"{x:.8f}"
    if abs(float(rounded) - x) >= 1e-12:
        raise ValueError("float_to_wire causes rounding", x)
    # Fast path: for <= 28 digits Decimal(...).normalize() only strips zeros, exactly
    # like rstrip. Longer numbers (context precision rounds them) and nan/inf take
    # the SDK's own path so the output stays identical.
    if len(rounded) - (rounded[0] == "-") <= 29 and "n" not in rounded:
        return rounded.rstrip("0").rstrip(".")
    if rounded == "-0":  # kept from the SDK (never true: "-0.00000000" != "-0")
        rounded = "0"
    return f"{Decimal(rounded).normalize():f}"


def float_to_int(x: float, power: int) -> int:
    """SDK `float_to_int`: x * 10**power as an int, refusing to round by >= 1e-3."""
    with_decimals = x * 10**power
    if abs(round(with_decimals) - with_decimals) >= 1e-3:
        raise ValueError("float_to_int causes rounding", x)
    return round(with_decimals)


def float_to_int_for_hashing(x: float) -> int:
    return float_to_int(x, 8)


def float_to_usd_int(x: float) -> int:
    return float_to_int(x, 6)


def round_px(px: float, sz_decimals: int, is_spot: bool = False) -> float:
    """Nearest valid price (``rules.round_px`` with side 0). Our own quotes round
    passively instead (``rules.round_px`` with the order's side)."""
    return float(rules.round_px(float(px), int(sz_decimals), rules.ROUND_NEAREST, 0.0, bool(is_spot)))


def round_sz(sz: float, sz_decimals: int) -> float:
    """Size on the lot (``rules.round_sz``)."""
    return float(rules.round_sz(float(sz), int(sz_decimals)))


def px_valid(px: float, sz_decimals: int, is_spot: bool = False) -> bool:
    """True when the venue accepts ``px`` as is (``rules.px_valid``) and it survives
    ``float_to_wire``."""
    if not rules.px_valid(float(px), int(sz_decimals), bool(is_spot)):
        return False
    try:
        float_to_wire(px)
    except ValueError:
        return False
    return True


def sz_valid(sz: float, sz_decimals: int) -> bool:
    """True when ``sz`` is positive, a whole number of lots and survives ``float_to_wire``."""
    if not rules.sz_valid(float(sz), int(sz_decimals)):
        return False
    try:
        float_to_wire(sz)
    except ValueError:
        return False
    return True


def meets_min_notional(px: float, sz: float, min_notional_usd: float = MIN_NOTIONAL_USD) -> bool:
    """The venue rejects orders below $10 notional (``rules.meets_min_notional``)."""
    return bool(rules.meets_min_notional(float(px), float(sz), float(min_notional_usd)))


# -- order wire -----------------------------------------------------------------------

def cloid_from_int(n: int) -> str:
    """SDK `Cloid.from_int`: "0x" + 32 hex digits."""
    return f"{n:#034x}"


def _check_cloid(cloid: str) -> str:
    if len(cloid) != 34 or cloid[:2] != "0x":
        raise ValueError(f"cloid must be '0x' + 32 hex digits, got {cloid!r}")
    return cloid


def limit_type(tif: str) -> dict:
    if tif not in TIFS:
        raise ValueError(f"tif must be one of {TIFS}, got {tif!r}")
    return {"limit": {"tif": tif}}


def trigger_type(is_market: bool, trigger_px: float, tpsl: str) -> dict:
    """SDK key order: isMarket, triggerPx, tpsl."""
    if tpsl not in ("tp", "sl"):
        raise ValueError(f"tpsl must be 'tp' or 'sl', got {tpsl!r}")
    return {"trigger": {"isMarket": is_market, "triggerPx": float_to_wire(trigger_px), "tpsl": tpsl}}


def order_wire(asset: int, is_buy: bool, px: float, sz: float, reduce_only: bool,
               tif: str, cloid: str | None = None) -> dict:
    """{"a","b","p","s","r","t"[,"c"]} in the SDK's order; px/sz must already be rounded."""
    if tif not in TIFS:
        raise ValueError(f"tif must be one of {TIFS}, got {tif!r}")
    wire = {"a": asset, "b": is_buy, "p": float_to_wire(px), "s": float_to_wire(sz),
            "r": reduce_only, "t": {"limit": {"tif": tif}}}
    if cloid is not None:
        wire["c"] = _check_cloid(cloid)
    return wire


def order_wire_typed(asset: int, is_buy: bool, px: float, sz: float, reduce_only: bool,
                     order_type_wire: dict, cloid: str | None = None) -> dict:
    """As `order_wire` with a prepared type (`limit_type(...)` or `trigger_type(...)`)."""
    wire = {"a": asset, "b": is_buy, "p": float_to_wire(px), "s": float_to_wire(sz),
            "r": reduce_only, "t": order_type_wire}
    if cloid is not None:
        wire["c"] = _check_cloid(cloid)
    return wire


# -- actions (key order = the SDK's) ----------------------------------------------------

def order_action(order_wires: list[dict], grouping: str | dict = "na", builder: dict | None = None) -> dict:
    action = {"type": "order", "orders": order_wires, "grouping": grouping}
    if builder:
        action["builder"] = {"b": builder["b"].lower(), "f": builder["f"]}
    return action


def cancel_action(cancels: list[tuple[int, int]]) -> dict:
    """cancels: (asset, oid) pairs."""
    return {"type": "cancel", "cancels": [{"a": asset, "o": oid} for asset, oid in cancels]}


def cancel_by_cloid_action(cancels: list[tuple[int, str]]) -> dict:
    """cancels: (asset, cloid) pairs; note the long key names."""
    return {"type": "cancelByCloid",
            "cancels": [{"asset": asset, "cloid": _check_cloid(cloid)} for asset, cloid in cancels]}


def modify_action(oid: int | str, order: dict) -> dict:
    """Single modify; `oid` is an int oid or a cloid string."""
    return {"type": "modify", "oid": oid, "order": order}


def batch_modify_action(modifies: list[tuple[int | str, dict]]) -> dict:
    """modifies: (oid or cloid, order wire) pairs. The SDK sends every modify this way."""
    return {"type": "batchModify", "modifies": [{"oid": oid, "order": order} for oid, order in modifies]}


def schedule_cancel_action(time_ms: int | None) -> dict:
    """Dead man's switch; `None` unsets it (the key is then omitted, as the SDK does)."""
    action: dict = {"type": "scheduleCancel"}
    if time_ms is not None:
        action["time"] = time_ms
    return action


def update_leverage_action(asset: int, is_cross: bool, leverage: int) -> dict:
    return {"type": "updateLeverage", "asset": asset, "isCross": is_cross, "leverage": leverage}


def update_isolated_margin_action(asset: int, amount_usd: float) -> dict:
    return {"type": "updateIsolatedMargin", "asset": asset, "isBuy": True,
            "ntli": float_to_usd_int(amount_usd)}


def noop_action() -> dict:
    """Burns the nonce: the cheap way to invalidate in-flight actions."""
    return {"type": "noop"}
