"""The venue's universe: coin names, size decimals, leverage, asset ids.

Shipped inside the package (the product never reads ../shared at run time). Size
decimals follow the real ``meta`` (2023 capture); leverage caps follow today's
venue for the majors and 10x for the rest. A coin not in the table gets 2 size
decimals and 10x. Asset id = index in the universe = index in the venue's coin list.
"""

from __future__ import annotations

from dataclasses import dataclass

# name -> (szDecimals, maxLeverage)
KNOWN_COINS: dict[str, tuple[int, int]] = {
    "BTC": (5, 40), "ETH": (4, 25), "SOL": (2, 20), "XRP": (0, 20), "DOGE": (0, 10),
    "BNB": (3, 10), "AVAX": (2, 10), "ATOM": (2, 10), "MATIC": (1, 10), "DYDX": (1, 10),
    "APE": (1, 10), "OP": (1, 10), "LTC": (2, 10), "ARB": (1, 10), "INJ": (1, 10),
    "SUI": (1, 10), "kPEPE": (0, 10), "CRV": (1, 10), "LDO": (1, 10), "LINK": (1, 10),
    "STX": (1, 10), "CFX": (0, 10), "GMX": (2, 10), "SNX": (1, 10), "BCH": (3, 10),
    "APT": (2, 10), "HYPE": (2, 10),
}
DEFAULT_SPEC = (2, 10)


@dataclass(frozen=True)
class VenueCoin:
    name: str
    asset: int
    sz_decimals: int
    max_leverage: int


def build_universe(coins: tuple[str, ...] | list[str]) -> list[VenueCoin]:
    out = []
    for i, name in enumerate(coins):
        sz_dec, lev = KNOWN_COINS.get(name, DEFAULT_SPEC)
        out.append(VenueCoin(name, i, sz_dec, lev))
    return out


def meta_json(universe: list[VenueCoin]) -> dict:
    tables = sorted({c.max_leverage for c in universe})
    return {
        "universe": [
            {"szDecimals": c.sz_decimals, "name": c.name, "maxLeverage": c.max_leverage,
             "marginTableId": c.max_leverage}
            for c in universe
        ],
        "marginTables": [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in tables
        ],
    }


def spot_meta_json() -> dict:
    # No spot markets locally; USDC is listed so clients that index tokens find it.
    return {
        "universe": [],
        "tokens": [
            {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
             "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True,
             "evmContract": None, "fullName": None}
        ],
    }
