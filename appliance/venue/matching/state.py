"""Allocation and initialisation of a venue's arrays (Python, not on a hot path)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from appliance.hyperliquid.rules import MIN_NOTIONAL_USD
from shm_layout.venue_records import (
    FILL_BUF_CAP,
    MAX_VENUE_ACCOUNTS,
    MAX_VENUE_COINS,
    MAX_VENUE_ORDERS,
    PLACE_RESULT,
    QUEUE_MODEL_NAMES,
    UPDATE_BUF_CAP,
    VENUE_ACCOUNT,
    VENUE_BOOK,
    VENUE_FILL,
    VENUE_ORDER,
    VENUE_POSITION,
    VENUE_STATE,
    VENUE_UPDATE,
)

DEFAULT_TAKER_BPS = 4.5
DEFAULT_MAKER_BPS = 1.5
DEFAULT_MIN_NOTIONAL_USD = MIN_NOTIONAL_USD


class VenueArrays(NamedTuple):
    """The arrays every kernel takes, in this order (``*va`` passes them)."""

    st: np.ndarray  # VENUE_STATE[1]; kernels take st[0]
    books: np.ndarray
    orders: np.ndarray
    accounts: np.ndarray
    positions: np.ndarray
    fills: np.ndarray
    updates: np.ndarray


def queue_model_code(name: str) -> int:
    try:
        return QUEUE_MODEL_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown queue model {name!r}; one of {QUEUE_MODEL_NAMES}") from None


def new_venue(
    sz_decimals: list[int],
    max_leverage: list[float],
    n_accounts: int = 8,
    maker_bps: float = DEFAULT_MAKER_BPS,
    taker_bps: float = DEFAULT_TAKER_BPS,
    queue_model: str = "prob_power",
    queue_power: float = 2.0,
    max_orders: int = MAX_VENUE_ORDERS,
    fill_cap: int = FILL_BUF_CAP,
    update_cap: int = UPDATE_BUF_CAP,
    min_notional_usd: float = DEFAULT_MIN_NOTIONAL_USD,
    hash_salt: int = 0,
) -> VenueArrays:
    """Arrays for ``len(sz_decimals)`` coins and ``n_accounts`` account slots (inactive
    until ``fund_account``). Leverage starts at each coin's max, cross."""
    n_coins = len(sz_decimals)
    if not 0 < n_coins <= MAX_VENUE_COINS or len(max_leverage) != n_coins:
        raise ValueError("bad coin list")
    if not 0 < n_accounts <= MAX_VENUE_ACCOUNTS:
        raise ValueError(f"n_accounts must be 1..{MAX_VENUE_ACCOUNTS}")
    st = np.zeros(1, VENUE_STATE)
    s = st[0]
    s["next_oid"] = 1
    s["next_tid"] = 1
    s["n_coins"] = n_coins
    s["n_accounts"] = n_accounts
    s["maker_bps"] = maker_bps
    s["taker_bps"] = taker_bps
    s["queue_model"] = queue_model_code(queue_model)
    s["queue_power"] = queue_power
    s["min_notional_usd"] = min_notional_usd
    s["hash_salt"] = hash_salt
    books = np.zeros(n_coins, VENUE_BOOK)
    books["sz_decimals"] = sz_decimals
    books["max_leverage"] = max_leverage
    positions = np.zeros((n_accounts, n_coins), VENUE_POSITION)
    positions["leverage"] = np.asarray(max_leverage, dtype=np.float64)[None, :]
    positions["is_cross"] = 1
    return VenueArrays(
        st, books, np.zeros(max_orders, VENUE_ORDER), np.zeros(n_accounts, VENUE_ACCOUNT),
        positions, np.zeros(fill_cap, VENUE_FILL), np.zeros(update_cap, VENUE_UPDATE),
    )


def fund_account(va: VenueArrays, account: int, usdc: float) -> None:
    """Activate an account slot and add ``usdc`` to its cash."""
    va.accounts[account]["active"] = 1
    va.accounts[account]["usdc_usd"] += usdc


def new_place_result() -> np.ndarray:
    return np.zeros(1, PLACE_RESULT)
