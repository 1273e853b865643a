"""Hyperliquid's per-order error texts (protocol reference §3), by PLACE_RESULT code."""

from shm_layout.venue_records import (
    RES_ERR_ALO_CROSS,
    RES_ERR_BAD_COIN,
    RES_ERR_FULL,
    RES_ERR_IOC_NO_MATCH,
    RES_ERR_MARGIN,
    RES_ERR_MIN_NOTIONAL,
    RES_ERR_MODIFY_DEAD,
    RES_ERR_NO_ACCOUNT,
    RES_ERR_REDUCE_ONLY,
    RES_ERR_SIZE,
    RES_ERR_TICK,
)

ERROR_TEXTS = {
    RES_ERR_TICK: "Price must be divisible by tick size.",
    RES_ERR_MIN_NOTIONAL: "Order must have minimum value of $10.",
    RES_ERR_REDUCE_ONLY: "Reduce only order would increase position.",
    RES_ERR_MARGIN: "Insufficient margin to place order.",
    RES_ERR_ALO_CROSS: "Post only order would have immediately matched, bbo was {bid}@{ask}.",
    RES_ERR_IOC_NO_MATCH: "Order could not immediately match against any resting orders.",
    RES_ERR_SIZE: "Order has invalid size.",
    RES_ERR_BAD_COIN: "Asset not found.",
    RES_ERR_FULL: "Too many open orders.",
    RES_ERR_NO_ACCOUNT: "User or API Wallet does not exist.",
    RES_ERR_MODIFY_DEAD: "Cannot modify canceled or filled order",
}
LEVERAGE_ERROR_TEXTS = {
    1: "Invalid leverage value.",
    2: "Cannot switch leverage type with open position.",
}
