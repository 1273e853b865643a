"""The instrument table against the captures' own prices and sizes; overrides."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sources_helpers import BINANCE_CAPTURES, HL_BTC, _frame, _lines, _need

from appliance.feed.sources.binance_book import symbol_to_coin
from appliance.feed.sources.instruments import (
    TABLE,
    InstrumentError,
    instrument_for,
    parse_overrides,
)


def _raw_prices_and_sizes(path, n_lines: int = 3000) -> tuple[np.ndarray, np.ndarray, str]:
    """Prices and sizes as the capture writes them (no replay source), and its symbol."""
    px, sz, sym = [], [], ""
    for ln in _lines(path)[:n_lines]:
        f = _frame(ln)
        d = f.get("data", f)
        sym = d.get("s", sym)
        for side in ("b", "a", "bids", "asks"):
            if isinstance(d.get(side), list):
                for p, q in d[side]:
                    px.append(float(p))
                    sz.append(float(q))
        if "p" in d:
            px.append(float(d["p"]))
            sz.append(float(d["q"]))
    return np.array(px), np.array(sz), sym


def _on_grid(x: np.ndarray, step: float) -> float:
    """The share of ``x`` on multiples of ``step``."""
    k = x / step
    return float(np.isclose(k, np.round(k), rtol=0, atol=1e-6).mean())


@pytest.mark.parametrize(("path", "market", "coin", "lo", "hi"), BINANCE_CAPTURES,
                         ids=lambda v: getattr(v, "name", None))
def test_table_when_held_against_the_capture_then_prices_on_tick_and_sizes_on_lot(
        path, market, coin, lo, hi):
    px, sz, sym = _raw_prices_and_sizes(_need(path))
    inst = instrument_for(market, sym, coin)
    assert inst.known and inst.coin == symbol_to_coin(sym) == coin
    assert _on_grid(px, inst.tick_px) == 1.0
    # one spot BTC level of 3000 lines holds 25.426189: an older, finer lot
    assert _on_grid(sz[sz > 0], inst.lot) > 0.999
    # and not on grids ten times coarser: the table's steps are the capture's
    assert _on_grid(px, inst.tick_px * 10) < 0.5 and _on_grid(sz[sz > 0], inst.lot * 10) < 0.9


def test_table_when_hyperliquid_capture_then_sizes_on_its_lot():
    import orjson

    sizes = []
    for ln in _lines(_need(HL_BTC)):
        f = orjson.loads(ln.split(b" ", 1)[1])
        if f.get("channel") == "l2Book":
            sizes += [float(lv["sz"]) for side in f["data"]["levels"] for lv in side]
    inst = instrument_for("hyperliquid", "BTC", "BTC")
    assert _on_grid(np.array(sizes), inst.lot) == 1.0 and inst.tick_px is None


def test_table_when_coin_margined_then_inverse_with_contract_size():
    cm = {i.symbol: i for i in TABLE if i.market == "binance_cm"}
    assert cm["BTCUSD_PERP"].contract_usd == 100.0 and cm["ETHUSD_PERP"].contract_usd == 10.0
    assert all(i.inverse for i in cm.values())
    assert not any(i.inverse or i.contract_usd for i in TABLE if i.market != "binance_cm")


def test_instrument_when_inverse_symbol_unknown_then_error_unless_contract_size_given():
    with pytest.raises(InstrumentError, match="contract_usd"):
        instrument_for("binance_cm", "SOLUSD_PERP", "SOL")
    inst = instrument_for("binance_cm", "SOLUSD_PERP", "SOL", ["contract_usd=10"])
    assert inst.inverse and inst.contract_usd == 10.0 and not inst.known
    linear = instrument_for("binance_usdm", "SOLUSDT", "SOL")
    assert not linear.known and linear.tick_px is None and not linear.inverse


def test_overrides_when_parsed_then_typed_and_bad_items_named():
    got = parse_overrides(["tick_px=0.5", "inverse=true", "maker_fee_bps=-0.5",
                           "market=binance_spot"])
    assert got == {"tick_px": 0.5, "inverse": True, "maker_fee_bps": -0.5,
                   "market": "binance_spot"}
    for bad in ("tick_px", "size=1", "tick_px=abc", "lot=-1", "inverse=yes", "market=kraken",
                f"contract_usd={math.inf}"):
        with pytest.raises(ValueError, match="instrument override"):
            parse_overrides([bad])
