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

One file on purpose, past the ~400-line mark: the segment catalogue hashes these
dtypes as one layout, and a reader checking an offset wants every record side by side.
Estimator state is declared apart, in ``shm_layout/estimators/``.
"""

import numpy as np

from . import estimators
from .constants import (
    ATTRIB_PENDING,
    BOOK_DEPTH,
    CACHE_LINE,
    CLOID_BYTES,
    COIN_NAME_BYTES,
    HASH_BYTES,
    KERNEL_STATE_WORDS,
    LAT_BUCKETS,
    MAX_COINS,
    MAX_LEVELS,
    MAX_MODELS,
    MAX_SCORE_METRICS,
    N_PROB_MODELS,
    N_PROCS,
    SCORE_CURVE_BINS,
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
MD_EVENT = _padded(
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
USER_EVENT = _padded(
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

# --- MarketParams: estimator -> quote, per coin (seqlock) -----------------------
# One versioned block per coin (``params_version`` = PARAMS_VERSION). Every output has
# its unit in its name; ``*_status`` is EST_WARMING / EST_VALID / EST_STALE / EST_OFF
# per estimator; ``event_ts_ns`` is the venue time of the newest event reflected.
_STATUS_FIELDS = [
    "vol_status", "regime_status", "volclock_status", "kappa_status", "microprice_status",
    "flow_status", "hawkes_status", "funding_status", "spread_status", "cascade_status",
    "corr_status", "basis_status", "as_status", "toxicity_status", "queue_status",
    "book_status", "drift_status",
]
MARKET_PARAMS = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("valid", "u1"),  # 1 when mid, sigma and kappa are usable (quote kernel gate)
        ("volatility_regime", "u1"),  # 0 low, 1 normal, 2 high, 3 extreme
        ("spread_regime", "u1"),  # 0 tight, 1 normal, 2 wide, 3 blowout
        ("should_pull_quotes", "u1"),  # liquidation cascade
        ("microprice_fallback", "u1"),  # 1 = microprice is the mid (R^2 too low)
        ("kappa_model", "u1"),  # 0 exponential, 1 power law (K-S rejected exponential)
        ("kappa_ks_reject", "u1"),
        ("toxicity_gate_bid", "u1"),  # 1 = P(toxic) of a bid fill above the gate
        ("toxicity_gate_ask", "u1"),
        ("corr_ref_coin", "u1"),
        ("drift_out_of_band", "u1"),
        ("params_version", "<u4"),
        *[(f, "u1") for f in _STATUS_FIELDS],
        ("n_events", "<i8"),
        ("event_ts_ns", "<i8"),  # venue time of the newest event reflected
        ("src_pub_mono_ns", "<i8"),  # pub_mono_ns of that event (latency chain)
        ("update_mono_ns", "<i8"),
        # book
        ("mid_px", "<f8"),
        ("microprice_px", "<f8"),  # regression microprice (seed 001 1.4), else mid
        ("weighted_mid_px", "<f8"),  # top-of-book size-weighted mid
        ("best_bid_px", "<f8"),
        ("best_ask_px", "<f8"),
        ("spread_bps", "<f8"),
        ("book_imbalance", "<f8"),  # (bid - ask) / (bid + ask) top-of-book size
        ("tick_size_px", "<f8"),
        # volatility
        ("sigma_clean_bps_per_sqrt_s", "<f8"),  # bipower (jump-robust)
        ("sigma_total_bps_per_sqrt_s", "<f8"),  # realized (jump-inclusive)
        ("sigma_effective_bps_per_sqrt_s", "<f8"),  # regime/toxicity blend x term structure
        ("sigma_blend_weight", "<f8"),  # weight of sigma_total^2 in the blend
        ("sigma_30s_bps_per_sqrt_s", "<f8"),
        ("sigma_300s_bps_per_sqrt_s", "<f8"),
        ("vol_term_ratio", "<f8"),  # sigma_30s / sigma_300s
        ("excess_kurtosis", "<f8"),
        ("as_ratio_adjustment", "<f8"),  # 1 + k max(kurtosis, 0) (seed 003 phase 8)
        ("jump_ratio", "<f8"),  # sigma_total^2 / sigma_clean^2
        ("last_jump_bps", "<f8"),  # signed
        ("last_jump_age_s", "<f8"),
        ("jump_rate_per_s", "<f8"),
        ("sv_kappa_per_s", "<f8"),  # variance mean reversion
        ("sv_theta_bps2_per_s", "<f8"),  # long-run variance
        ("sv_xi_bps_per_s", "<f8"),  # vol of vol (CIR)
        # regime
        ("gamma_multiplier", "<f8"),
        ("spread_multiplier", "<f8"),
        ("regime_vol_ratio", "<f8"),  # sigma_clean_30s / long-run
        # volume clock
        ("volume_rate_sz_per_s", "<f8"),
        ("volclock_bucket_sz", "<f8"),
        ("volclock_bucket_duration_s", "<f8"),
        ("volclock_buckets", "<i8"),
        # kappa
        ("kappa_per_bps", "<f8"),  # fill-intensity decay per bps of depth
        ("kappa_fill_per_bps", "<f8"),
        ("kappa_book_per_bps", "<f8"),
        ("kappa_lo_per_bps", "<f8"),  # 95% interval
        ("kappa_hi_per_bps", "<f8"),
        ("kappa_bid_per_bps", "<f8"),  # with the flow multipliers
        ("kappa_ask_per_bps", "<f8"),
        ("kappa_mult_bid", "<f8"),  # in [0.5, 2]
        ("kappa_mult_ask", "<f8"),
        ("kappa_ks_stat", "<f8"),  # modified K-S statistic (reject above 1.094)
        ("kappa_powerlaw_alpha", "<f8"),
        ("kappa_powerlaw_scale_bps", "<f8"),
        # microprice regression
        ("microprice_adj_bps", "<f8"),
        ("microprice_beta_book_bps", "<f8"),
        ("microprice_beta_flow_bps", "<f8"),
        ("microprice_r2", "<f8"),  # out-of-sample
        # trade flow (seed 002 part 3: magnitude kept)
        ("trade_flow_imbalance", "<f8"),  # EWMA signed volume / volume, in [-1, 1]
        ("trade_rate_per_s", "<f8"),
        ("flow_imbalance_1s", "<f8"),
        ("flow_imbalance_5s", "<f8"),
        ("flow_imbalance_30s", "<f8"),
        ("flow_imbalance_300s", "<f8"),
        ("flow_net_1s_sz_per_s", "<f8"),
        ("flow_net_5s_sz_per_s", "<f8"),
        ("flow_net_30s_sz_per_s", "<f8"),
        ("flow_net_300s_sz_per_s", "<f8"),
        ("flow_volume_1s_sz_per_s", "<f8"),
        ("flow_volume_5s_sz_per_s", "<f8"),
        ("flow_volume_30s_sz_per_s", "<f8"),
        ("flow_volume_300s_sz_per_s", "<f8"),
        # Hawkes
        ("hawkes_buy_intensity_per_s", "<f8"),
        ("hawkes_sell_intensity_per_s", "<f8"),
        ("hawkes_imbalance", "<f8"),
        ("hawkes_buy_excess_per_s", "<f8"),
        ("hawkes_sell_excess_per_s", "<f8"),
        ("hawkes_mu_buy_per_s", "<f8"),
        ("hawkes_mu_sell_per_s", "<f8"),
        ("hawkes_alpha_buy_per_s", "<f8"),
        ("hawkes_alpha_sell_per_s", "<f8"),
        ("hawkes_beta_buy_per_s", "<f8"),
        ("hawkes_beta_sell_per_s", "<f8"),
        # funding
        ("funding_rate_per_h", "<f8"),
        ("funding_predicted_per_h", "<f8"),
        ("funding_std_per_h", "<f8"),
        ("funding_zscore", "<f8"),
        ("funding_cost_bps", "<f8"),  # a long pays over estimator.funding.holding_h
        ("funding_premium_bps", "<f8"),
        ("mark_px", "<f8"),
        ("oracle_px", "<f8"),
        ("open_interest_sz", "<f8"),
        ("funding_n_obs", "<i8"),
        # spread process
        ("fair_spread_bps", "<f8"),
        ("spread_percentile", "<f8"),
        ("spread_floor_bps", "<f8"),  # the lowest spread over estimator.spread.floor_window_ms
        # liquidation cascade
        ("cascade_severity", "<f8"),
        ("tail_risk_multiplier", "<f8"),
        # correlation and cross-venue
        ("corr_fast", "<f8"),  # with corr_ref_coin, ~1 min
        ("corr_medium", "<f8"),  # ~10 min
        ("corr_slow", "<f8"),  # ~1 h
        ("hedge_ratio", "<f8"),  # medium-scale beta against corr_ref_coin
        ("basis_bps", "<f8"),
        ("basis_zscore", "<f8"),
        ("lead_lag_s", "<f8"),  # > 0: the reference leads
        ("lead_lag_corr", "<f8"),
        ("lead_bps_per_s", "<f8"),
        # adverse selection
        ("adverse_selection_bps", "<f8"),  # AS of our fills at 1 s (EWMA)
        ("n_fills_marked", "<i8"),
        ("as_bps_by_horizon", "<f8", (6,)),  # 0.5, 1, 2, 5, 10, 30 s
        ("markout_bps_by_horizon", "<f8", (6,)),
        ("as_spread_adjustment_bps", "<f8"),
        ("predicted_alpha", "<f8"),  # share of informed fills
        ("as0_bps", "<f8"),
        ("as_delta_char_bps", "<f8"),
        # AS ranking terms (issue 14): pred = AS0 exp(-d/d_char) exp(coef min(d, cap)) exp(log_mult)
        ("as_depth_coef_per_bps", "<f8"),  # 0 = no depth growth term
        ("as_depth_cap_bps", "<f8"),
        ("as_momentum_bps", "<f8"),  # (mid - EWMA mid) / mid, signed by the mid's move
        ("as_log_mult_bid", "<f8"),  # momentum term of a fill on our bid (0 = neutral)
        ("as_log_mult_ask", "<f8"),
        ("toxicity_bid", "<f8"),  # P(toxic) of a fill now on our bid
        ("toxicity_ask", "<f8"),
        # queue
        ("queue_exec_scale", "<f8"),
        ("queue_cancel_rate_per_s", "<f8"),
        ("queue_volume_bid_sz_per_s", "<f8"),  # aggressor volume hitting bids
        ("queue_volume_ask_sz_per_s", "<f8"),
        # book microstructure
        ("bim_10bps", "<f8"),
        ("bim_25bps", "<f8"),
        ("bim_50bps", "<f8"),
        ("bim_delta_per_s", "<f8"),
        ("book_pressure_gradient", "<f8"),
        ("book_thinning_per_s", "<f8"),
        ("sweep_score_buy", "<f8"),
        ("sweep_score_sell", "<f8"),
        # Kalman drift
        ("drift_bps_per_s", "<f8"),
        ("drift_uncertainty_bps_per_s", "<f8"),
        ("drift_confidence", "<f8"),
        ("drift_theta_per_s", "<f8"),  # its OU mean reversion (the move over T decays)
        ("drift_skill", "<f8"),  # weight of the drift, [0, 1]: its scored forecast (issue 16)
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
        ("reducing_only", "u1"),  # 1 = only the reducing side (rate budget short)
        ("reduce_only_side", "i1"),  # +1 bids / -1 asks reduce the position: post them reduce-only
        ("legacy_gate", "u1"),  # the old binary gate's decision (GATE_*), logged, acted on in legacy
        ("legacy_gate_disagree", "u1"),  # 1 = the quoted sides differ from what that gate allows
        ("inventory_zone", "u1"),  # the old zone (ZONE_*), diagnostics only outside legacy
        ("epnl_dropped_bids", "u1"),  # levels dropped because E[PnL] <= 0
        ("epnl_dropped_asks", "u1"),
        ("ladder_id", "<i8"),  # increments per computed ladder (by the kernel)
        ("src_pub_mono_ns", "<i8"),
        ("update_mono_ns", "<i8"),
        ("mid_px", "<f8"),
        ("reservation_px", "<f8"),
        ("half_spread_bps", "<f8"),  # mean of the two sides' GLFT half-spreads
        ("gamma", "<f8"),  # gamma(q) with every multiplier, 1/bps
        ("inventory_util", "<f8"),  # signed position / max position
        ("kappa_bid_per_bps", "<f8"),
        ("kappa_ask_per_bps", "<f8"),
        ("bid_half_spread_bps", "<f8"),  # from the reservation price, with the drift shift
        ("ask_half_spread_bps", "<f8"),
        ("skew_bps", "<f8"),  # inventory skew gamma sigma^2 q T
        ("funding_skew_bps", "<f8"),
        ("drift_shift_bps", "<f8"),  # mu T / 2 as applied (clamped only in legacy)
        ("bid_px", "<f8", (MAX_LEVELS,)),
        ("bid_sz", "<f8", (MAX_LEVELS,)),
        ("ask_px", "<f8", (MAX_LEVELS,)),
        ("ask_sz", "<f8", (MAX_LEVELS,)),
        ("bid_fill_prob", "<f8", (MAX_LEVELS,)),  # predicted fill probability
        ("ask_fill_prob", "<f8", (MAX_LEVELS,)),
        ("bid_as_bps", "<f8", (MAX_LEVELS,)),  # predicted adverse selection
        ("ask_as_bps", "<f8", (MAX_LEVELS,)),
        ("bid_epnl_bps", "<f8", (MAX_LEVELS,)),  # expected PnL per unit posted
        ("ask_epnl_bps", "<f8", (MAX_LEVELS,)),
        ("bid_pred_id", "<i8", (MAX_LEVELS,)),  # prediction id the order carries (seed 002)
        ("ask_pred_id", "<i8", (MAX_LEVELS,)),
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
        # The venue account (gateway, from clearinghouseState; the backtester from its
        # simulated account). account_update_mono_ns = 0: never known (paper executor).
        ("account_update_mono_ns", "<i8"),
        ("account_value_usd", "<f8"),  # marginSummary.accountValue; 0 when not known
        ("available_margin_usd", "<f8"),  # withdrawable (free collateral); -1 = not known
        ("margin_used_usd", "<f8"),  # marginSummary.totalMarginUsed; 0 when not known
        ("leverage", "<f8"),  # this coin's position leverage; 0 = not known / no position
        ("liquidation_px", "<f8"),  # this coin's position; 0 = none / not known
        ("funding_usd", "<f8"),  # funding received (negative = paid); in realized_pnl_usd too
        # requests sent for this coin (orders, modifies, cancels): with volume_usd, what the
        # address budget earned and spent (one request per USDC traded; the quote kernel's
        # volume credit, issue 16)
        ("requests_sent", "<i8"),
    ]
)

# --- P&L attribution: risk watchdog -> mmctl report, metrics, per coin (seqlock) --
# The ledger of appliance/measure/attribution.py (its docstring defines every figure):
# the session's baseline, running sums, the components at the last check against
# PositionState, and the fills still inside their markout horizon (pend_*, oldest first).
ATTRIBUTION_STATE = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("started", "u1"),  # 1 once the session's baseline is taken
        ("ok", "u1"),  # 1: the components summed to the P&L at the last check
        ("_pad0", "u1", (5,)),
        ("update_mono_ns", "<i8"),  # the last check
        ("horizon_ns", "<i8"),
        ("start_ts_ns", "<i8"),  # session start, wall clock
        ("start_mono_ns", "<i8"),
        ("base_pos_update_ns", "<i8"),  # fills published up to this are in the baseline
        ("base_pnl_usd", "<f8"),  # PositionState total_pnl_usd at the start
        ("base_funding_usd", "<f8"),
        ("base_n_fills", "<i8"),  # PositionState n_fills at the start
        ("inv_position_sz", "<f8"),  # position held from the start (after adjustments)
        ("inv_mark_px", "<f8"),  # the mark it is marked from
        ("inv_carried_usd", "<f8"),  # its MTM up to the last adjustment
        ("booked_sq", "<f8"),  # signed size of every fill booked
        ("closed_sq", "<f8"),  # ... of those past their horizon
        ("closed_sq_mid_h", "<f8"),  # sum of signed size x mid at fill+H over those
        ("closed_as_usd", "<f8"),
        ("acc_spread_usd", "<f8"),
        ("acc_fee_usd", "<f8"),  # fees paid (negative = rebates)
        ("volume_usd", "<f8"),
        ("n_fills", "<i8"),
        ("n_maker", "<i8"),
        ("n_overflow", "<i8"),  # fills closed early: more than ATTRIB_PENDING inside the horizon
        ("n_adjustments", "<i8"),  # positions adopted or corrected from the venue
        ("n_checks", "<i8"),
        ("n_failed", "<i8"),  # checks whose components did not sum to the P&L
        # at the last check (USD, + = made money; fees_usd = -fees paid)
        ("spread_usd", "<f8"),
        ("adverse_selection_usd", "<f8"),
        ("inventory_usd", "<f8"),
        ("funding_usd", "<f8"),
        ("fees_usd", "<f8"),
        ("total_usd", "<f8"),
        ("pnl_usd", "<f8"),  # PositionState total_pnl_usd - base_pnl_usd
        ("adjustment_usd", "<f8"),
        ("residual_usd", "<f8"),  # pnl - total - adjustment
        ("max_abs_residual_usd", "<f8"),
        ("mark_px", "<f8"),
        ("position_sz", "<f8"),
        ("n_pending", "<i8"),
        ("pend_pub_ns", "<i8", (ATTRIB_PENDING,)),  # fills ring pub_mono_ns
        ("pend_ts_ns", "<i8", (ATTRIB_PENDING,)),  # venue time
        ("pend_sq", "<f8", (ATTRIB_PENDING,)),  # side x size
        ("pend_px", "<f8", (ATTRIB_PENDING,)),
        ("pend_mid_px", "<f8", (ATTRIB_PENDING,)),
        ("pend_mid_h_px", "<f8", (ATTRIB_PENDING,)),  # NaN until the horizon passed
        ("pend_fee_usd", "<f8", (ATTRIB_PENDING,)),
        ("pend_flags", "u1", (ATTRIB_PENDING,)),  # 1 booked, 2 past the horizon, 4 maker
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

# --- per-coin estimator state (single writer, no seqlock). The layout directory comes
# right after seq and initialized, at the same offset in every build, so a build with
# other estimator dtypes can read it and name what changed (shm.estimator_layout_changes).
ESTIMATOR_BLOCK = _padded(
    [
        ("seq", "<i8"),  # bumped by the owner after each update (liveness only)
        ("initialized", "<i8"),
        ("layouts", estimators.LAYOUT_ENTRY, (estimators.MAX_ESTIMATORS,)),
        ("state", estimators.ESTIMATOR_STATE),
    ]
)
LAYOUT_DIRECTORY_OFFSET = 16  # of ESTIMATOR_BLOCK.layouts: never moves
assert ESTIMATOR_BLOCK.fields["layouts"][1] == LAYOUT_DIRECTORY_OFFSET

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
        ("lat_count", "<u8"),  # quote: event -> ladder; gateway: tick -> wire (samples)
        ("lat_hist", "<u4", (LAT_BUCKETS,)),
        ("compile_ns", "<i8"),  # the process: time spent in finished numba compiles
        ("compiling_since_ns", "<i8"),  # the process: monotonic start of a compile, 0 when none
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
        ("venue_pid", "<i8"),  # supervisor: the local venue it runs (0 = none)
        ("clock_fail_streak", "<u4"),  # supervisor: clock checks failed (or errored) in a row
        # risk watchdog: the graded action in force (RA_*, never RA_KILL: that is kill_flag)
        ("risk_action", "<u4"),
        ("risk_action_check", "S32"),  # the check that asks for it
        ("risk_action_ts_ns", "<i8"),
        ("risk_widen_mult", "<f8"),  # half-spread multiplier while RA_WIDEN
        # risk watchdog: session and UTC-day baselines (survive a risk restart)
        ("risk_state_init", "<u4"),
        ("risk_day_index", "<i8"),  # days since the epoch (UTC) of risk_day_start_pnl_usd
        ("risk_session_start_pnl_usd", "<f8"),
        ("risk_day_start_pnl_usd", "<f8"),
        ("risk_peak_pnl_usd", "<f8"),
        # risk watchdog: the last-resort canceller (LRC_*)
        ("canceller_state", "<u4"),
        ("canceller_runs", "<u8"),
        ("canceller_cancelled", "<u8"),  # orders it cancelled
        ("canceller_last_ts_ns", "<i8"),
        # gateway: what the risk watchdog and mmctl status read
        ("gw_dms_state", "<u4"),  # DMS_*
        ("gw_dms_ok_ts_ns", "<i8"),  # last accepted scheduleCancel
        ("gw_rate_headroom_frac", "<f8"),  # address budget left, share; -1 = not known
        ("gw_pretrade_denials", "<u8"),
        ("gw_journal_errors", "<u8"),  # journal writes that failed (disk full, read-only)
        ("gw_venue_latency_ms", "<f8"),  # EWMA of the venue's response time
        # feed (live): the websocket's connections established and ended (metrics)
        ("feed_ws_connects", "<u8"),
        ("feed_ws_drops", "<u8"),
    ]
)

# --- order lifecycle ring slot: gateway -> risk watchdog (model scorer) ------------------
# Times on CLOCK_MONOTONIC, the clock the scorer samples MarketParams and fills on.
ORDER_EVENT = _padded(
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

# --- ModelScores: risk watchdog -> mmctl inspect scores, metrics, per coin (seqlock) -----
# Arrays by model (constants.MODEL_NAMES order) and metric (SCORE_METRIC_NAMES order);
# scores over the window of resolved forecast/outcome pairs (scores.window_s).
MODEL_SCORES = _padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("n_models", "u1"),
        ("n_metrics", "u1"),
        ("_pad0", "u1", (5,)),
        ("update_mono_ns", "<i8"),
        ("update_ts_ns", "<i8"),
        ("window_s", "<f8"),
        ("samples", "<i8", (MAX_MODELS,)),  # pairs scored (in the window, outcome known)
        ("censored", "<i8", (MAX_MODELS,)),  # in the window, outcome censored (left out)
        ("pending", "<i8", (MAX_MODELS,)),  # forecasts awaiting their outcome
        ("total", "<i8", (MAX_MODELS,)),  # pairs resolved since the watchdog started
        ("horizon_s", "<f8", (MAX_MODELS,)),  # of the forecast
        ("degraded_s", "<f8", (MAX_MODELS,)),  # degraded without a break this long; 0 = not now
        ("degraded", "u1", (MAX_MODELS,)),  # 1 = for scores.degraded_after_s: model_degraded
        ("value", "<f8", (MAX_MODELS, MAX_SCORE_METRICS)),  # NaN = no score (too few pairs)
        ("curve_forecast", "<f8", (N_PROB_MODELS, SCORE_CURVE_BINS)),  # reliability curve
        ("curve_observed", "<f8", (N_PROB_MODELS, SCORE_CURVE_BINS)),
        ("curve_count", "<i8", (N_PROB_MODELS, SCORE_CURVE_BINS)),
    ]
)

RECORDS = {
    "segment_header": SEGMENT_HEADER,
    "ring_header": RING_HEADER,
    "md_event": MD_EVENT,
    "fill_event": FILL_EVENT,
    "user_event": USER_EVENT,
    "market_params": MARKET_PARAMS,
    "target_ladder": TARGET_LADDER,
    "position_state": POSITION_STATE,
    "attribution_state": ATTRIBUTION_STATE,
    "kernel_state": KERNEL_STATE,
    "estimator_block": ESTIMATOR_BLOCK,
    "proc_slot": PROC_SLOT,
    "control": CONTROL,
    "order_event": ORDER_EVENT,
    "model_scores": MODEL_SCORES,
}
