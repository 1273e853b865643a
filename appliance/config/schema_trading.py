"""The configuration sections of the trading path: ``[quote]`` (the quote kernel) and
``[gateway]`` (orders at the venue). Part of the one schema (``schema.py``)."""

from dataclasses import dataclass


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
    # what a USDC of maker volume is worth while the address budget has too little in hand
    # (each one traded buys back one request, requirement 002 part 5): the kernel prices the
    # fee less volume_credit_bps x min(1, (requests sent - USDC traded
    # + volume_credit_surplus_requests) / volume_credit_ramp_requests), the fills still pay
    # the whole fee; never more than the fee (no rebate is priced); as far up the ramp, a
    # side's sizes move toward an even split. The ramp starts with the volume that many
    # requests ahead: it aims at a surplus, so a run ends with its budget grown, not at the
    # break-even it hovered around (issue 16). 0 = off
    volume_credit_bps: float = 1.5
    volume_credit_ramp_requests: float = 100.0
    volume_credit_surplus_requests: float = 100.0
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
    # issue 16: a level whose E[PnL] is not positive where GLFT put it moves out to the
    # depth where it is (the bracket's own break-even: fee, AS, carry, drift, inventory),
    # within the max half-spread, instead of leaving the ladder: a side stays quoted,
    # deeper, while momentum or toxicity raise its AS for a moment (on the captures both
    # sides quoted >= 80 % went 1/6 -> 6/6, the scenario goals all held: BENCHMARKS.md).
    # Off by default since the AS momentum term is averaged over an order's rest
    # (as_momentum_rest_s): both sides stay quoted 98-99 % on the captures without it, it
    # sent 10 % more requests there, and on toxic_burst_v3 the levels it held at their
    # break-even cost benign fills after each sweep (BENCHMARKS.md, issue 16)
    epnl_move_out: bool = False
    # issue 16: with epnl_move_out and an AS curve that does not fall by half across the
    # ladder (the calibrated ones), the whole ladder moves out by what level 0 needs,
    # keeping its spacing (ladder_side.ladder_shift_bps), instead of levels stacking a tick
    # apart at the break-even, sized near the minimum and resized with every tick of the
    # AS estimate. Off by default: see ops/default.toml and BENCHMARKS.md
    move_out_ladder: bool = False
    # the AS momentum term averaged over this many seconds of an order's rest (it decays
    # with estimator.adverse_selection.momentum_tau_ms): a quote is priced for the time it
    # rests, not for the instant the momentum peaks; 0 = the instant value. 8 = the E[PnL]
    # horizon (on the captures: risk-price modifies 33-88 -> 5-21, BENCHMARKS.md)
    as_momentum_rest_s: float = 8.0
    # a side's budget split by per-fill edge E/P (alloc.py: deeper levels get more), or
    # evenly (false: sizes move only with the budget, not with every tick of the edges)
    size_by_edge: bool = True
    use_adverse_selection: bool = True  # AS(d), toxicity; off = GLFT without AS (no_as)
    use_regime_spread: bool = True  # x MarketParams.spread_multiplier
    toxicity_neutral: float = 0.3  # P(toxic) with no excess (the estimator's prior)
    toxicity_as_weight: float = 2.0  # AS x (1 + w excess toxicity of the side)
    toxicity_gamma_weight: float = 1.0  # gamma x (1 + w excess toxicity)
    # issue 16: a side whose P(toxic) (estimator.toxicity, per side) is above
    # toxicity_pull_p, or above the other side's by toxicity_pull_gap, is pulled; 0 = off.
    # Off by default: on toxic_burst_v2's tuning seeds (101-104) it did not cut the adverse
    # fills against no_as without cutting the benign ones (BENCHMARKS.md, issue 16)
    toxicity_pull_p: float = 0.0
    toxicity_pull_gap: float = 0.0
    # issue 16: liquidity withdrawal as toxicity. While the market spread is above this x
    # its fair (typical) spread (estimator.spread; the book has thinned and widened, as it
    # does on real venues before an informed move), both sides are pulled: a move is
    # coming, its side not yet known. 0 = off; unified only (an AS term: no_as and legacy
    # set it to 0). 3 and 20 below chosen on toxic_burst_v3's seeds 101-110 (BENCHMARKS.md)
    toxicity_pull_spread_ratio: float = 3.0
    # ... until the move shows its side: once one side's aggressors sweep at least this
    # many price levels (estimator.book_micro's sweep score, twice the other side's), the
    # side they move away from is quoted again (its fills gain); 0 = both stay pulled
    toxicity_pull_sweep_levels: float = 20.0
    # ... and only once the spread is at least this wide: on a book whose tick is tiny
    # against our quotes (Binance BTC: 0.016 bps) a 4-tick spread is flicker, not a
    # withdrawal (the synthetic book's 1-tick spread is 0.1 bps, its lead's 0.4)
    toxicity_pull_spread_min_bps: float = 0.3
    # issue 16: the accumulating side is sized to the headroom left to this share of the
    # position limit (zero at it), so inventory stays well inside the limit on both sides;
    # 1 = up to the limit itself (legacy). 0.5 set before any run: the goal is |q| <= 60 %
    inventory_soft_limit_frac: float = 0.5
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
    # Size hysteresis (issue 16): a resting order whose price is kept is kept too when it
    # is smaller than its target by up to this share (beyond sz_tolerance_frac; a larger
    # one is still resized). The ladder sizes its levels by E[PnL], so sizes wander while
    # prices hold: on usdm_btc (calibrated drift, budget, edge rule) 91 of 142 requests
    # were such resizes. Off by default: at the built-in settings 0.5 (set before any run)
    # cut resizes by half but raised the total requests 6-12 % on the scenarios
    # (BENCHMARKS.md, "requests within the budget").
    keep_sz_frac: float = 0.0
    # Keep band (issue 16): a resting order with edge at its own price is kept deeper
    # than its target up to keep_depth_bps (0: keep_tolerance_bps) and, with
    # keep_to_edge_zero, nearer than it as far as its edge stays positive (the edge's
    # zero: target per-fill edge + how much deeper it rests).
    keep_depth_bps: float = 0.0
    keep_to_edge_zero: bool = False
    # Requests worth their cost (issue 16): a request costs the maker fee on the USDC that
    # earns it back, x this, as far as the volume budget's allowance is spent (nothing
    # while volume keeps it full). An order serving a ladder level expected to earn less
    # (its E[PnL] on its notional) is not moved while it has edge at its own price, rests
    # deeper than the level or within keep_tolerance_bps nearer, and is not larger by more
    # than the urgent size share (a deep level that hardly fills). 0 = off; off too
    # without the volume budget (requote_requests_per_usd 0) or at a rebate.
    # gateway/reconcile_kernel.py, pacing_kernel.request_cost_now
    request_cost_mult: float = 1.0
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
    # Optional modifies/places also spend a volume-earned budget (the address budget's
    # own rule, per run): requote_request_allowance + this many per USDC traded, less
    # every request sent; 0 = no volume budget. Urgent actions are never rationed. On by
    # default (issue 16): it halves the requests on the captures, the scenario goals held
    # (BENCHMARKS.md); the legacy and no_as yardsticks run without it, as they were measured
    requote_requests_per_usd: float = 1.0
    requote_request_allowance: float = 100.0
    requote_exhausted_interval_s: float = 10.0  # spent: one optional per this many s (the venue's rule)
    urgent_tolerance_bps: float = 5.0  # an order more aggressive than its target by more: at once
    transport: str = "http"  # actions over HTTP keep-alive | "ws_post" (websocket post; info stays HTTP)
    journal_compact_at_start: bool = True  # rewrite the journal to its live state on start
