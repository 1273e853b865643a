"""MarketParams from a coin's estimator state: ``write_params`` copies every output
(mostly computed by the warm and cold tiers) into the versioned block, with a
status per estimator (warming / valid / stale / off) and the event time reflected.

Over 300 lines on purpose: one line per MarketParams field, grouped by estimator.
"""

import math

from numba import njit

from shm_layout.constants import EST_OFF, EST_STALE, EST_VALID, EST_WARMING, PARAMS_VERSION

from . import (
    adverse_selection,
    book_micro,
    cascade,
    drift_kalman,
    flow,
    funding,
    hawkes,
    kappa,
    microprice,
    queue_position,
    regime,
    spread,
    toxicity,
    vol,
    volclock,
)


@njit(cache=True, inline="always")
def _status(enabled, ready, last_ns, now_ns, stale_ns):
    if not enabled:
        return EST_OFF
    if not ready:
        return EST_WARMING
    if now_ns - last_ns > stale_ns:
        return EST_STALE
    return EST_VALID


@njit(cache=True)
def write_params(state, cfg, coin, out, now_mono_ns):
    """Fill one MarketParams record from a coin's state."""
    h = state.header
    bid = h.bid_px
    ask = h.ask_px
    t = float(h.last_event_ts_ns)
    stale = float(cfg.tiers.stale_ns)
    out.coin = coin
    out.params_version = PARAMS_VERSION
    out.n_events = h.n_events
    out.event_ts_ns = h.exch_ts_ns
    out.src_pub_mono_ns = h.src_pub_mono_ns
    out.update_mono_ns = now_mono_ns
    mid = 0.5 * (bid + ask) if bid > 0.0 else 0.0
    bsz = h.bid_sz
    asz = h.ask_sz
    out.mid_px = mid
    out.best_bid_px = bid
    out.best_ask_px = ask
    out.spread_bps = (ask - bid) / mid * 1e4 if mid > 0.0 else 0.0
    out.tick_size_px = h.tick_px if math.isfinite(h.tick_px) else 0.0
    if bsz + asz > 0.0 and mid > 0.0:
        out.weighted_mid_px = (bid * asz + ask * bsz) / (bsz + asz)
        out.book_imbalance = (bsz - asz) / (bsz + asz)
    else:
        out.weighted_mid_px = mid
        out.book_imbalance = 0.0
    # --- volatility and regime
    st_v = state.vol
    n_samples = st_v.n_samples
    vol_ready = n_samples >= cfg.tiers.warmup_samples
    out.vol_status = _status(True, vol_ready, float(st_v.last_ts_ns), t, stale)
    out.sigma_clean_bps_per_sqrt_s = vol.sigma_clean(st_v)
    out.sigma_total_bps_per_sqrt_s = vol.sigma_total(st_v)
    eff = st_v.sigma_eff_bps_per_sqrt_s
    out.sigma_effective_bps_per_sqrt_s = eff if eff > 0.0 else vol.sigma_clean(st_v)
    out.sigma_blend_weight = st_v.blend_w
    out.sigma_30s_bps_per_sqrt_s = math.sqrt(st_v.rv_fast_bps2_per_s)
    out.sigma_300s_bps_per_sqrt_s = math.sqrt(st_v.rv_slow_bps2_per_s)
    out.vol_term_ratio = vol.term_ratio(st_v)
    k = vol.excess_kurtosis(st_v)
    out.excess_kurtosis = k
    out.as_ratio_adjustment = 1.0 + cfg.tiers.kurtosis_tail_k * max(k, 0.0)
    bv = st_v.bv_bps2_per_s
    out.jump_ratio = st_v.rv_bps2_per_s / bv if bv > 1e-12 else 1.0
    out.last_jump_bps = st_v.jump_bps
    out.last_jump_age_s = (t - st_v.jump_ts_ns) * 1e-9 if st_v.jump_ts_ns > 0 else -1.0
    out.jump_rate_per_s = st_v.jump_rate_per_s
    out.sv_kappa_per_s = st_v.sv_kappa_per_s
    out.sv_theta_bps2_per_s = st_v.sv_theta_bps2_per_s
    out.sv_xi_bps_per_s = st_v.sv_xi_bps_per_s
    st_r = state.regime
    c_r = cfg.regime
    out.regime_status = _status(c_r[regime.C_ENABLED] != 0.0, st_r.n_samples >= c_r[regime.C_WARMUP],
                                float(st_r.last_ts_ns), t, stale)
    out.volatility_regime = regime.regime(st_r)
    out.gamma_multiplier = regime.gamma_mult(st_r, c_r)
    out.spread_multiplier = regime.spread_mult(st_r, c_r)
    out.regime_vol_ratio = st_r.vol_ratio
    # --- volume clock
    st_vc = state.volclock
    c_vc = cfg.volclock
    out.volclock_status = _status(c_vc[volclock.C_ENABLED] != 0.0, st_vc.bucket_sz > 0.0,
                                  st_vc.last_ts_ns, t, stale)
    out.volume_rate_sz_per_s = volclock.volume_rate(st_vc, c_vc, t) if st_vc.start_ts_ns > 0 else 0.0
    out.volclock_bucket_sz = st_vc.bucket_sz
    out.volclock_bucket_duration_s = st_vc.last_bucket_s
    out.volclock_buckets = int(st_vc.n_buckets)
    # --- kappa
    st_k = state.kappa
    c_k = cfg.kappa
    out.kappa_status = _status(True,
                               st_k.n_trades >= c_k[kappa.C_MIN_TRADES] or st_k.kappa_book_per_bps > 0,
                               max(st_k.last_ts_ns, float(h.last_book_ts_ns)), t, stale)
    out.kappa_per_bps = st_k.kappa_per_bps
    out.kappa_fill_per_bps = st_k.kappa_fill_per_bps
    out.kappa_book_per_bps = st_k.kappa_book_per_bps
    out.kappa_lo_per_bps = st_k.kappa_lo_per_bps
    out.kappa_hi_per_bps = st_k.kappa_hi_per_bps
    out.kappa_bid_per_bps = st_k.kappa_bid_per_bps
    out.kappa_ask_per_bps = st_k.kappa_ask_per_bps
    out.kappa_mult_bid = st_k.mult_bid
    out.kappa_mult_ask = st_k.mult_ask
    out.kappa_ks_stat = st_k.ks_stat
    out.kappa_ks_reject = int(st_k.ks_reject)
    out.kappa_model = int(st_k.model)
    out.kappa_powerlaw_alpha = st_k.lomax_alpha
    out.kappa_powerlaw_scale_bps = st_k.lomax_scale_bps
    # --- microprice
    st_m = state.microprice
    c_m = cfg.microprice
    used = st_m.used_group >= 0
    out.microprice_status = _status(c_m[microprice.C_ENABLED] != 0.0,
                                    used, float(st_m.last_ts_ns), t, stale)
    out.microprice_fallback = 0 if used else 1
    out.microprice_px = microprice.price(st_m, mid)
    out.microprice_adj_bps = st_m.adj_bps
    out.microprice_beta_book_bps = st_m.b1_book_bps
    out.microprice_beta_flow_bps = st_m.b2_flow_bps
    out.microprice_r2 = st_m.r2
    # --- flow
    st_fl = state.flow
    c_fl = cfg.flow
    out.flow_status = _status(True, st_fl.n_trades > 0, float(h.last_trade_ts_ns), t, stale)
    out.trade_flow_imbalance = flow.imbalance(st_fl, 4)
    out.trade_rate_per_s = flow.trade_rate(st_fl, c_fl, t, 4)
    out.flow_imbalance_1s = flow.imbalance(st_fl, 0)
    out.flow_imbalance_5s = flow.imbalance(st_fl, 1)
    out.flow_imbalance_30s = flow.imbalance(st_fl, 2)
    out.flow_imbalance_300s = flow.imbalance(st_fl, 3)
    b0, s0 = flow.buy_rate(st_fl, c_fl, t, 0), flow.sell_rate(st_fl, c_fl, t, 0)
    b1, s1 = flow.buy_rate(st_fl, c_fl, t, 1), flow.sell_rate(st_fl, c_fl, t, 1)
    b2, s2 = flow.buy_rate(st_fl, c_fl, t, 2), flow.sell_rate(st_fl, c_fl, t, 2)
    b3, s3 = flow.buy_rate(st_fl, c_fl, t, 3), flow.sell_rate(st_fl, c_fl, t, 3)
    out.flow_net_1s_sz_per_s, out.flow_volume_1s_sz_per_s = b0 - s0, b0 + s0
    out.flow_net_5s_sz_per_s, out.flow_volume_5s_sz_per_s = b1 - s1, b1 + s1
    out.flow_net_30s_sz_per_s, out.flow_volume_30s_sz_per_s = b2 - s2, b2 + s2
    out.flow_net_300s_sz_per_s, out.flow_volume_300s_sz_per_s = b3 - s3, b3 + s3
    # --- Hawkes
    st_h = state.hawkes
    c_h = cfg.hawkes
    out.hawkes_status = _status(c_h[hawkes.C_ENABLED] != 0.0, hawkes.warmed_up(st_h, c_h),
                                float(h.last_trade_ts_ns), t, stale)
    lb, ls, imb, eb, es = hawkes.outputs(st_h, t)
    out.hawkes_buy_intensity_per_s = lb
    out.hawkes_sell_intensity_per_s = ls
    out.hawkes_imbalance = imb
    out.hawkes_buy_excess_per_s = eb
    out.hawkes_sell_excess_per_s = es
    out.hawkes_mu_buy_per_s = st_h.buy.mu_per_s
    out.hawkes_mu_sell_per_s = st_h.sell.mu_per_s
    out.hawkes_alpha_buy_per_s = st_h.buy.alpha_per_s
    out.hawkes_alpha_sell_per_s = st_h.sell.alpha_per_s
    out.hawkes_beta_buy_per_s = st_h.buy.beta_per_s
    out.hawkes_beta_sell_per_s = st_h.sell.beta_per_s
    # --- funding (hourly funding: stale after an hour without a context)
    st_f = state.funding
    c_f = cfg.funding
    out.funding_status = _status(c_f[funding.C_ENABLED] != 0.0, funding.warmed_up(st_f, c_f),
                                 float(h.last_ctx_ts_ns), t, max(stale, 3600e9))
    out.funding_rate_per_h = st_f.rate_per_h
    out.funding_predicted_per_h = funding.predicted(st_f, c_f)
    out.funding_std_per_h = funding.std(st_f, c_f)
    out.funding_zscore = funding.zscore(st_f, c_f)
    out.funding_cost_bps = funding.cost_bps(st_f, c_f)
    out.funding_premium_bps = funding.premium(st_f) * 1e4
    out.mark_px = st_f.mark_px
    out.oracle_px = st_f.oracle_px
    out.open_interest_sz = st_f.open_interest_sz
    out.funding_n_obs = int(st_f.n_obs)
    # --- spread process and cascade
    st_s = state.spread
    c_s = cfg.spread
    out.spread_status = _status(c_s[spread.C_ENABLED] != 0.0, st_s.n_samples >= 10.0,
                                st_s.last_ts_ns, t, stale)
    out.fair_spread_bps = st_s.fair_bps
    out.spread_percentile = st_s.percentile
    out.spread_regime = int(st_s.regime)
    st_c = state.cascade
    c_c = cfg.cascade
    out.cascade_status = _status(c_c[cascade.C_ENABLED] != 0.0, vol_ready, float(h.last_book_ts_ns), t, stale)
    out.cascade_severity = st_c.severity
    out.should_pull_quotes = st_c.pull
    out.tail_risk_multiplier = cascade.tail_multiplier(st_c, c_c)
    _write_cross_coin(state, cfg, out, t, stale)
    _write_fills_book_drift(state, cfg, out, t, stale)
    out.valid = 1 if (mid > 0.0 and vol_ready) else 0


@njit(cache=True)
def _write_cross_coin(state, cfg, out, t, stale):
    """Correlation, hedge ratio, basis and lead-lag (``kernel_cross`` computed them)."""
    x = state.header.cross
    on = cfg.correlation[0] != 0.0
    x_t = float(x.ts_ns)
    out.corr_status = _status(on and cfg.tiers.n_coins > 1, x.valid != 0, x_t, t, stale)
    out.corr_ref_coin = x.ref_coin
    out.corr_fast = x.corr[0]
    out.corr_medium = x.corr[1]
    out.corr_slow = x.corr[2]
    out.hedge_ratio = x.beta[1]
    out.basis_status = _status(on and cfg.tiers.ref_coin[out.coin] >= 0, x.xv_valid != 0, x_t, t, stale)
    out.basis_bps = x.basis_bps
    out.basis_zscore = x.basis_z
    out.lead_lag_s = x.lag_s
    out.lead_lag_corr = x.lag_corr
    out.lead_bps_per_s = x.lead_bps_per_s


@njit(cache=True)
def _write_fills_book_drift(state, cfg, out, t, stale):
    """Adverse selection, toxicity, queue, book microstructure and the Kalman drift."""
    hd = state.header
    st_a = state.adverse_selection
    c_a = cfg.adverse_selection
    n_marked = adverse_selection.n_marked(st_a)
    out.as_status = _status(c_a[0] != 0.0, n_marked > 0, t, t, stale)
    out.adverse_selection_bps = adverse_selection.as_bps(st_a, 1)
    out.n_fills_marked = int(n_marked)
    for h in range(6):
        out.as_bps_by_horizon[h] = adverse_selection.as_bps(st_a, h)
        out.markout_bps_by_horizon[h] = adverse_selection.markout_bps(st_a, h)
    out.as_spread_adjustment_bps = adverse_selection.spread_adjustment_bps(st_a, c_a)
    out.predicted_alpha = adverse_selection.predicted_alpha(st_a)
    out.as0_bps = adverse_selection.as0_bps(st_a)
    out.as_delta_char_bps = adverse_selection.delta_char_bps(st_a)
    st_t = state.toxicity
    c_t = cfg.toxicity
    out.toxicity_status = _status(c_t[0] != 0.0, toxicity.n_learned(st_t) > 0, t, t, stale)
    out.toxicity_bid = hd.toxicity_bid
    out.toxicity_ask = hd.toxicity_ask
    out.toxicity_gate_bid = int(toxicity.gate(st_t, c_t, hd.toxicity_bid))
    out.toxicity_gate_ask = int(toxicity.gate(st_t, c_t, hd.toxicity_ask))
    st_q = state.queue
    c_q = cfg.queue
    out.queue_status = _status(c_q[0] != 0.0, hd.last_trade_ts_ns > 0, float(hd.last_book_ts_ns), t, stale)
    out.queue_exec_scale = queue_position.exec_scale(st_q)
    out.queue_cancel_rate_per_s = queue_position.cancel_rate_per_s(st_q)
    out.queue_volume_bid_sz_per_s = queue_position.volume_rate_sz_per_s(st_q, 1)
    out.queue_volume_ask_sz_per_s = queue_position.volume_rate_sz_per_s(st_q, -1)
    st_b = state.book
    c_b = cfg.book
    out.book_status = _status(c_b[0] != 0.0, hd.last_book_ts_ns > 0, float(hd.last_book_ts_ns), t, stale)
    out.bim_10bps = book_micro.bim(st_b, 0)
    out.bim_25bps = book_micro.bim(st_b, 1)
    out.bim_50bps = book_micro.bim(st_b, 2)
    out.bim_delta_per_s = book_micro.dbim_per_s(st_b, 0)
    out.book_pressure_gradient = book_micro.pressure_gradient(st_b)
    out.book_thinning_per_s = book_micro.thinning_per_s(st_b)
    out.sweep_score_buy = book_micro.sweep_score(st_b, c_b, t, 1)
    out.sweep_score_sell = book_micro.sweep_score(st_b, c_b, t, -1)
    st_d = state.drift
    c_d = cfg.drift
    out.drift_status = _status(c_d[0] != 0.0, hd.last_book_ts_ns > 0, float(hd.last_book_ts_ns), t, stale)
    out.drift_bps_per_s = drift_kalman.drift_bps_per_s(st_d)
    out.drift_uncertainty_bps_per_s = drift_kalman.drift_std_bps_per_s(st_d)
    out.drift_confidence = drift_kalman.confidence(st_d, c_d)
    out.drift_out_of_band = int(drift_kalman.out_of_band(st_d, c_d))
