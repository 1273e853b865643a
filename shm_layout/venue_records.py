"""State records of the local venue's matching core (issue 3), as numpy dtypes.

One venue = seven arrays, built by ``appliance.venue.matching.state.new_venue``:

* ``st``        VENUE_STATE[1]      counters, fee and queue-model configuration
* ``books``     VENUE_BOOK[n_coins] last displayed book, depletion, mark/oracle/funding,
                                    the coin's rules and its list of live order slots
* ``orders``    VENUE_ORDER[MAX_VENUE_ORDERS] order slots (live and recently done)
* ``accounts``  VENUE_ACCOUNT[n_accounts]
* ``positions`` VENUE_POSITION[n_accounts, n_coins]
* ``fills``     VENUE_FILL[FILL_BUF_CAP]     output: fills since the last drain
* ``updates``   VENUE_UPDATE[UPDATE_BUF_CAP] output: order status changes, funding,
                                    liquidations since the last drain

Kernel records, not shared memory: aligned but not cache-line padded. Prices in
USD, sizes in coin units, times in integer ns of *event* time (the source's clock).
"""

import numpy as np

from .constants import BOOK_DEPTH

# --- capacities ------------------------------------------------------------------
MAX_VENUE_COINS = 32
MAX_VENUE_ACCOUNTS = 64
MAX_VENUE_ORDERS = 8192  # order slots, live + done (a done slot is reused)
MAX_LIVE_PER_COIN = 512  # live orders of one coin, all accounts
FILL_BUF_CAP = 65536  # fills between two drains
UPDATE_BUF_CAP = 65536  # updates between two drains

# --- enums -----------------------------------------------------------------------
TIF_GTC = 0
TIF_ALO = 1
TIF_IOC = 2
TIF_NAMES = ("Gtc", "Alo", "Ioc")

QUEUE_RISK_AVERSE = 0
QUEUE_PROB_POWER = 1
QUEUE_PROB_LOG = 2
QUEUE_MODEL_NAMES = ("risk_averse", "prob_power", "prob_log")

# Order status (Hyperliquid's orderStatus strings in ORDER_STATUS_NAMES).
OS_FREE = 0  # slot unused
OS_OPEN = 1
OS_FILLED = 2
OS_CANCELED = 3
OS_SELF_TRADE_CANCELED = 4
OS_LIQUIDATED_CANCELED = 5
OS_IOC_CANCEL_REJECTED = 6
OS_BAD_ALO_PX_REJECTED = 7
OS_TICK_REJECTED = 8
OS_MIN_TRADE_NTL_REJECTED = 9
OS_REDUCE_ONLY_REJECTED = 10
OS_PERP_MARGIN_REJECTED = 11
OS_REJECTED = 12  # other rejections (bad size, ...)
OS_SCHEDULED_CANCEL = 13
OS_MARGIN_CANCELED = 14
OS_REDUCE_ONLY_CANCELED = 15
ORDER_STATUS_NAMES = (
    "free", "open", "filled", "canceled", "selfTradeCanceled", "liquidatedCanceled",
    "iocCancelRejected", "badAloPxRejected", "tickRejected", "minTradeNtlRejected",
    "reduceOnlyRejected", "perpMarginRejected", "rejected", "scheduledCancel",
    "marginCanceled", "reduceOnlyCanceled",
)

# Result of place_order (PLACE_RESULT.code); texts in matching.texts.ERROR_TEXTS.
RES_RESTING = 0
RES_FILLED = 1
RES_ERR_TICK = 2
RES_ERR_MIN_NOTIONAL = 3
RES_ERR_REDUCE_ONLY = 4
RES_ERR_MARGIN = 5
RES_ERR_ALO_CROSS = 6
RES_ERR_IOC_NO_MATCH = 7
RES_ERR_SIZE = 8
RES_ERR_BAD_COIN = 9
RES_ERR_FULL = 10  # no free order slot / live list full
RES_ERR_NO_ACCOUNT = 11
RES_ERR_MODIFY_DEAD = 12  # modify of an order no longer open

# Fill direction (VENUE_FILL.dir); the strings Hyperliquid prints in ``dir``.
DIR_OPEN_LONG = 0
DIR_OPEN_SHORT = 1
DIR_CLOSE_LONG = 2
DIR_CLOSE_SHORT = 3
DIR_LONG_TO_SHORT = 4
DIR_SHORT_TO_LONG = 5
DIR_NAMES = ("Open Long", "Open Short", "Close Long", "Close Short", "Long > Short", "Short > Long")

# VENUE_UPDATE.kind
UPD_ORDER = 1  # status change: oid, status, (px, sz = remaining, orig_sz)
UPD_FUNDING = 2  # v0 = usdc paid to the account (negative = paid out), v1 = szi, v2 = rate/h
UPD_LIQUIDATION = 3  # v0 = liquidated notional, v1 = account value, v2 = mark px

# Latency modes (LATENCY_CFG.mode)
LAT_CONSTANT = 0
LAT_LOGNORMAL = 1

HOUR_NS = 3_600_000_000_000

VENUE_STATE = np.dtype(
    [
        ("next_oid", "<i8"),
        ("next_tid", "<i8"),
        ("n_fills", "<i8"),  # used entries of the fills buffer
        ("n_updates", "<i8"),
        ("fills_lost", "<i8"),  # buffer was full (drain more often)
        ("updates_lost", "<i8"),
        ("slot_cursor", "<i8"),  # where the next free-slot search starts
        ("n_coins", "<i8"),
        ("n_accounts", "<i8"),
        ("now_ns", "<i8"),  # newest event time seen
        ("n_events", "<i8"),
        ("maker_bps", "<f8"),  # negative = rebate
        ("taker_bps", "<f8"),
        ("queue_model", "<i8"),  # QUEUE_*
        ("queue_power", "<f8"),  # n of prob_power
        ("min_notional_usd", "<f8"),
        ("hash_salt", "<u8"),
    ],
    align=True,
)

VENUE_ORDER = np.dtype(
    [
        ("oid", "<i8"),
        ("account", "<i4"),
        ("coin", "<i4"),
        ("side", "i1"),  # +1 buy, -1 sell
        ("tif", "u1"),  # TIF_*
        ("reduce_only", "u1"),
        ("status", "u1"),  # OS_*
        ("has_cloid", "u1"),
        ("_pad0", "u1", (3,)),
        ("cloid", "u1", (16,)),
        ("px", "<f8"),  # limit px
        ("sz", "<f8"),  # remaining
        ("orig_sz", "<f8"),
        ("filled_sz", "<f8"),
        ("queue_ahead_sz", "<f8"),  # displayed size ahead of us at our px
        ("level_sz", "<f8"),  # displayed size at our px at the last book (-1 unknown)
        ("cum_trade_sz", "<f8"),  # traded at our px since that book
        ("placed_ns", "<i8"),
        ("active_ns", "<i8"),  # matching starts here (entry latency)
        ("status_ns", "<i8"),
    ],
    align=True,
)

VENUE_BOOK = np.dtype(
    [
        ("n_bids", "<i4"),
        ("n_asks", "<i4"),
        ("bid_px", "<f8", (BOOK_DEPTH,)),
        ("bid_sz", "<f8", (BOOK_DEPTH,)),  # displayed by the source
        ("ask_px", "<f8", (BOOK_DEPTH,)),
        ("ask_sz", "<f8", (BOOK_DEPTH,)),
        ("bid_n", "<i4", (BOOK_DEPTH,)),
        ("ask_n", "<i4", (BOOK_DEPTH,)),
        # Depletion: displayed size our taker orders took, by price. The source never
        # sees our trades, so an entry lives while its price stays in the displayed
        # book (capped at the level's size), else our bids would re-take it forever.
        ("bid_taken_px", "<f8", (BOOK_DEPTH,)),
        ("bid_taken_sz", "<f8", (BOOK_DEPTH,)),
        ("ask_taken_px", "<f8", (BOOK_DEPTH,)),
        ("ask_taken_sz", "<f8", (BOOK_DEPTH,)),
        ("n_bid_taken", "<i4"),
        ("n_ask_taken", "<i4"),
        ("book_ns", "<i8"),
        ("last_trade_ns", "<i8"),
        ("last_trade_px", "<f8"),
        ("mark_px", "<f8"),
        ("oracle_px", "<f8"),
        ("funding_rate_per_h", "<f8"),
        ("open_interest", "<f8"),
        ("has_ctx", "<i4"),  # 1 once an EV_ASSET_CTX arrived: mark/oracle from it
        ("sz_decimals", "<i4"),
        ("max_leverage", "<f8"),
        ("next_funding_ns", "<i8"),  # 0 until the first event sets the next hour
        ("n_positions", "<i4"),  # accounts with szi != 0 here (skip liquidation scans)
        ("n_live", "<i4"),
        ("live", "<i4", (MAX_LIVE_PER_COIN,)),  # order slots of live orders
    ],
    align=True,
)

VENUE_ACCOUNT = np.dtype(
    [
        ("active", "<i8"),
        ("usdc_usd", "<f8"),  # cash: deposits + realized pnl - fees + funding
        ("volume_usd", "<f8"),
        ("fees_usd", "<f8"),
        ("funding_usd", "<f8"),  # received (negative = paid)
        ("realized_pnl_usd", "<f8"),
        ("n_fills", "<i8"),
    ],
    align=True,
)

VENUE_POSITION = np.dtype(
    [
        ("szi", "<f8"),  # signed size
        ("entry_px", "<f8"),
        ("leverage", "<f8"),
        ("is_cross", "<i8"),
        ("liq_px", "<f8"),  # 0 = none
        ("cum_funding_all_usd", "<f8"),  # received (negative = paid)
        ("cum_funding_open_usd", "<f8"),  # since the position opened
        ("cum_funding_change_usd", "<f8"),  # since its size last changed
    ],
    align=True,
)

VENUE_FILL = np.dtype(
    [
        ("tid", "<i8"),
        ("oid", "<i8"),
        ("account", "<i4"),
        ("coin", "<i4"),
        ("side", "i1"),  # +1 bought, -1 sold
        ("crossed", "u1"),  # 1 = taker
        ("dir", "u1"),  # DIR_*
        ("liquidation", "u1"),
        ("_pad0", "u1", (4,)),
        ("px", "<f8"),
        ("sz", "<f8"),
        ("fee_usd", "<f8"),  # negative = rebate
        ("time_ns", "<i8"),
        ("start_position", "<f8"),
        ("closed_pnl_usd", "<f8"),
        ("hash_seed", "<u8"),  # engine renders "0x" + 64 hex from it
    ],
    align=True,
)

VENUE_UPDATE = np.dtype(
    [
        ("kind", "<i4"),  # UPD_*
        ("account", "<i4"),
        ("coin", "<i4"),
        ("status", "<i4"),  # OS_* for UPD_ORDER
        ("oid", "<i8"),
        ("slot", "<i8"),
        ("time_ns", "<i8"),
        ("v0", "<f8"),
        ("v1", "<f8"),
        ("v2", "<f8"),
    ],
    align=True,
)

PLACE_RESULT = np.dtype(
    [
        ("code", "<i8"),  # RES_*
        ("oid", "<i8"),  # assigned even to rejected orders (0 for bad coin/account)
        ("slot", "<i8"),  # -1 unless resting
        ("filled_sz", "<f8"),
        ("avg_px", "<f8"),
        ("bbo_bid_px", "<f8"),  # for the ALO reject text
        ("bbo_ask_px", "<f8"),
    ],
    align=True,
)

LATENCY_CFG = np.dtype(
    [
        ("mode", "<i8"),  # LAT_*
        ("const_ns", "<i8"),  # constant, or the floor of the lognormal
        ("median_ns", "<f8"),  # lognormal: exp(mu) above the floor
        ("sigma", "<f8"),  # lognormal shape
        ("rng_state", "<u8"),  # xorshift64* state, never 0
    ],
    align=True,
)

VENUE_RECORDS = {
    "venue_state": VENUE_STATE,
    "venue_order": VENUE_ORDER,
    "venue_book": VENUE_BOOK,
    "venue_account": VENUE_ACCOUNT,
    "venue_position": VENUE_POSITION,
    "venue_fill": VENUE_FILL,
    "venue_update": VENUE_UPDATE,
    "place_result": PLACE_RESULT,
    "latency_cfg": LATENCY_CFG,
}
