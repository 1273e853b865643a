"""What the quote kernel asks of the gateway (TargetLadder) and what the gateway
reports back to everyone (PositionState), one seqlock block each per coin."""

from ..constants import MAX_LEVELS
from .headers import padded

# --- TargetLadder: quote -> gateway, per coin (seqlock) ------------------------
TARGET_LADDER = padded(
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
POSITION_STATE = padded(
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
