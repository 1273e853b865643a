"""The configuration: one TOML file, one frozen section per process or concern.

Every default lives here and in the two modules of its larger sections
(``schema_trading.py``: quote and gateway; ``schema_risk.py``: risk, scores, recorder),
except the ``[estimator]`` table: it is derived from the estimator registry
(``shm_layout/estimators``), one sub-table per estimator. A TOML
file only overrides. Field names carry units.
"""

from dataclasses import dataclass, field

from shm_layout.estimators import EstimatorConfig

from .schema_risk import RecorderConfig, RiskConfig, ScoresConfig
from .schema_trading import GatewayConfig, QuoteConfig

DEFAULT_STATE_DIR = "/tmp/mm-{instance}"


@dataclass(frozen=True)
class ApplianceConfig:
    coins: tuple[str, ...] = ("BTC",)
    cores: str = ""  # e.g. "2-6"; empty = every CPU this process may use
    # pid files, journals, kill switch, logs (unless [logs] dir says otherwise). Left at
    # this default under systemd, $STATE_DIRECTORY (the unit's StateDirectory=) is used.
    state_dir: str = DEFAULT_STATE_DIR
    lock_memory: bool = True  # mlock segments when RLIMIT_MEMLOCK allows


@dataclass(frozen=True)
class FeedConfig:
    # "synthetic" (seeded random walk) or "replay:PATH" (a Hyperliquid or Binance capture)
    source: str = "synthetic"
    seed: int = 7
    speed: float = 1.0  # replay/synthetic pace multiplier; 0 = as fast as the ring takes it
    loop: bool = True  # restart a finished replay from the top
    synthetic_start_px: float = 100_000.0
    synthetic_sigma_bps_per_sqrt_s: float = 2.0
    synthetic_events_per_s: float = 50.0
    synthetic_tick_px: float = 1.0
    # live Hyperliquid websocket (gateway.venue = "hyperliquid")
    ws_ping_idle_s: float = 20.0  # ping when nothing came for this long (server drops at 60 s)
    ws_stale_after_s: float = 45.0  # no frame at all, not even a pong: reconnect
    ws_max_failures: int = 10  # connection failures in a row, then the kill flag
    ws_backoff_cap_s: float = 30.0
    # replays (appliance/feed/sources/): a depth book without a REST snapshot is built from
    # the diffs and trusted after this many diffs and this much receive time, both
    replay_book_warmup_diffs: int = 100
    replay_book_warmup_s: float = 5.0
    # "FIELD=VALUE" overrides of the instrument table for the replayed file (tick_px, lot,
    # contract_usd, inverse, maker_fee_bps, taker_fee_bps, market): sources/instruments.py
    replay_instrument: tuple[str, ...] = ()
    # a replay with a larger share of malformed lines is an error, unless allowed
    replay_max_malformed_frac: float = 0.01
    replay_allow_malformed: bool = False


@dataclass(frozen=True)
class SupervisorConfig:
    # A child whose heartbeat is older than heartbeat_timeout_ms is SIGKILLed and
    # restarted. The heartbeat means "alive", not "between steps": a process stamps it
    # after every step, and the gateway also before each venue request and every
    # 0.25 s while it waits on one (hyperliquid/bounded_net.py). The timeout must exceed
    # the longest stretch without a stamp: the longest bounded blocking call (the
    # gateway's lookup + connect, then the answer: 2 x gateway.http_timeout_s) plus
    # scheduling slack for shared cores, so the configuration is refused unless
    #     heartbeat_timeout_ms >= 2 x gateway.http_timeout_s x 1000 + 1000
    # (config/limits.py, HEARTBEAT_SLACK_MS). Measured at load average 10 on 2 cores
    # (a 10-process busy-loop hog): no process went more than ~0.25 s without a
    # stamp, so 5000 ms (rule minimum 4000 ms with the default 1.5 s timeout) holds
    # there with a wide margin; a hung loop is still restarted within 5 s.
    heartbeat_timeout_ms: int = 5000
    # The one start-up bound, for each process, the local venue, and `mmctl start`'s
    # wait: a first start after a code change compiles every kernel (measured 135-303 s
    # on two loaded cores); a process still not running after it is killed and restarted.
    startup_timeout_s: float = 600.0
    restart_backoff_initial_ms: int = 50
    restart_backoff_max_ms: int = 5000
    max_restarts: int = 10  # within restart_window_s, then the kill flag
    restart_window_s: float = 60.0
    poll_interval_ms: int = 20
    # How a child is started: "fork" = forked by the fork server, one interpreter that
    # has imported numpy, numba and the five process modules, so the children share
    # those pages (issue 18: PSS) and skip the imports (faster restarts); the supervisor
    # waits for, kills and restarts them as before, and falls back to "spawn" (said in
    # its log) if the server cannot serve. "spawn" = a fresh `python -m appliance.NAME`
    # per child.
    child_start: str = "fork"
    # Fork mode: the fork server loads the kernels the processes call from the numba
    # cache before it forks (never compiles), so their machine code is shared too.
    preload_kernels: bool = True


@dataclass(frozen=True)
class LogsConfig:
    # Where the processes' log files go: "" = $LOGS_DIRECTORY/<instance> when systemd set
    # it (the unit's LogsDirectory=), else the state dir; "{instance}" and "{state_dir}"
    # are filled in.
    dir: str = ""
    # Files: "auto" = unless the process logs to journald (run by systemd), "always",
    # "never" (stderr only).
    files: str = "auto"
    max_file_bytes: int = 50_000_000  # a log file is rotated at this size ...
    keep_files: int = 5  # ... keeping this many old ones (<name>.log.1 ...)
    position_every_s: float = 10.0  # the risk watchdog's position/P&L line per coin; 0 = none
    level: str = "INFO"


@dataclass(frozen=True)
class ClockConfig:
    ntp_servers: tuple[str, ...] = ()
    max_offset_ms: float = 50.0
    ntp_timeout_s: float = 1.0
    check_interval_s: float = 60.0
    require_ntp: bool = False  # fail when configured servers do not answer
    require_kernel_sync: bool = False


@dataclass(frozen=True)
class WaitConfig:
    policy: str = "hybrid"  # spin | hybrid | block, for every process unless overridden
    spin_us: int = 0  # hybrid: spin this long before backing off (0: on shared cores a spin delays the woken)
    sleep_max_us: int = 1000  # hybrid: longest sleep between polls
    block_timeout_ms: int = 100  # block: longest wait for a doorbell
    # hybrid: a process woken by producers (estimator, quote, gateway) sleeps on its
    # doorbell with the backoff as the timeout, so a publish wakes it at once
    hybrid_bell: bool = True
    # Scheduler slice of the tick-to-wire path's processes (feed, estimator, quote,
    # gateway; 0 = the kernel's, 1.4 ms on 2 CPUs): a short one lets a woken process
    # run before the busy task's slice ends (EEVDF, Linux >= 6.12; runtime/sched_slice.py).
    # Off: 100 and 300 us measured no better than the doorbell alone (BENCHMARKS.md)
    slice_us: int = 0
    feed: str = ""  # per-process overrides
    estimator: str = ""
    quote: str = ""
    gateway: str = ""
    risk: str = ""


@dataclass(frozen=True)
class BacktestConfig:
    requote_interval_ms: int = 100  # ladder recomputed on this timer of simulated time
    order_latency_ms: float = 20.0  # order entry / cancel: decided -> live at the venue
    order_latency_jitter_ms: float = 0.0  # median of a lognormal added to it (0 = constant)
    order_latency_sigma: float = 1.0  # shape of that lognormal
    # market data: exchange -> strategy (estimator, requote timer); the venue's matching
    # sees each event at its own time (a constant, plus a lognormal of this median when > 0)
    md_latency_ms: float = 0.0
    md_latency_jitter_ms: float = 0.0
    md_latency_sigma: float = 1.0
    queue_model: str = "prob_power"  # risk_averse | prob_power | prob_log
    queue_power: float = 2.0  # n of prob_power
    sz_decimals: int = 5  # the venue's lot rule for the coin (BTC: 5)
    max_leverage: float = 40.0
    account_usd: float = 100_000.0  # the backtest account's starting cash
    sample_interval_ms: int = 1000  # time series for the plot
    synthetic_duration_s: float = 600.0  # a synthetic market is infinite: stop here
    chunk_events: int = 65_536  # events per njit call (progress bar granularity)
    preset: str = "unified"  # quoting preset: unified | legacy | no_as (appliance/quote/presets.py)
    markout_adverse_bps: float = 4.0  # a fill is adverse when its 10 s markout < -this
    bid_pullback_bps: float = 8.0  # bids "pulled back": none resting within this of the mid


@dataclass(frozen=True)
class VenueConfig:
    # The local Hyperliquid-protocol venue (mmctl venue; loopback only by default).
    host: str = "127.0.0.1"
    port: int = 8787
    source: str = ""  # empty = [feed] source; "replay:PATH" or "synthetic[:SCENARIO]"
    speed: float = 1.0  # market pace multiplier
    seed: int = 7
    # "ADDRESS:USDC" accounts; the default is the public DEMO key (appliance/hyperliquid/demo_key.py),
    # test-only: never fund that key on a real chain.
    funded: tuple[str, ...] = ("0x1d181b94d106d9384b0542fa1f1c370a7803ee6c:1000000",)
    agents: tuple[str, ...] = ()  # "AGENT:MASTER" API wallets approved at start
    is_mainnet: bool = False  # phantom-agent source of accepted signatures (SDK: testnet off mainnet URL)
    ws_idle_timeout_s: float = 60.0  # close a ws the server sent nothing to for this long
    ip_weight_per_min: int = 1200
    # Address cap = this base + 1 request per USDC traded (venue/server/ratelimit.py). Hyperliquid's
    # base is 10 000; the default adds a 90 000 allowance standing for the demo account's prior
    # volume (ops/default.toml, BENCHMARKS "Gateway request budget"). The one default: the venue's
    # settings extend this class (venue/server/settings.py).
    address_base_cap: int = 100000
    schedule_cancel_min_volume_usd: float = 1000000.0
    maker_fee_bps: float = 1.5
    taker_fee_bps: float = 4.5
    queue_model: str = "prob_power"  # risk_averse | prob_power | prob_log
    queue_power: float = 2.0
    # order entry: accepted -> live in the book (a constant, plus a lognormal draw of
    # this median when > 0), as the backtester's latency model
    order_latency_ms: float = 0.0
    order_latency_jitter_ms: float = 0.0
    order_latency_sigma: float = 1.0
    # market data: engine -> ws clients (l2Book, trades, bbo, allMids, activeAssetCtx)
    md_latency_ms: float = 0.0
    md_latency_jitter_ms: float = 0.0
    md_latency_sigma: float = 1.0
    l2book_min_interval_ms: float = 500.0  # the real venue pushes a book at most every 0.5 s
    admin_endpoint: bool = True  # POST /_faults and /_fund, loopback clients only


@dataclass(frozen=True)
class Config:
    appliance: ApplianceConfig = field(default_factory=ApplianceConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    quote: QuoteConfig = field(default_factory=QuoteConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    scores: ScoresConfig = field(default_factory=ScoresConfig)
    recorder: RecorderConfig = field(default_factory=RecorderConfig)
    supervisor: SupervisorConfig = field(default_factory=SupervisorConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    wait: WaitConfig = field(default_factory=WaitConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    venue: VenueConfig = field(default_factory=VenueConfig)
