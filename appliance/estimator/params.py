"""MarketParams from a coin's estimator state: ``write_params`` copies every output
(mostly computed by the warm and cold tiers) into the versioned block, with a
status per estimator (warming / valid / stale / off) and the event time reflected.
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
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)
from .layout import (
    H_ASK,
    H_ASK_SZ,
    H_BID,
    H_BID_SZ,
    H_CROSS,
    H_EXCH_NS,
    H_LAST_BOOK_NS,
    H_LAST_CTX_NS,
    H_LAST_EVENT_NS,
    H_LAST_TRADE_NS,
    H_N_EVENTS,
    H_SRC_PUB_NS,
    H_TICK,
    H_TOX_ASK,
    H_TOX_BID,
    K_COLD_NS,
    K_CORR_REF,
    K_KURT_TAIL,
    K_LEADLAG_SAMPLE_S,
    K_N_COINS,
    K_REF,
    K_STALE_NS,
    K_WARM_NS,
    K_WARMUP_SAMPLES,
)


def config_head(c, est, coins) -> None:
    """The kernel's own config words (tiers, references)."""
    t = est.tiers
    coins = tuple(coins or ())
    c[K_WARM_NS] = t.warm_interval_ms * 1e6
    c[K_COLD_NS] = t.cold_interval_ms * 1e6
    c[K_STALE_NS] = t.stale_after_s * 1e9
    c[K_WARMUP_SAMPLES] = est.warmup_samples
    c[K_N_COINS] = max(len(coins), 1)
    c[K_REF:K_REF + 8] = -1.0
    for pair in t.basis_pairs:
        a, _, b = pair.partition("=")
        if a in coins and b in coins:
            c[K_REF + coins.index(a)] = coins.index(b)
    ref = t.corr_reference_coin
    c[K_CORR_REF] = coins.index(ref) if ref in coins else 0
    c[K_KURT_TAIL] = est.vol.kurtosis_as_k
    c[K_LEADLAG_SAMPLE_S] = est.correlation.leadlag_sample_ms * 1e-3


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
    bid = state[H_BID]
    ask = state[H_ASK]
    t = state[H_LAST_EVENT_NS]
    stale = cfg[K_STALE_NS]
    out.coin = coin
    out.params_version = PARAMS_VERSION
    out.n_events = int(state[H_N_EVENTS])
    out.event_ts_ns = int(state[H_EXCH_NS])
    out.src_pub_mono_ns = int(state[H_SRC_PUB_NS])
    out.update_mono_ns = now_mono_ns
    mid = 0.5 * (bid + ask) if bid > 0.0 else 0.0
    bsz = state[H_BID_SZ]
    asz = state[H_ASK_SZ]
    out.mid_px = mid
    out.best_bid_px = bid
    out.best_ask_px = ask
    out.spread_bps = (ask - bid) / mid * 1e4 if mid > 0.0 else 0.0
    out.tick_size_px = state[H_TICK] if math.isfinite(state[H_TICK]) else 0.0
    if bsz + asz > 0.0 and mid > 0.0:
        out.weighted_mid_px = (bid * asz + ask * bsz) / (bsz + asz)
        out.book_imbalance = (bsz - asz) / (bsz + asz)
    else:
        out.weighted_mid_px = mid
        out.book_imbalance = 0.0
    # --- volatility and regime
    st_v = state[OS_VOL:OE_VOL]  # noqa: F405
    n_samples = st_v[vol.S_N]
    vol_ready = n_samples >= cfg[K_WARMUP_SAMPLES]
    out.vol_status = _status(True, vol_ready, st_v[vol.S_LAST_NS], t, stale)
    out.sigma_clean_bps_per_sqrt_s = vol.sigma_clean(st_v)
    out.sigma_total_bps_per_sqrt_s = vol.sigma_total(st_v)
    eff = st_v[vol.S_SIGMA_EFF]
    out.sigma_effective_bps_per_sqrt_s = eff if eff > 0.0 else vol.sigma_clean(st_v)
    out.sigma_blend_weight = st_v[vol.S_BLEND_W]
    out.sigma_30s_bps_per_sqrt_s = math.sqrt(st_v[vol.S_RV_FAST])
    out.sigma_300s_bps_per_sqrt_s = math.sqrt(st_v[vol.S_RV_SLOW])
    out.vol_term_ratio = vol.term_ratio(st_v)
    k = vol.excess_kurtosis(st_v)
    out.excess_kurtosis = k
    out.as_ratio_adjustment = 1.0 + cfg[K_KURT_TAIL] * max(k, 0.0)
    bv = st_v[vol.S_BV]
    out.jump_ratio = st_v[vol.S_RV] / bv if bv > 1e-12 else 1.0
    out.last_jump_bps = st_v[vol.S_JUMP_BPS]
    out.last_jump_age_s = (t - st_v[vol.S_JUMP_NS]) * 1e-9 if st_v[vol.S_JUMP_NS] > 0.0 else -1.0
    out.jump_rate_per_s = st_v[vol.S_JUMP_RATE]
    out.sv_kappa_per_s = st_v[vol.S_SV_KAPPA]
    out.sv_theta_bps2_per_s = st_v[vol.S_SV_THETA]
    out.sv_xi_bps_per_s = st_v[vol.S_SV_XI]
    st_r = state[OS_REG:OE_REG]  # noqa: F405
    c_r = cfg[CS_REG:CE_REG]  # noqa: F405
    out.regime_status = _status(c_r[regime.C_ENABLED] != 0.0, st_r[regime.S_N] >= c_r[regime.C_WARMUP],
                                st_r[regime.S_LAST_NS], t, stale)
    out.volatility_regime = regime.regime(st_r)
    out.gamma_multiplier = regime.gamma_mult(st_r, c_r)
    out.spread_multiplier = regime.spread_mult(st_r, c_r)
    out.regime_vol_ratio = st_r[regime.S_RATIO]
    # --- volume clock
    st_vc = state[OS_VC:OE_VC]  # noqa: F405
    c_vc = cfg[CS_VC:CE_VC]  # noqa: F405
    out.volclock_status = _status(c_vc[volclock.C_ENABLED] != 0.0, st_vc[volclock.S_BUCKET_SZ] > 0.0,
                                  st_vc[volclock.S_LAST_NS], t, stale)
    out.volume_rate_sz_per_s = volclock.volume_rate(st_vc, c_vc, t) if st_vc[volclock.S_START_NS] > 0 else 0.0
    out.volclock_bucket_sz = st_vc[volclock.S_BUCKET_SZ]
    out.volclock_bucket_duration_s = st_vc[volclock.S_LAST_BUCKET_S]
    out.volclock_buckets = int(st_vc[volclock.S_N_BUCKETS])
    # --- kappa
    st_k = state[OS_KAP:OE_KAP]  # noqa: F405
    c_k = cfg[CS_KAP:CE_KAP]  # noqa: F405
    out.kappa_status = _status(True,
                               st_k[kappa.S_N] >= c_k[kappa.C_MIN_TRADES] or st_k[kappa.S_KAPPA_BOOK] > 0,
                               max(st_k[kappa.S_LAST_NS], state[H_LAST_BOOK_NS]), t, stale)
    out.kappa_per_bps = st_k[kappa.S_KAPPA]
    out.kappa_fill_per_bps = st_k[kappa.S_KAPPA_FILL]
    out.kappa_book_per_bps = st_k[kappa.S_KAPPA_BOOK]
    out.kappa_lo_per_bps = st_k[kappa.S_KAPPA_LO]
    out.kappa_hi_per_bps = st_k[kappa.S_KAPPA_HI]
    out.kappa_bid_per_bps = st_k[kappa.S_KAPPA_BID]
    out.kappa_ask_per_bps = st_k[kappa.S_KAPPA_ASK]
    out.kappa_mult_bid = st_k[kappa.S_MULT_BID]
    out.kappa_mult_ask = st_k[kappa.S_MULT_ASK]
    out.kappa_ks_stat = st_k[kappa.S_KS_STAT]
    out.kappa_ks_reject = int(st_k[kappa.S_KS_REJECT])
    out.kappa_model = int(st_k[kappa.S_MODEL])
    out.kappa_powerlaw_alpha = st_k[kappa.S_LOMAX_A]
    out.kappa_powerlaw_scale_bps = st_k[kappa.S_LOMAX_S]
    # --- microprice
    st_m = state[OS_MIC:OE_MIC]  # noqa: F405
    c_m = cfg[CS_MIC:CE_MIC]  # noqa: F405
    used = st_m[microprice.S_USED_GROUP] >= 0.0
    out.microprice_status = _status(c_m[microprice.C_ENABLED] != 0.0,
                                    used, st_m[microprice.S_LAST_NS], t, stale)
    out.microprice_fallback = 0 if used else 1
    out.microprice_px = microprice.price(st_m, mid)
    out.microprice_adj_bps = st_m[microprice.S_ADJ_BPS]
    out.microprice_beta_book_bps = st_m[microprice.S_B1]
    out.microprice_beta_flow_bps = st_m[microprice.S_B2]
    out.microprice_r2 = st_m[microprice.S_R2]
    # --- flow
    st_fl = state[OS_FLOW:OE_FLOW]  # noqa: F405
    c_fl = cfg[CS_FLOW:CE_FLOW]  # noqa: F405
    out.flow_status = _status(True, st_fl[flow.S_N_TRADES] > 0.0, state[H_LAST_TRADE_NS], t, stale)
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
    st_h = state[OS_HK:OE_HK]  # noqa: F405
    c_h = cfg[CS_HK:CE_HK]  # noqa: F405
    out.hawkes_status = _status(c_h[hawkes.C_ENABLED] != 0.0, hawkes.warmed_up(st_h, c_h),
                                state[H_LAST_TRADE_NS], t, stale)
    lb, ls, imb, eb, es = hawkes.outputs(st_h, t)
    out.hawkes_buy_intensity_per_s = lb
    out.hawkes_sell_intensity_per_s = ls
    out.hawkes_imbalance = imb
    out.hawkes_buy_excess_per_s = eb
    out.hawkes_sell_excess_per_s = es
    out.hawkes_mu_buy_per_s = st_h[hawkes.S_BUY + hawkes.P_MU]
    out.hawkes_mu_sell_per_s = st_h[hawkes.S_SELL + hawkes.P_MU]
    out.hawkes_alpha_buy_per_s = st_h[hawkes.S_BUY + hawkes.P_ALPHA]
    out.hawkes_alpha_sell_per_s = st_h[hawkes.S_SELL + hawkes.P_ALPHA]
    out.hawkes_beta_buy_per_s = st_h[hawkes.S_BUY + hawkes.P_BETA]
    out.hawkes_beta_sell_per_s = st_h[hawkes.S_SELL + hawkes.P_BETA]
    # --- funding (hourly funding: stale after an hour without a context)
    st_f = state[OS_FUND:OE_FUND]  # noqa: F405
    c_f = cfg[CS_FUND:CE_FUND]  # noqa: F405
    out.funding_status = _status(c_f[funding.C_ENABLED] != 0.0, funding.warmed_up(st_f, c_f),
                                 state[H_LAST_CTX_NS], t, max(stale, 3600e9))
    out.funding_rate_per_h = st_f[funding.S_RATE]
    out.funding_predicted_per_h = funding.predicted(st_f, c_f)
    out.funding_std_per_h = funding.std(st_f, c_f)
    out.funding_zscore = funding.zscore(st_f, c_f)
    out.funding_cost_bps = funding.cost_bps(st_f, c_f)
    out.funding_premium_bps = funding.premium(st_f) * 1e4
    out.mark_px = st_f[funding.S_MARK]
    out.oracle_px = st_f[funding.S_ORACLE]
    out.open_interest_sz = st_f[funding.S_OI]
    out.funding_n_obs = int(st_f[funding.S_N_OBS])
    # --- spread process and cascade
    st_s = state[OS_SPR:OE_SPR]  # noqa: F405
    c_s = cfg[CS_SPR:CE_SPR]  # noqa: F405
    out.spread_status = _status(c_s[spread.C_ENABLED] != 0.0, st_s[spread.S_N] >= 10.0,
                                st_s[spread.S_LAST_NS], t, stale)
    out.fair_spread_bps = st_s[spread.S_FAIR]
    out.spread_percentile = st_s[spread.S_PCT]
    out.spread_regime = int(st_s[spread.S_REGIME])
    st_c = state[OS_CAS:OE_CAS]  # noqa: F405
    c_c = cfg[CS_CAS:CE_CAS]  # noqa: F405
    out.cascade_status = _status(c_c[cascade.C_ENABLED] != 0.0, vol_ready, state[H_LAST_BOOK_NS], t, stale)
    out.cascade_severity = st_c[cascade.S_SEVERITY]
    out.should_pull_quotes = int(st_c[cascade.S_PULL])
    out.tail_risk_multiplier = cascade.tail_multiplier(st_c, c_c)
    _write_b(state, cfg, out, t, stale)
    out.valid = 1 if (mid > 0.0 and vol_ready) else 0


@njit(cache=True)
def _write_b(state, cfg, out, t, stale):
    """Part B's modules (correlation, basis, AS, toxicity, queue, book, drift)."""
    x = state[H_CROSS:H_CROSS + N_CROSS]  # noqa: F405
    c_corr = cfg[CS_CORR:CE_CORR]  # noqa: F405
    on = c_corr[0] != 0.0
    out.corr_status = _status(on and cfg[K_N_COINS] > 1, x[X_VALID] != 0.0, x[X_T_NS], t, stale)  # noqa: F405
    out.corr_ref_coin = int(x[X_REF])  # noqa: F405
    out.corr_fast = x[X_CORR]  # noqa: F405
    out.corr_medium = x[X_CORR + 1]  # noqa: F405
    out.corr_slow = x[X_CORR + 2]  # noqa: F405
    out.hedge_ratio = x[X_BETA + 1]  # noqa: F405
    out.basis_status = _status(on and cfg[K_REF + out.coin] >= 0, x[X_XV_VALID] != 0.0, x[X_T_NS], t, stale)  # noqa: F405
    out.basis_bps = x[X_BASIS]  # noqa: F405
    out.basis_zscore = x[X_BASIS_Z]  # noqa: F405
    out.lead_lag_s = x[X_LAG_S]  # noqa: F405
    out.lead_lag_corr = x[X_LAG_CORR]  # noqa: F405
    out.lead_bps_per_s = x[X_LEAD]  # noqa: F405
    st_a = state[OS_AS:OE_AS]  # noqa: F405
    c_a = cfg[CS_AS:CE_AS]  # noqa: F405
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
    st_t = state[OS_TOX:OE_TOX]  # noqa: F405
    c_t = cfg[CS_TOX:CE_TOX]  # noqa: F405
    out.toxicity_status = _status(c_t[0] != 0.0, toxicity.n_learned(st_t) > 0, t, t, stale)
    out.toxicity_bid = state[H_TOX_BID]
    out.toxicity_ask = state[H_TOX_ASK]
    out.toxicity_gate_bid = int(toxicity.gate(st_t, c_t, state[H_TOX_BID]))
    out.toxicity_gate_ask = int(toxicity.gate(st_t, c_t, state[H_TOX_ASK]))
    st_q = state[OS_Q:OE_Q]  # noqa: F405
    c_q = cfg[CS_Q:CE_Q]  # noqa: F405
    out.queue_status = _status(c_q[0] != 0.0, state[H_LAST_TRADE_NS] > 0.0, state[H_LAST_BOOK_NS], t, stale)
    out.queue_exec_scale = queue_position.exec_scale(st_q)
    out.queue_cancel_rate_per_s = queue_position.cancel_rate_per_s(st_q)
    out.queue_volume_bid_sz_per_s = queue_position.volume_rate_sz_per_s(st_q, 1)
    out.queue_volume_ask_sz_per_s = queue_position.volume_rate_sz_per_s(st_q, -1)
    st_b = state[OS_BOOK:OE_BOOK]  # noqa: F405
    c_b = cfg[CS_BOOK:CE_BOOK]  # noqa: F405
    out.book_status = _status(c_b[0] != 0.0, state[H_LAST_BOOK_NS] > 0.0, state[H_LAST_BOOK_NS], t, stale)
    out.bim_10bps = book_micro.bim(st_b, 0)
    out.bim_25bps = book_micro.bim(st_b, 1)
    out.bim_50bps = book_micro.bim(st_b, 2)
    out.bim_delta_per_s = book_micro.dbim_per_s(st_b, 0)
    out.book_pressure_gradient = book_micro.pressure_gradient(st_b)
    out.book_thinning_per_s = book_micro.thinning_per_s(st_b)
    out.sweep_score_buy = book_micro.sweep_score(st_b, c_b, t, 1)
    out.sweep_score_sell = book_micro.sweep_score(st_b, c_b, t, -1)
    st_d = state[OS_DR:OE_DR]  # noqa: F405
    c_d = cfg[CS_DR:CE_DR]  # noqa: F405
    out.drift_status = _status(c_d[0] != 0.0, state[H_LAST_BOOK_NS] > 0.0, state[H_LAST_BOOK_NS], t, stale)
    out.drift_bps_per_s = drift_kalman.drift_bps_per_s(st_d)
    out.drift_uncertainty_bps_per_s = drift_kalman.drift_std_bps_per_s(st_d)
    out.drift_confidence = drift_kalman.confidence(st_d, c_d)
    out.drift_out_of_band = int(drift_kalman.out_of_band(st_d, c_d))
