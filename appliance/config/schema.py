"""The configuration: one TOML file, one frozen section per process or concern.

Every default lives here, except the ``[estimator]`` table: it is derived from the
estimator registry (``shm_layout/estimators``), one sub-table per estimator. A TOML
file only overrides. Field names carry units.
"""

from dataclasses import dataclass, field

from shm_layout.estimators import EstimatorConfig

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
class QuoteConfig:
    # The quote kernel (appliance/quote/, issue 6). Presets: appliance/quote/presets.py.
    gamma: float = 0.3  # gamma_base, risk aversion per bps (seed 004 default)
    n_levels: int = 5
    level_spacing_bps: float = 2.0  # first gap between levels
    spacing_mode: str = "geometric"  # geometric (gaps grow by spacing_ratio) | linear
    spacing_ratio: float = 1.5
    # Sizes in notional, converted to coin at the current mid (config/sizing.py; issue 16).
    # $100 a level: 10x Hyperliquid's $10 minimum order value, so the E[PnL] split can
    # shift size between levels without dropping any under the minimum, and an ETH level
    # is as meaningful as a BTC one (0.001 coin was $2.7 of ETH, under the minimum).
    level_size_usd: float = 100.0  # nominal level size; a side's budget is n_levels of them
    order_size_sz: float = 0.0  # > 0: the level size in coin instead of level_size_usd
    total_size_sz: float = 0.0  # > 0: a side's budget in coin instead of n_levels levels
    # per coin: "COIN:KEY=VALUE", KEY one of level_size_usd, order_size_sz, total_size_sz,
    # max_position_usd, max_position_sz (e.g. "ETH:level_size_usd=50")
    per_coin: tuple[str, ...] = ()
    min_notional_usd: float = 10.0  # smaller levels are dropped (venue minimum)
    sz_decimals: int = 5  # lot of the coin (Hyperliquid szDecimals; BTC 5)
    maker_fee_bps: float = 1.5
    min_spread_bps: float = 8.0  # floor of bid depth + ask depth
    max_half_spread_bps: float = 200.0
    market_spread_cap_mult: float = 0.0  # touch depth <= this x market spread; 0 = off
    horizon_s: float = 5.0  # T of the inventory skew gamma sigma^2 q T and the drift shift mu T / 2
    epnl_horizon_s: float = 8.0  # tau of the E[PnL] drift term
    inventory_horizon_s: float = 8.0  # holding time of the E[PnL] inventory penalty and bonus
    params_stale_ms: int = 5000  # older MarketParams pull the quotes
    # seed 003 feature gates (their defaults; the legacy preset flips them)
    inventory_beta: float = 7.0  # gamma(q) = gamma (1 + beta (q/q_max)^2); old: 3
    use_kalman_drift: bool = True  # MarketParams.drift_bps_per_s shifts quotes and E[PnL]
    drift_clamp_bps: float = 0.0  # 0 = never clamped; legacy: 3
    # issue 16, opt-in: the drift moves quotes by its expected move, not its instant value:
    # times its scored skill (MarketParams drift_skill, estimator/drift_skill.py), carried
    # over the OU horizon (1 - e^{-theta T}) / theta; and/or capped at drift_cap_sigmas
    # sigma sqrt(T) / 2 (the E[PnL] drift term the same over its tau). Off by default: on,
    # unified stops trading on the captures and the scenarios alike, a proof check needs
    # its fills, and seed 003 wants the drift unclamped in trends (BENCHMARKS.md, issue 16)
    drift_skill_weight: bool = False
    drift_cap_sigmas: float = 0.0  # 0 = no cap
    use_directional_kappa: bool = True  # kappa_bid/ask (flow sensitivity: estimator.kappa)
    use_epnl_filter: bool = True  # drop levels with E[PnL] <= 0, size by E[PnL]
    # issue 16: a level also needs its own edge vs the fair price (depth - AS - fee) > 0;
    # drift and inventory move the reservation price, they do not license a no-edge touch:
    # a level pulled inside its break-even depth moves out to it. Off by default: on,
    # unified hardly trades at a 1.5 bps fee and a proof check needs its fills
    # (BENCHMARKS.md, issue 16)
    edge_vs_fair: bool = False
    use_adverse_selection: bool = True  # AS(d), toxicity; off = GLFT without AS (no_as)
    use_regime_spread: bool = True  # x MarketParams.spread_multiplier
    toxicity_neutral: float = 0.3  # P(toxic) with no excess (the estimator's prior)
    toxicity_as_weight: float = 2.0  # AS x (1 + w excess toxicity of the side)
    toxicity_gamma_weight: float = 1.0  # gamma x (1 + w excess toxicity)
    funding_scale: float = 1.0  # funding carry in E[PnL] and the funding skew; 0 = off
    tod_gamma_mult: tuple[float, ...] = (1.0,) * 24  # gamma multiplier per UTC hour
    # margin-aware sizing
    margin_buffer_frac: float = 0.2  # keep this share of free margin unused
    max_leverage: float = 10.0  # when the account's leverage is not known
    min_liq_distance_bps: float = 300.0  # closer to liquidation: accumulating side cleared
    # the old system, for the legacy yardstick (the gate is always computed and logged)
    legacy_zones: bool = False  # Green/Yellow/Red/Kill at 60/80/100 %
    legacy_gate: bool = False  # the binary gate acts
    legacy_gate_util: float = 0.5
    toxicity_size_cut: bool = False  # 3-17 % size cut


@dataclass(frozen=True)
class GatewayConfig:
    # "hyperliquid": the Hyperliquid client (feed ws + signed orders) against ``network``;
    # "paper": orders simulated in-process against the md ring (no venue).
    venue: str = "hyperliquid"
    requote_tolerance_bps: float = 1.0  # keep a resting order closer than this (queue place)
    # Requote hysteresis (issue 16; gateway/reconcile_kernel.py): a resting order further
    # from its target than requote_tolerance_bps is still kept within keep_tolerance_bps
    # while its edge at its own price (the level's per-fill edge, plus how much deeper it
    # rests) is positive: its queue place is worth more than a fresh order a little
    # better placed, and each modify spends one request of the address budget (1 per
    # USDC traded). 3 bps: the mid moves ~1-2 bps in a second on BTC, so at 1 bps every
    # level is requoted about every second; 3 bps lets it rest several seconds on a
    # random walk, and stays inside urgent_tolerance_bps (5).
    keep_tolerance_bps: float = 3.0
    taker_fee_bps: float = 4.5
    maker_fee_bps: float = 1.5
    # --- the Hyperliquid client (gateway/hyperliquid/, hyperliquid/, feed/hl_live.py) ---
    network: str = "local"  # local (a supervised local venue) | testnet | mainnet
    api_url: str = ""  # override the network's REST URL (http[s]://host[:port]); ws derived
    key_file: str = ""  # owner-only file; empty: local -> demo key in the state dir, else key_env
    key_env: str = "MM_HL_PRIVATE_KEY"
    account_address: str = ""  # master/sub-account an API wallet trades for; empty = the key's
    vault_address: str = ""
    local_venue_port: int = 0  # network local: 0 = a free loopback port
    unknown_orders: str = "cancel"  # orders at the venue we did not place: cancel | adopt
    batch_window_ms: float = 100.0  # plans collected this long before being sent
    sz_tolerance_frac: float = 0.10  # keep a resting order within this share of its size
    use_modify: bool = True  # batchModify (else cancel + place)
    dead_man_switch_s: float = 10.0  # scheduleCancel this far ahead while healthy; 0 = off
    dead_man_refresh_s: float = 3.0
    position_check_s: float = 5.0  # compare the position with clearinghouseState this often
    # Account margin (gateway/hyperliquid/account.py): every clearinghouseState read (start, resync,
    # position checks) refreshes it; a dedicated read when older than account_refresh_s,
    # and one account_after_fill_s after fills (0 = off). The quote kernel treats account
    # data older than account_max_age_s as not known (only the position limit applies).
    account_refresh_s: float = 15.0
    account_after_fill_s: float = 2.0
    account_max_age_s: float = 60.0
    # Every request to the venue is bounded: lookup and connect within http_timeout_s, the
    # answer within http_timeout_s after the request left (both also bound the ws post
    # wait). The heartbeat is stamped while it waits, so the rule for
    # supervisor.heartbeat_timeout_ms (see there) is written in terms of it.
    http_timeout_s: float = 1.5
    # Venue health (gateway/venue_health.py), from an EWMA of the venue's response time
    # (control.gw_venue_latency_ms; an unanswered request counts as http_timeout_s):
    # at venue_slow_ms and above, fewer, batched requests (plans collected at least
    # slow_batch_window_ms, resting orders kept within slow_tolerance_mult x
    # requote_tolerance_bps, never beyond urgent_tolerance_bps); at venue_pull_ms, or
    # venue_pull_failures requests in a row unanswered, the ladder is pulled (all
    # cancelled, nothing placed) until the venue answers in time again.
    venue_slow_ms: float = 300.0
    venue_pull_ms: float = 1000.0
    venue_pull_failures: int = 3
    slow_batch_window_ms: float = 1000.0
    slow_tolerance_mult: float = 3.0
    journal_fsync: str = "interval"  # always | interval | never
    rate_headroom_frac: float = 0.10  # below: quote the reducing side only (seed 002 part 5)
    rate_position_frac: float = 0.01  # ... when |position| >= this share of the position limit
    backoff_429_initial_ms: float = 500.0
    backoff_429_max_ms: float = 10000.0
    # Requote pacing (gateway/requote_pacing.py): optional modifies/places per minute at most,
    # and never faster than the remaining address budget spread over requote_horizon_h.
    requote_budget_per_min: float = 60.0
    requote_horizon_h: float = 8.0
    requote_burst: float = 20.0
    urgent_tolerance_bps: float = 5.0  # an order more aggressive than its target by more: at once
    transport: str = "http"  # actions over HTTP keep-alive | "ws_post" (websocket post; info stays HTTP)
    journal_compact_at_start: bool = True  # rewrite the journal to its live state on start


@dataclass(frozen=True)
class RiskActionsConfig:
    # [risk.actions]: what each check does when it fires: log | widen | reduce_only | pull | kill.
    # widen, reduce_only and pull last while the check fires (and risk.action_hold_s after);
    # kill is latched until `mmctl kill --reset --reason`; log only journals and logs it.
    kill_switch_file: str = "kill"
    position: str = "kill"
    loss: str = "kill"  # session loss
    daily_loss: str = "kill"  # UTC-day loss
    drawdown: str = "kill"
    margin: str = "reduce_only"
    liquidation: str = "reduce_only"
    cascade: str = "pull"
    stale_data: str = "kill"
    clock: str = "kill"
    heartbeat: str = "kill"
    rate_limit: str = "reduce_only"
    fill_outside: str = "kill"
    # a model scored worse than having none for scores.degraded_after_s (risk/scoring/).
    # "log" (journaled and logged, nothing acted): on the local venue the fill-probability,
    # toxicity and AS models all score worse than none within minutes (BENCHMARKS), so a
    # default that widens would widen for good; set widen once the models are calibrated.
    model_degraded: str = "log"


@dataclass(frozen=True)
class PreTradeConfig:
    # [risk.pretrade]: the gateway's gate before every order leaves (gateway/pretrade.py)
    max_order_notional_usd: float = 2_000.0
    max_open_notional_usd: float = 20_000.0  # every resting order of the account
    price_band_bps: float = 300.0  # no order priced further than this from the mid
    max_open_orders: int = 40
    reduce_only_at_frac: float = 0.9  # |position| >= this share of the position limit: reduce only


@dataclass(frozen=True)
class RiskConfig:
    # The position limit in notional at the current mid (config/sizing.py): 4 full sides
    # ($2,000 = 20 levels of $100): a one-sided sweep of the whole ladder uses a quarter
    # of it. The kernel's inventory terms are scaled by it (q = position / limit).
    max_position_usd: float = 2_000.0
    max_position_sz: float = 0.0  # > 0: the limit in coin instead of max_position_usd
    # A USD limit is a smaller coin amount after a rise: a position held near it can pass it
    # without a trade. The watchdog's position check (risk.actions.position, default kill)
    # fires only this share beyond a USD limit; quoting and the pre-trade gate stop at it.
    position_usd_slack_frac: float = 0.10
    max_loss_usd: float = 500.0  # session (since mmctl start)
    max_daily_loss_usd: float = 500.0  # since 00:00 UTC
    max_drawdown_usd: float = 300.0  # from the session's peak PnL
    max_margin_util_frac: float = 0.8  # margin used / account value
    min_liq_distance_bps: float = 500.0  # mark to liquidation price
    max_cascade_severity: float = 0.8  # MarketParams.cascade_severity
    max_clock_failed_checks: int = 3  # clock checks failed (or errored) in a row
    min_rate_headroom_frac: float = 0.05  # address request budget left
    max_fill_deviation_bps: float = 100.0  # a fill this far from the mid at the time
    # P&L attribution (live and backtest): adverse selection = the mid's move over this
    # horizon after each fill (backtest: exact when one of 1, 2, 5, 10, 30 s)
    attribution_horizon_s: float = 10.0
    widen_mult: float = 2.0  # half-spread multiplier of the "widen" action
    action_hold_s: float = 5.0  # a graded action outlives its trigger this long
    stale_data_s: float = 10.0
    # Before the first event of a run: connecting to a venue and compiling take a
    # while, and nothing is quoted without data anyway.
    first_data_timeout_s: float = 60.0
    kill_switch_file: str = "{state_dir}/KILL"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9817  # one per instance; 0 disables the exporter (risk/metrics/__init__.py)
    check_interval_ms: int = 20
    # Checks switched off on purpose (names as in [risk.actions]); `mmctl start` prints them.
    disabled_checks: tuple[str, ...] = ()
    # The last-resort canceller (risk/canceller.py): when the gateway is lost (dead, or its
    # heartbeat older than gateway_lost_ms) or the supervisor is gone, the watchdog cancels
    # every order of ours with its own connection and verifies with openOrders.
    last_resort_cancel: bool = True
    gateway_lost_ms: int = 3000
    actions: RiskActionsConfig = field(default_factory=RiskActionsConfig)
    pretrade: PreTradeConfig = field(default_factory=PreTradeConfig)


@dataclass(frozen=True)
class ScoresConfig:
    # Model scores (appliance/measure/scores.py): live (appliance/risk/scoring/: each
    # model's forecasts paired with what followed over a window of pairs), the backtest
    # report's `scores` block and mmctl calibrate (the floors and bins).
    enabled: bool = True
    window_s: float = 1800.0  # pairs resolved this long ago at most ...
    max_pairs: int = 5000  # ... and this many per model and coin at most
    interval_s: float = 5.0  # every model rescored this often
    log_interval_s: float = 300.0  # one score line per coin in the log this often
    # fill probability: filled within this horizon or not (orders cancelled before it are
    # censored); 0 = quote.epnl_horizon_s, the horizon E[PnL] weighs the fill over
    fill_horizon_s: float = 0.0
    # model_degraded ([risk.actions]): a model worse than having none (probabilities:
    # skill < 0 against climatology; forecasts: rank correlation < 0, or for directional
    # forecasts an IR below its floor) without a break for degraded_after_s, with at
    # least degraded_min_samples pairs
    degraded_after_s: float = 600.0
    degraded_min_samples: int = 100
    ir_floor_drift: float = 0.0  # per-sample IR of trading the forecast's sign
    ir_floor_microprice: float = 0.0
    ir_floor_lead_lag: float = 0.0
    reliability_bins: int = 10  # equal-width forecast bins of the Brier decomposition


@dataclass(frozen=True)
class RecorderConfig:
    # The recorder (appliance/risk/recorder.py, a thread of the risk watchdog): the md,
    # fills and orders rings to a Parquet catalog (appliance/catalog/) that
    # `mmctl data ls|info|export`, `mmctl history` and `--source replay:DIR` read.
    enabled: bool = True  # on by default: fill history survives restarts (disk bounded below)
    dir: str = "{state_dir}/catalog"  # "{state_dir}" and "{instance}" are expanded
    poll_interval_ms: int = 200  # the rings are drained this often (md ring: 8192 slots)
    flush_interval_s: float = 60.0  # one file per kind and coin this often
    retention_days: int = 30  # days older than this are deleted
    max_gb: float = 20.0  # then the oldest files while the catalog is larger
    min_free_gb: float = 1.0  # nothing written while the disk has less free (said, not fatal)


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
    spin_us: int = 50  # hybrid: spin this long before backing off
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
