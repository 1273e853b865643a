"""Constants that shape the shared-memory layout.

Anything here that changes a byte offset or a size changes the layout hash, so a
process built from another version refuses to attach (see ``segments.layout_hash``).
"""

# "MMAPPLI1" as a little-endian u64: the first 8 bytes of every segment.
MAGIC = 0x31494C5050414D4D

# Bump by hand when the meaning of a field changes without its bytes changing;
# the hash catches every change of bytes by itself.
LAYOUT_VERSION = 1

CACHE_LINE = 64
SEGMENT_HEADER_BYTES = 64

# Configured coins each own one MarketParams, TargetLadder and PositionState block.
MAX_COINS = 8
COIN_NAME_BYTES = 16

# Depth of a normalized book event (Hyperliquid's l2Book sends 20 levels a side).
BOOK_DEPTH = 20

# Levels of a ladder a side (the default quotes 5).
MAX_LEVELS = 10

# Ring capacities (powers of two).
MD_RING_SLOTS = 8192
FILL_RING_SLOTS = 4096

# Per-coin scratch state of a kernel that must survive a process restart.
KERNEL_STATE_WORDS = 512

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
PULL_REASON_NAMES = ("none", "no_params", "not_finite", "kill", "crossed")

# MdEvent.flags bits.
FLAG_BOOK_GAP = 1  # the source lost continuity before this book; it may be wrong
FLAG_SYNTHETIC = 2  # generated, not recorded
