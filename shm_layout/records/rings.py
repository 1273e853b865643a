"""The ring slots: one normalized market event (feed -> estimator, quote, risk), one
of our fills (gateway -> everyone), one event of our account from the venue's user
feeds (feed -> gateway), one order lifecycle event (gateway -> risk watchdog)."""

import numpy as np

from ..constants import BOOK_DEPTH, CLOID_BYTES, HASH_BYTES
from .headers import padded

# --- md ring slot: one normalized market event --------------------------------
# Byte layout (issue 18): the header (80 B), then the book levels interleaved, one
# MD_LEVEL (40 B) per depth, best first, so that the header and level 0 of both
# sides fit in the first 128 bytes (two cache lines):
#
#     0      16        80        120       160            880   896
#     | ids  | times.. | level 0 | level 1 | ... level 19 | pad |
#
# A trade (no levels) or a BBO (one level a side) lives in those two lines; the md
# ring copies only the used prefix, ``md_used_bytes(n_bids, n_asks)``, and keeps it
# in ``used_bytes`` (the ring's word; 0 = the whole record). Bytes past the used
# prefix of a record read from the ring are stale: read levels below n_bids/n_asks only.
MD_LEVEL = np.dtype(
    [
        ("bid_px", "<f8"),
        ("bid_sz", "<f8"),
        ("ask_px", "<f8"),
        ("ask_sz", "<f8"),
        ("bid_n", "<i4"),  # order count at this level
        ("ask_n", "<i4"),
    ],
    align=True,
)
MD_EVENT = padded(
    [
        ("seq", "<i8"),
        ("kind", "u1"),  # EV_*
        ("coin", "u1"),  # index into the configured coins
        ("side", "i1"),  # trade aggressor: +1 buy, -1 sell
        ("n_bids", "u1"),
        ("n_asks", "u1"),
        ("flags", "u1"),
        ("used_bytes", "<u2"),  # written by the ring (ipc.ring.USED_BYTES_AT): bytes published
        ("exch_ts_ns", "<i8"),  # venue timestamp
        ("recv_ts_ns", "<i8"),  # our receive timestamp
        ("pub_mono_ns", "<i8"),  # when the feed published it (latency origin)
        ("trade_id", "<i8"),
        ("px", "<f8"),  # trade price / mark price (ASSET_CTX)
        ("sz", "<f8"),  # trade size / open interest (ASSET_CTX)
        ("aux0", "<f8"),  # ASSET_CTX: funding rate per hour
        ("aux1", "<f8"),  # ASSET_CTX: oracle price
        ("lv", MD_LEVEL, (BOOK_DEPTH,)),  # book levels, best first: ev.lv.bid_px[i] ...
    ]
)
MD_LEVELS_AT = MD_EVENT.fields["lv"][1]  # byte offset of level 0
MD_LEVEL_BYTES = MD_LEVEL.itemsize
MD_LEVEL_FIELDS = MD_LEVEL.names  # bid_px bid_sz ask_px ask_sz bid_n ask_n
# An event's content field by field, by the names stored events' columns carry: the
# header (without padding and the ring's used_bytes), then the level fields.
MD_COLUMNS = tuple(n for n in MD_EVENT.names
                   if n not in ("lv", "used_bytes") and not n.startswith("_")) + MD_LEVEL_FIELDS


def md_field(ev: np.ndarray, name: str) -> np.ndarray:
    """A field of MD_EVENT records (an array or one record) by its column name: a
    header field as it is, a level field (``bid_px`` ...) as a (..., BOOK_DEPTH) view."""
    return ev["lv"][name] if name in MD_LEVEL_FIELDS else ev[name]


def md_used_bytes(n_bids: int, n_asks: int) -> int:
    """Bytes of an MD_EVENT with these level counts that carry data: the header and
    ``max(n_bids, n_asks)`` levels (plain arithmetic: numba compiles it where called)."""
    n = max(int(n_bids), int(n_asks))
    if n > BOOK_DEPTH:
        n = BOOK_DEPTH
    return MD_LEVELS_AT + MD_LEVEL_BYTES * n


# --- fills ring slot: one of our fills ------------------------------------------
FILL_EVENT = padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("side", "i1"),  # +1 we bought, -1 we sold
        ("is_maker", "u1"),
        ("level", "u1"),  # ladder level the order came from
        ("_pad0", "u1", (4,)),
        ("ts_ns", "<i8"),
        ("pub_mono_ns", "<i8"),
        ("oid", "<i8"),
        ("level_id", "<i8"),  # prediction id carried from the ladder to the order
        ("px", "<f8"),
        ("sz", "<f8"),
        ("fee_usd", "<f8"),  # negative = rebate
        ("mid_px", "<f8"),  # mid when the fill happened (markout origin)
        ("pred_fill_prob", "<f8"),
        ("pred_as_bps", "<f8"),
        ("position_sz", "<f8"),  # position after this fill
    ]
)

# --- user ring slot: one event of our account from the venue's user feeds --------
# Written by the Hyperliquid client (feed side), read by the gateway. Field use
# by kind (UE_*):
#   fill:          coin side px sz fee crossed start_position closed_pnl dir oid tid
#                  hash cloid time_ms is_snapshot
#   order:         coin side px (limitPx) sz (remaining) orig_sz oid cloid status
#                  time_ms (statusTimestamp)
#   funding:       coin usdc szi funding_rate n_samples (in tid) time_ms is_snapshot
#   liquidation:   tid (lid), sz (liquidated_ntl_pos), usdc (liquidated_account_value)
#   nonUserCancel: coin oid
#   resync:        tid = connection number (1 = first connect)
USER_EVENT = padded(
    [
        ("seq", "<i8"),
        ("kind", "u1"),  # UE_*
        ("coin", "u1"),  # index into the configured coins; COIN_UNKNOWN otherwise
        ("side", "i1"),  # +1 buy ("B"), -1 sell ("A")
        ("crossed", "u1"),  # fill: 1 = we were the taker
        ("is_snapshot", "u1"),  # 1 = from a snapshot message (re-delivery possible)
        ("status", "u1"),  # order: ORDER_STATUS_NAMES index
        ("dir", "u1"),  # fill: FILL_DIR_NAMES index
        ("flags", "u1"),  # UF_*
        ("time_ms", "<i8"),  # venue time
        ("recv_ts_ns", "<i8"),  # our receive time (CLOCK_REALTIME)
        ("pub_mono_ns", "<i8"),
        ("oid", "<i8"),
        ("tid", "<i8"),
        ("px", "<f8"),
        ("sz", "<f8"),
        ("orig_sz", "<f8"),
        ("fee", "<f8"),  # USD; negative = rebate
        ("start_position", "<f8"),
        ("closed_pnl", "<f8"),
        ("usdc", "<f8"),
        ("szi", "<f8"),
        ("funding_rate", "<f8"),
        ("cloid", "u1", (CLOID_BYTES,)),
        ("hash", "u1", (HASH_BYTES,)),
    ]
)


# --- order lifecycle ring slot: gateway -> risk watchdog (model scorer) ------------------
# Times on CLOCK_MONOTONIC, the clock the scorer samples MarketParams and fills on.
ORDER_EVENT = padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("side", "i1"),  # +1 bid, -1 ask
        ("kind", "u1"),  # OE_*
        ("level", "u1"),  # ladder level the order quotes
        ("end_reason", "u1"),  # OE_ENDED: END_*
        ("_pad0", "u1", (3,)),
        ("mono_ns", "<i8"),  # when it happened (placed: when the request left)
        ("key", "<i8"),  # the placement: unique per order and per modify
        ("pred_id", "<i8"),  # the ladder's prediction id
        ("pred_fill_prob", "<f8"),  # P(fill within horizon_ns), from the ladder
        ("horizon_ns", "<i8"),  # the forecast's horizon
        ("px", "<f8"),
    ]
)
