"""Constants that shape the shared-memory layout.

Anything here that changes a byte offset or a size changes the layout hash, so a
process built from another version refuses to attach (see ``segments.layout_hash``).
"""

# "MMAPPLI1" as a little-endian u64: the first 8 bytes of every segment.
MAGIC = 0x31494C5050414D4D

# Bump by hand when the meaning of a field changes without its bytes changing;
# the hash catches every change of bytes by itself.
LAYOUT_VERSION = 2  # 2: MD_EVENT book levels interleaved, ring-owned used_bytes (issue 18)

CACHE_LINE = 64
SEGMENT_HEADER_BYTES = 64

# Configured coins each own one MarketParams, TargetLadder and PositionState block.
MAX_COINS = 8
COIN_NAME_BYTES = 16

# Depth of a normalized book event (Hyperliquid's l2Book sends 20 levels a side).
BOOK_DEPTH = 20

# Levels of a ladder a side (the default quotes 5).
MAX_LEVELS = 10

# P&L attribution (records.ATTRIBUTION_STATE): fills inside their markout horizon, per coin.
ATTRIB_PENDING = 128

# Ring capacities (powers of two).
MD_RING_SLOTS = 8192
FILL_RING_SLOTS = 4096
ORDER_RING_SLOTS = 4096

# Per-coin scratch state of the quote kernel that must survive a process restart (the
# estimator's state is declared field by field instead: shm_layout/estimators).
KERNEL_STATE_WORDS = 2048

# MarketParams: bump when a field changes meaning; readers check ``params_version``.
PARAMS_VERSION = 2
# Per-estimator status in MarketParams (``*_status`` fields).
EST_WARMING = 0  # not enough data yet: neutral values
EST_VALID = 1
EST_STALE = 2  # its input stopped (older than estimator.tiers.stale_after_s)
EST_OFF = 3  # switched off by config
EST_STATUS_NAMES = ("warming", "valid", "stale", "off")

# Latency histogram: bucket b holds values in [2^(b/4), 2^((b+1)/4)) ns.
LAT_BUCKETS_PER_OCTAVE = 4
LAT_BUCKETS = 144  # up to 2^36 ns, about 69 s

# --- md ring event kinds ----------------------------------------------------
EV_BOOK = 1  # full snapshot of the top BOOK_DEPTH levels a side
EV_TRADE = 2  # one trade, side = aggressor (+1 buy, -1 sell)
EV_BBO = 3  # best bid/offer only (n_bids = n_asks = 1)
EV_ASSET_CTX = 4  # funding, mark, oracle, open interest, premium

# --- processes ----------------------------------------------------------------
PROC_FEED = 0
PROC_ESTIMATOR = 1
PROC_QUOTE = 2
PROC_GATEWAY = 3
PROC_RISK = 4
PROC_SUPERVISOR = 5
N_PROCS = 6
N_CHILDREN = 5  # feed .. risk; the supervisor is not a child
PROC_NAMES = ("feed", "estimator", "quote", "gateway", "risk", "supervisor")

# Process states (ProcSlot.state).
PS_NONE = 0
PS_STARTING = 1
PS_RUNNING = 2
PS_STOPPING = 3
PS_EXITED = 4
PS_RESTARTING = 5
PROC_STATE_NAMES = ("none", "starting", "running", "stopping", "exited", "restarting")

# Appliance states (Control.state).
AS_STARTING = 1
AS_RUNNING = 2
AS_STOPPING = 3
AS_STOPPED = 4
APPLIANCE_STATE_NAMES = ("none", "starting", "running", "stopping", "stopped")

# Why a ladder is pulled (TargetLadder.pulled_reason); 0 means quoting.
PULL_NONE = 0
PULL_NO_PARAMS = 1  # no valid MarketParams yet, or stale
PULL_NOT_FINITE = 2  # a NaN or inf reached the kernel
PULL_KILL = 3  # the kill flag is set
PULL_CROSSED = 4  # the computed bid would cross the ask
PULL_CASCADE = 5  # MarketParams.should_pull_quotes (liquidation cascade)
PULL_NO_EDGE = 6  # every level's expected PnL <= 0 (or no room on either side)
PULL_POSITION_UNKNOWN = 7  # PositionState could not be read: never quote it as flat
PULL_RISK = 8  # the risk watchdog's graded action "pull" (Control.risk_action)
PULL_TOXIC = 9  # both sides pulled by the AS terms (liquidity withdrawn, P(toxic) pulls)
PULL_REASON_NAMES = ("none", "no_params", "not_finite", "kill", "crossed", "cascade", "no_edge",
                     "position_unknown", "risk", "toxic")

# Graded actions of the risk watchdog (Control.risk_action), weakest first: the
# strongest action any firing check asks for is in force. Kill raises the kill flag.
RA_NONE = 0
RA_WIDEN = 1  # quote wider: half-spreads x risk.widen_mult
RA_REDUCE_ONLY = 2  # only the side that reduces the position
RA_PULL = 3  # no quotes (the gateway cancels), not latched
RA_KILL = 4  # the kill flag: latched until `mmctl kill --reset --reason`
RISK_ACTION_NAMES = ("none", "widen", "reduce_only", "pull", "kill")

# Dead man's switch state (Control.gw_dms_state; gateway).
DMS_OFF = 0
DMS_PENDING = 1
DMS_ACTIVE = 2
DMS_REFUSED = 3
DMS_STATE_NAMES = ("off", "pending", "active", "refused")

# Last-resort canceller state (Control.canceller_state; risk watchdog).
LRC_IDLE = 0  # the gateway is alive and watching its orders
LRC_CANCELLING = 1  # gateway or supervisor lost: cancelling every order of ours
LRC_VERIFIED = 2  # openOrders showed none of ours after the last loss
LRC_FAILED = 3  # could not reach or sign for the venue (the reason is logged)
LRC_OFF = 4  # no venue account (paper) or risk.last_resort_cancel = false
LRC_STATE_NAMES = ("idle", "cancelling", "verified", "failed", "off")

# MdEvent.flags bits.
FLAG_BOOK_GAP = 1  # the source lost continuity before this book; it may be wrong
FLAG_SYNTHETIC = 2  # generated, not recorded
FLAG_BOOK_FROM_DIFFS = 4  # a book built from depth diffs alone (no snapshot), after a warm-up

# --- user-event ring (Hyperliquid user feeds -> gateway) ------------------------
USER_RING_SLOTS = 4096
CLOID_BYTES = 16  # a cloid is "0x" + 32 hex chars
HASH_BYTES = 32  # a transaction hash is "0x" + 64 hex chars
COIN_UNKNOWN = 255  # UserEvent.coin for a coin that is not configured

# UserEvent.kind
UE_FILL = 1  # one of our fills (userFills or userEvents.fills)
UE_ORDER = 2  # an order status change (orderUpdates)
UE_FUNDING = 3  # a funding payment (userFundings or userEvents.funding)
UE_LIQUIDATION = 4  # userEvents.liquidation
UE_NON_USER_CANCEL = 5  # userEvents.nonUserCancel, one event per cancelled order
UE_RESYNC = 6  # the client (re)connected and resubscribed: reconcile with the venue
UE_KIND_NAMES = ("none", "fill", "order", "funding", "liquidation", "nonUserCancel", "resync")

# UserEvent.status: Hyperliquid order status strings (orderUpdates, orderStatus).
# Append only: the code of a status is its index and lives in the journal.
ORDER_STATUS_NAMES = (
    "unknown",
    "open", "filled", "canceled", "triggered", "rejected",
    "marginCanceled", "vaultWithdrawalCanceled", "openInterestCapCanceled",
    "selfTradeCanceled", "reduceOnlyCanceled", "siblingFilledCanceled",
    "delistedCanceled", "liquidatedCanceled", "scheduledCancel",
    "tickRejected", "minTradeNtlRejected", "perpMarginRejected", "reduceOnlyRejected",
    "badAloPxRejected", "iocCancelRejected", "badTriggerPxRejected",
    "marketOrderNoLiquidityRejected", "positionIncreaseAtOpenInterestCapRejected",
    "positionFlipAtOpenInterestCapRejected", "tooAggressiveAtOpenInterestCapRejected",
    "openInterestIncreaseRejected", "insufficientSpotBalanceRejected", "oracleRejected",
    "perpMaxPositionRejected", "tooManyOpenOrdersRejected",
)
ORDER_STATUS_CODE = {name: i for i, name in enumerate(ORDER_STATUS_NAMES)}
OS_UNKNOWN = 0
OS_OPEN = 1
OS_FILLED = 2
OS_CANCELED = 3
OS_TRIGGERED = 4
OS_REJECTED = 5


def order_status_code(name: str) -> int:
    """The code of an order status string; OS_UNKNOWN for one not listed."""
    return ORDER_STATUS_CODE.get(name, OS_UNKNOWN)


def order_status_is_cancel(code: int) -> bool:
    """Any way an order stops resting without filling: canceled, *Canceled, scheduledCancel."""
    name = ORDER_STATUS_NAMES[code] if 0 <= code < len(ORDER_STATUS_NAMES) else ""
    return name == "canceled" or name.endswith("Canceled") or name == "scheduledCancel"


def order_status_is_reject(code: int) -> bool:
    name = ORDER_STATUS_NAMES[code] if 0 <= code < len(ORDER_STATUS_NAMES) else ""
    return name == "rejected" or name.endswith("Rejected")


# WsFill.dir strings; UserEvent.dir is the index (0 = other / unknown).
FILL_DIR_NAMES = (
    "other", "Open Long", "Open Short", "Close Long", "Close Short",
    "Long > Short", "Short > Long", "Buy", "Sell", "Liquidated Isolated Long",
    "Liquidated Isolated Short", "Liquidated Cross Long", "Liquidated Cross Short",
)
FILL_DIR_CODE = {name: i for i, name in enumerate(FILL_DIR_NAMES)}

# UserEvent.flags bits.
UF_LIQUIDATION_FILL = 1  # the fill carries a "liquidation" object
UF_HAS_CLOID = 2  # cloid holds a client order id
UF_HAS_HASH = 4


# --- order lifecycle ring (gateway -> the risk watchdog's model scorer) -------------
# One record per event of one placement: an order leaving with its level's fill-probability
# forecast, its first fill, its end. A modify ends one placement and starts another (the
# venue moves a modified order to the back of the queue: a new forecast).
OE_PLACED = 1
OE_FILLED = 2  # the placement's first fill
OE_ENDED = 3
OE_KIND_NAMES = ("none", "placed", "filled", "ended")
# OrderEvent.end_reason (OE_ENDED)
END_FILLED = 1
END_CANCELLED = 2  # by us, the venue, the kill switch
END_REJECTED = 3
END_MODIFIED = 4  # replaced by a modify (new oid, back of the queue)
END_REASON_NAMES = ("none", "filled", "cancelled", "rejected", "modified")

# --- model scores (risk watchdog -> mmctl inspect scores, Prometheus) -----------------
# Each model's index in ModelScores arrays is its place here; append only.
SCORE_AS_HORIZONS_MS = (500, 1000, 2000, 5000, 10000, 30000)
MODEL_NAMES = (
    "fill_prob", "toxicity",
    *(f"adverse_selection_{h / 1000:g}s" for h in SCORE_AS_HORIZONS_MS),
    "drift", "microprice", "lead_lag",
)
MAX_MODELS = 16
N_PROB_MODELS = 2  # the first models are probabilities: they carry a reliability curve
SCORE_CURVE_BINS = 10
# ModelScores.value columns: the fields of measure.scores.ProbabilityScore and
# ForecastScore (a model fills the ones of its kind, NaN elsewhere).
SCORE_METRIC_NAMES = (
    "mean_forecast", "base_rate", "brier", "reliability", "resolution", "uncertainty", "skill",
    "mean_realized", "bias", "ratio", "slope", "pearson", "spearman", "ir", "hit_rate",
    # fill_prob only: measure.scores.hazard_score over every placement (censored ones
    # for the time they rested), whose skill decides fill_prob's degraded flag
    "survival_skill", "observed_over_expected",
    # forecasts: the share of pairs with no realized move, and Spearman without them
    "zero_realized_share", "spearman_moved",
)
MAX_SCORE_METRICS = 20
