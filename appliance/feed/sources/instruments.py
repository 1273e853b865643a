"""Instrument facts: tick, lot, contract size, inverse or linear, fees, per market.

``TABLE`` is data: one row per instrument we have captures of, from the venues'
published contract specifications (Binance exchangeInfo / dapi exchangeInfo, the
regular-user (VIP 0) fee schedule as of the captures, August 2024; Hyperliquid's meta
and base fee tier). ``tests/feed/test_instruments.py`` holds every tick and lot
against the prices and sizes in the captures themselves.

A replay looks its symbol up with ``instrument_for``; overrides (``FIELD=VALUE``
strings, from ``[feed] replay_instrument`` or ``mmctl backtest --instrument``) replace
fields per file, and are how an instrument missing from the table gets its facts.
A coin-margined (inverse) instrument without a contract size is an error: its sizes
cannot be read without one.

Units: ``lot`` is in the instrument's own size unit (coin, or contracts when
``contract_usd`` > 0); fees in bps of notional, maker negative for a rebate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass


class InstrumentError(ValueError):
    """Facts a replay cannot do without are missing (an inverse contract's size)."""


MARKETS = ("binance_usdm", "binance_cm", "binance_spot", "hyperliquid")


@dataclass(frozen=True)
class Instrument:
    market: str  # one of MARKETS
    symbol: str  # as the venue names it (BTCUSDT, BTCUSD_PERP, BTC)
    coin: str  # the coin it trades, the appliance's name (BTC)
    tick_px: float | None  # price step; None: not fixed (Hyperliquid: 5 significant figures)
    lot: float | None  # size step, in the size unit (coin, or contracts)
    contract_usd: float = 0.0  # > 0: sizes are contracts of this many USD (coin-margined)
    inverse: bool = False  # margined and settled in the coin; P&L in coin
    maker_fee_bps: float | None = None
    taker_fee_bps: float | None = None
    known: bool = True  # a row of TABLE (False: built from overrides only)
    overrides: tuple[str, ...] = ()  # the FIELD=VALUE strings applied

    @property
    def size_unit(self) -> str:
        return f"contracts of {self.contract_usd:g} USD" if self.contract_usd > 0 else "coin"

    def to_dict(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d["overrides"] = list(self.overrides)
        d["size_unit"] = self.size_unit
        return d


TABLE: tuple[Instrument, ...] = (
    Instrument("binance_usdm", "BTCUSDT", "BTC", 0.1, 0.001, maker_fee_bps=2.0, taker_fee_bps=5.0),
    Instrument("binance_usdm", "ETHUSDT", "ETH", 0.01, 0.001, maker_fee_bps=2.0, taker_fee_bps=5.0),
    Instrument("binance_cm", "BTCUSD_PERP", "BTC", 0.1, 1.0, contract_usd=100.0, inverse=True,
               maker_fee_bps=2.0, taker_fee_bps=5.0),
    Instrument("binance_cm", "ETHUSD_PERP", "ETH", 0.01, 1.0, contract_usd=10.0, inverse=True,
               maker_fee_bps=2.0, taker_fee_bps=5.0),
    Instrument("binance_spot", "BTCUSDT", "BTC", 0.01, 0.00001, maker_fee_bps=10.0,
               taker_fee_bps=10.0),
    Instrument("binance_spot", "ETHUSDT", "ETH", 0.01, 0.0001, maker_fee_bps=10.0,
               taker_fee_bps=10.0),
    Instrument("hyperliquid", "BTC", "BTC", None, 0.00001, maker_fee_bps=1.5, taker_fee_bps=4.5),
    Instrument("hyperliquid", "ETH", "ETH", None, 0.0001, maker_fee_bps=1.5, taker_fee_bps=4.5),
)

_FLOAT_FIELDS = ("tick_px", "lot", "contract_usd", "maker_fee_bps", "taker_fee_bps")
OVERRIDABLE = (*_FLOAT_FIELDS, "inverse", "market")


def parse_overrides(items: Sequence[str]) -> dict[str, object]:
    """``("contract_usd=100", "inverse=true")`` -> typed fields; ValueError naming the
    bad item."""
    if isinstance(items, str):
        items = (items,)
    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or key not in OVERRIDABLE:
            raise ValueError(
                f"instrument override {item!r}: expected FIELD=VALUE with FIELD one of "
                f"{', '.join(OVERRIDABLE)}")
        if key == "inverse":
            if raw.lower() not in ("true", "false"):
                raise ValueError(f"instrument override {item!r}: inverse is true or false")
            out[key] = raw.lower() == "true"
        elif key == "market":
            if raw not in MARKETS:
                raise ValueError(f"instrument override {item!r}: market is one of {MARKETS}")
            out[key] = raw
        else:
            try:
                x = float(raw)
            except ValueError:
                raise ValueError(f"instrument override {item!r}: {key} is a number") from None
            if not math.isfinite(x) or (x < 0.0 and not key.endswith("fee_bps")):
                # fees may be negative (a maker rebate); nothing else may
                raise ValueError(f"instrument override {item!r}: {key} must be finite, >= 0")
            out[key] = x
    return out


def instrument_for(market: str, symbol: str, coin: str,
                   overrides: Sequence[str] = ()) -> Instrument:
    """The table's row for ``symbol`` on ``market`` with ``overrides`` applied; an
    unknown symbol gets an instrument with unknown facts (None), which is enough for a
    linear market. Raises ValueError when the result is inverse without a contract size."""
    fields = parse_overrides(overrides)
    fields.pop("market", None)  # the caller chose the market already
    row = next((i for i in TABLE if i.market == market and i.symbol == symbol.upper()), None)
    if row is None:
        row = Instrument(market, symbol.upper(), coin, None, None, known=False,
                         inverse=market == "binance_cm")
    inst = dataclasses.replace(row, **fields, overrides=tuple(str(o) for o in overrides))
    if inst.inverse and not inst.contract_usd > 0:
        raise InstrumentError(
            f"{market} {inst.symbol}: an inverse (coin-margined) instrument needs its "
            "contract size, and the instrument table has none for it: give "
            "--instrument contract_usd=USD (or [feed] replay_instrument)")
    return inst
