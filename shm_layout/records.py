"""Every record that lives in shared memory, as numpy structured dtypes.

Conventions
-----------
* Every ring slot and every seqlock block starts with ``seq`` (int64) at offset 0.
  Ring slot: ``seq == n`` once event n is published, ``-n`` while it is written.
  Seqlock block: ``seq`` odd while the writer is inside, even when stable.
* Records are padded to whole cache lines so two writers never share a line.
* Prices in quote currency (USD), sizes in coin units (``_sz``), times in integer
  nanoseconds: ``*_ts_ns`` wall clock (CLOCK_REALTIME), ``*_mono_ns`` CLOCK_MONOTONIC,
  which all processes of one host share and which latency is measured on.
"""

import numpy as np

from .constants import (
    BOOK_DEPTH,
    CACHE_LINE,
    COIN_NAME_BYTES,
    KERNEL_STATE_WORDS,
    LAT_BUCKETS,
    MAX_COINS,
    MAX_LEVELS,
    N_PROCS,
)


def _padded(fields: list, line: int = CACHE_LINE) -> np.dtype:
    """An aligned structured dtype whose size is rounded up to whole cache lines."""
    base = np.dtype(fields, align=True)
    size = -(-base.itemsize // line) * line
    return np.dtype(
        {
            "names": base.names,
            "formats": [base.fields[n][0] for n in base.names],
            "offsets": [base.fields[n][1] for n in base.names],
            "itemsize": size,
        },
        align=True,
    )


# --- segment header: the first cache line of every segment ---------------------
SEGMENT_HEADER = np.dtype(
    {
        "names": [
            "magic", "layout_version", "header_bytes", "layout_hash", "segment_kind",
            "n_records", "record_bytes", "body_offset", "created_ts_ns", "creator_pid",
        ],
        "formats": ["<u8", "<u4", "<u4", "<u8", "<u4", "<u4", "<u4", "<u4", "<i8", "<i8"],
        "offsets": [0, 8, 12, 16, 24, 28, 32, 36, 40, 48],
        "itemsize": 64,
    }
)

# --- ring header: the writer's published cursor on its own line ----------------
RING_HEADER = _padded(
    [
        ("head", "<i8"),  # last published sequence (0 = none yet)
        ("capacity", "<i8"),
        ("mask", "<i8"),
        ("_pad0", "u1", (40,)),
        ("last_pub_mono_ns", "<i8"),  # when head last moved (staleness of the source)
        ("writer_pid", "<i8"),
    ]
)

# --- md ring slot: one normalized market event --------------------------------
MD_EVENT = _padded(
    [
        ("seq", "<i8"),
        ("kind", "u1"),  # EV_*
        ("coin", "u1"),  # index into the configured coins
        ("side", "i1"),  # trade aggressor: +1 buy, -1 sell
        ("n_bids", "u1"),
        ("n_asks", "u1"),
        ("flags", "u1"),
        ("_pad0", "u1", (2,)),
        ("exch_ts_ns", "<i8"),  # venue timestamp
        ("recv_ts_ns", "<i8"),  # our receive timestamp
        ("pub_mono_ns", "<i8"),  # when the feed published it (latency origin)
        ("trade_id", "<i8"),
        ("px", "<f8"),  # trade price / mark price (ASSET_CTX)
        ("sz", "<f8"),  # trade size / open interest (ASSET_CTX)
        ("aux0", "<f8"),  # ASSET_CTX: funding rate per hour
        ("aux1", "<f8"),  # ASSET_CTX: oracle price
        ("bid_px", "<f8", (BOOK_DEPTH,)),
        ("bid_sz", "<f8", (BOOK_DEPTH,)),
        ("ask_px", "<f8", (BOOK_DEPTH,)),
        ("ask_sz", "<f8", (BOOK_DEPTH,)),
        ("bid_n", "<i4", (BOOK_DEPTH,)),  # order count per level
        ("ask_n", "<i4", (BOOK_DEPTH,)),
    ]
)

# --- fills ring slot: one of our fills ------------------------------------------
FILL_EVENT = _padded(
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

# --- MarketParams: estimator -> quote, per coin (seqlock) -----------------------
MARKET_PARAMS = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("valid", "u1"),  # 1 when every field below is usable
        ("_pad0", "u1", (6,)),
        ("n_events", "<i8"),
        ("event_ts_ns", "<i8"),  # venue time of the newest event reflected
        ("src_pub_mono_ns", "<i8"),  # pub_mono_ns of that event (latency chain)
        ("update_mono_ns", "<i8"),
        ("mid_px", "<f8"),
        ("microprice_px", "<f8"),
        ("best_bid_px", "<f8"),
        ("best_ask_px", "<f8"),
        ("spread_bps", "<f8"),
        ("book_imbalance", "<f8"),  # (bid - ask) / (bid + ask) top-of-book size
        ("sigma_clean_bps_per_sqrt_s", "<f8"),  # bipower (jump-robust)
        ("sigma_total_bps_per_sqrt_s", "<f8"),  # realized (jump-inclusive)
        ("kappa_per_bps", "<f8"),  # fill-intensity decay per bps of depth
        ("trade_flow_imbalance", "<f8"),  # EWMA signed volume / volume, in [-1, 1]
        ("trade_rate_per_s", "<f8"),
        ("tick_size_px", "<f8"),
        ("funding_rate_per_h", "<f8"),
        ("adverse_selection_bps", "<f8"),  # EWMA of -markout of our fills at 1 s
        ("n_fills_marked", "<i8"),  # fills whose markout has been measured
    ]
)

# --- TargetLadder: quote -> gateway, per coin (seqlock) ------------------------
TARGET_LADDER = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("n_bids", "u1"),
        ("n_asks", "u1"),
        ("pulled_reason", "u1"),  # PULL_*; 0 = quoting
        ("_pad0", "u1", (4,)),
        ("ladder_id", "<i8"),  # increments per computed ladder
        ("src_pub_mono_ns", "<i8"),
        ("update_mono_ns", "<i8"),
        ("mid_px", "<f8"),
        ("reservation_px", "<f8"),
        ("half_spread_bps", "<f8"),
        ("gamma", "<f8"),
        ("bid_px", "<f8", (MAX_LEVELS,)),
        ("bid_sz", "<f8", (MAX_LEVELS,)),
        ("ask_px", "<f8", (MAX_LEVELS,)),
        ("ask_sz", "<f8", (MAX_LEVELS,)),
        ("bid_fill_prob", "<f8", (MAX_LEVELS,)),
        ("ask_fill_prob", "<f8", (MAX_LEVELS,)),
        ("bid_as_bps", "<f8", (MAX_LEVELS,)),
        ("ask_as_bps", "<f8", (MAX_LEVELS,)),
    ]
)

# --- PositionState: gateway -> everyone, per coin (seqlock) --------------------
POSITION_STATE = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("kill_active", "u1"),  # gateway has cancelled all and is holding
        ("reducing_only", "u1"),
        ("_pad0", "u1", (5,)),
        ("update_mono_ns", "<i8"),
        ("position_sz", "<f8"),
        ("avg_entry_px", "<f8"),
        ("mark_px", "<f8"),
        ("realized_pnl_usd", "<f8"),
        ("unrealized_pnl_usd", "<f8"),
        ("fees_usd", "<f8"),
        ("total_pnl_usd", "<f8"),  # realized + unrealized - fees, since start of day
        ("volume_usd", "<f8"),
        ("n_fills", "<i8"),
        ("orders_placed", "<i8"),
        ("orders_cancelled", "<i8"),
        ("n_open_bids", "<i8"),
        ("n_open_asks", "<i8"),
        ("last_ladder_id", "<i8"),
        ("open_bid_px", "<f8", (MAX_LEVELS,)),
        ("open_bid_sz", "<f8", (MAX_LEVELS,)),
        ("open_ask_px", "<f8", (MAX_LEVELS,)),
        ("open_ask_sz", "<f8", (MAX_LEVELS,)),
    ]
)

# --- per-coin kernel state that survives a restart (single writer, no seqlock) --
KERNEL_STATE = _padded(
    [
        ("seq", "<i8"),  # bumped by the owner after each update (liveness only)
        ("initialized", "<i8"),
        ("words", "<f8", (KERNEL_STATE_WORDS,)),
    ]
)

# --- control block ------------------------------------------------------------
# One per instance. Each field has one writer, named in its comment; words are
# aligned 8-byte stores, so readers never see half of one.
PROC_SLOT = _padded(
    [
        ("pid", "<i8"),  # supervisor
        ("cpus_mask", "<u8"),  # the process itself, from sched_getaffinity
        ("heartbeat_mono_ns", "<i8"),  # the process
        ("started_mono_ns", "<i8"),  # supervisor
        ("state", "<u4"),  # PS_*; the process (running) and supervisor (others)
        ("restarts", "<u4"),  # supervisor
        ("last_exit_code", "<i4"),  # supervisor
        ("sleeping", "<u4"),  # the process, under the block waiting policy
        ("loops", "<u8"),  # the process
        ("events", "<u8"),  # the process
        ("md_cursor", "<i8"),  # the process, when it reads the md ring
        ("md_lost", "<i8"),
        ("fills_cursor", "<i8"),
        ("fills_lost", "<i8"),
        ("errors", "<u8"),  # malformed input skipped, illegal transitions...
        ("lat_count", "<u8"),  # quote: event -> ladder latency samples
        ("lat_hist", "<u4", (LAT_BUCKETS,)),
    ]
)

CONTROL = _padded(
    [
        ("supervisor_pid", "<i8"),
        ("state", "<u4"),  # AS_*; supervisor
        ("stop_requested", "<u4"),  # mmctl stop
        ("started_ts_ns", "<i8"),
        ("layout_hash", "<u8"),
        ("n_coins", "<u4"),
        ("kill_flag", "<u4"),  # anyone; 0 = trading allowed
        ("kill_seq", "<u8"),  # bumped on every set and reset
        ("kill_ts_ns", "<i8"),
        ("kill_reason", f"S{128}"),  # written before kill_flag
        ("kill_source", f"S{16}"),
        ("clock_offset_ns", "<i8"),  # supervisor, from the clock check
        ("clock_max_error_us", "<i8"),
        ("clock_checked_ts_ns", "<i8"),
        ("clock_ok", "<u4"),
        ("n_procs", "<u4"),
        ("instance", f"S{32}"),
        ("coins", f"S{COIN_NAME_BYTES}", (MAX_COINS,)),
        ("procs", PROC_SLOT, (N_PROCS,)),
    ]
)

RECORDS = {
    "segment_header": SEGMENT_HEADER,
    "ring_header": RING_HEADER,
    "md_event": MD_EVENT,
    "fill_event": FILL_EVENT,
    "market_params": MARKET_PARAMS,
    "target_ladder": TARGET_LADDER,
    "position_state": POSITION_STATE,
    "kernel_state": KERNEL_STATE,
    "proc_slot": PROC_SLOT,
    "control": CONTROL,
}
