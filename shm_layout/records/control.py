"""The control block, one per instance: the supervisor's and every process's slot,
the kill flag, the clock check, the risk watchdog's action and the gateway's health."""

from ..constants import COIN_NAME_BYTES, LAT_BUCKETS, MAX_COINS, N_PROCS
from .headers import padded

# --- control block ------------------------------------------------------------
# One per instance. Each field has one writer, named in its comment; words are
# aligned 8-byte stores, so readers never see half of one.
PROC_SLOT = padded(
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

CONTROL = padded(
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
