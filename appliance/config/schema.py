"""The configuration: one TOML file, one frozen section per process or concern.

Every default lives here; a TOML file only overrides. Field names carry units.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ApplianceConfig:
    coins: tuple[str, ...] = ("BTC",)
    cores: str = ""  # e.g. "2-6"; empty = every CPU this process may use
    state_dir: str = "/tmp/mm-{instance}"  # logs, pid files, kill switch
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


@dataclass(frozen=True)
class EstimatorConfig:
    vol_sample_ms: int = 1000  # return sampling interval of the volatility estimators
    vol_halflife_s: float = 60.0
    flow_halflife_s: float = 10.0
    kappa_halflife_s: float = 60.0
    kappa_prior_per_bps: float = 0.2  # used until enough trades were seen
    warmup_samples: int = 5  # return samples before sigma is trusted


@dataclass(frozen=True)
class QuoteConfig:
    gamma: float = 0.3  # risk aversion (seed 004 default)
    n_levels: int = 5
    level_spacing_bps: float = 2.0
    order_size_sz: float = 0.001
    maker_fee_bps: float = 1.5
    min_spread_bps: float = 8.0  # floor of the full bid-ask spread we quote
    max_half_spread_bps: float = 200.0
    horizon_s: float = 60.0  # T in the inventory skew gamma * sigma^2 * q * T
    params_stale_ms: int = 5000  # older MarketParams pull the quotes


@dataclass(frozen=True)
class GatewayConfig:
    venue: str = "paper"  # paper executor; the Hyperliquid client plugs in here
    requote_tolerance_bps: float = 1.0  # keep a resting order closer than this (queue place)
    taker_fee_bps: float = 4.5
    maker_fee_bps: float = 1.5


@dataclass(frozen=True)
class RiskConfig:
    max_position_sz: float = 0.05
    max_loss_usd: float = 500.0
    stale_data_s: float = 10.0
    kill_switch_file: str = "{state_dir}/KILL"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9090  # 0 disables the exporter
    check_interval_ms: int = 20


@dataclass(frozen=True)
class SupervisorConfig:
    heartbeat_timeout_ms: int = 2000  # a child silent this long is restarted
    startup_timeout_s: float = 120.0  # first start compiles the kernels
    restart_backoff_initial_ms: int = 50
    restart_backoff_max_ms: int = 5000
    max_restarts: int = 10  # within restart_window_s, then the kill flag
    restart_window_s: float = 60.0
    poll_interval_ms: int = 20


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
    spin_us: int = 50  # hybrid: spin this long before backing off
    sleep_max_us: int = 1000  # hybrid: longest sleep between polls
    block_timeout_ms: int = 100  # block: longest wait for a doorbell
    feed: str = ""  # per-process overrides
    estimator: str = ""
    quote: str = ""
    gateway: str = ""
    risk: str = ""


@dataclass(frozen=True)
class Config:
    appliance: ApplianceConfig = field(default_factory=ApplianceConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    quote: QuoteConfig = field(default_factory=QuoteConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    supervisor: SupervisorConfig = field(default_factory=SupervisorConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)
    wait: WaitConfig = field(default_factory=WaitConfig)
