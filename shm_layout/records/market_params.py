"""MarketParams: the estimator's outputs for the quote kernel, one seqlock block per
coin. Estimator state is declared apart, in ``shm_layout/estimators/``."""

from .headers import padded

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
MARKET_PARAMS = padded(
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
