"""The configuration sections of the risk watchdog: ``[risk]`` (its checks and their
actions, the pre-trade limits), ``[scores]`` (the live model scores) and ``[recorder]``
(its catalog thread). Part of the one schema (``schema.py``)."""

from dataclasses import dataclass, field


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
