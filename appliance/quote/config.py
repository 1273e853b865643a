"""The quote kernel's config vector: named indices into one float64 array.

``config_vector(quote_cfg, risk_cfg)`` turns the frozen ``[quote]`` and ``[risk]``
sections into it once at start; the njit kernel only reads floats by index.
Booleans are 0.0 / 1.0, the spacing mode a code. ``config_vectors`` gives one per
coin, each with its ``quote.per_coin`` sizes (``config.sizing``).
"""

import numpy as np

from appliance.config import sizing

SPACING_LINEAR = 0
SPACING_GEOMETRIC = 1
SPACING_MODES = {"linear": SPACING_LINEAR, "geometric": SPACING_GEOMETRIC}

C_GAMMA = 0  # gamma_base, 1/bps
C_N_LEVELS = 1
C_SPACING_BPS = 2  # first gap between levels
C_ORDER_SZ = 3  # > 0: nominal level size in coin (else C_LEVEL_SIZE_USD at the mid)
C_MAKER_FEE_BPS = 4
C_MIN_SPREAD_BPS = 5  # floor of bid depth + ask depth
C_MAX_HALF_SPREAD_BPS = 6
C_HORIZON_S = 7  # T of the inventory skew and the drift shift
C_PARAMS_STALE_NS = 8
C_MAX_POSITION_SZ = 9  # > 0: the limit in coin (else C_MAX_POSITION_USD at the mid)
C_SPACING_MODE = 10
C_SPACING_RATIO = 11
C_TOTAL_SIZE_SZ = 12  # > 0: per side, in coin (else n_levels level sizes)
C_MIN_NOTIONAL_USD = 13
C_SZ_DECIMALS = 14
C_SPREAD_CAP_MULT = 15  # touch depth <= mult x market spread; 0 = off
C_EPNL_HORIZON_S = 16  # tau of the E[PnL] drift term
C_INVENTORY_BETA = 17
C_USE_KALMAN_DRIFT = 18
C_DRIFT_CLAMP_BPS = 19  # 0 = never clamped (legacy: 3)
C_USE_DIRECTIONAL_KAPPA = 20
C_USE_EPNL_FILTER = 21
C_USE_AS = 22
C_TOX_NEUTRAL = 23
C_TOX_AS_WEIGHT = 24
C_TOX_GAMMA_WEIGHT = 25
C_FUNDING_SCALE = 26
C_LEGACY_ZONES = 27
C_LEGACY_GATE = 28  # the binary gate acts (legacy); it is always computed and logged
C_LEGACY_GATE_UTIL = 29
C_TOX_SIZE_CUT = 30
C_MARGIN_BUFFER_FRAC = 31
C_MAX_LEVERAGE = 32
C_MIN_LIQ_DISTANCE_BPS = 33
C_USE_REGIME_SPREAD = 34
C_INVENTORY_HORIZON_S = 35  # holding time of the E[PnL] inventory term
C_TOD = 36  # 24 hourly gamma multipliers (UTC hour of the newest event)
C_EDGE_VS_FAIR = C_TOD + 24  # a level needs depth - AS - fee > 0 against the fair price
C_LEVEL_SIZE_USD = C_EDGE_VS_FAIR + 1  # sizes in notional (issue 16): sizing.py
C_MAX_POSITION_USD = C_EDGE_VS_FAIR + 2
C_DRIFT_SKILL = C_EDGE_VS_FAIR + 3  # weight the drift by its skill, carry it over T_ou
C_DRIFT_CAP_SIGMAS = C_EDGE_VS_FAIR + 4  # |drift shift| <= k sigma sqrt(T) / 2; 0 = off
C_TOX_PULL_P = C_EDGE_VS_FAIR + 5  # a side whose P(toxic) is above this is pulled; 0 = off
C_TOX_PULL_GAP = C_EDGE_VS_FAIR + 6  # ... or above the other side's by this; 0 = off
C_TOX_PULL_SPREAD = C_EDGE_VS_FAIR + 7  # both sides pulled while spread > this x fair; 0 = off
C_TOX_PULL_SWEEP = C_EDGE_VS_FAIR + 8  # ... until a sweep of this many levels shows its side
C_TOX_PULL_SPREAD_MIN = C_EDGE_VS_FAIR + 9  # ... and the spread at least this many bps
C_INV_SOFT_LIMIT = C_EDGE_VS_FAIR + 10  # the accumulating side sized to this share of the limit
C_EPNL_MOVE_OUT = C_EDGE_VS_FAIR + 11  # a level with E <= 0 moves out to where E > 0
C_MOM_REST_S = C_EDGE_VS_FAIR + 12  # the momentum term averaged over this rest; 0 = off
C_MOM_TAU_S = C_EDGE_VS_FAIR + 13  # the estimator's momentum EWMA tau, s
C_SIZE_BY_EDGE = C_EDGE_VS_FAIR + 14  # sizes by per-fill edge (1) or even (0)
C_VOLUME_CREDIT_BPS = C_EDGE_VS_FAIR + 15  # the fee's credit at a full request deficit
C_VOLUME_CREDIT_RAMP = C_EDGE_VS_FAIR + 16  # ... reached at this many requests over volume
C_MOVE_OUT_LADDER = C_EDGE_VS_FAIR + 17  # the ladder moves out as one (1) or per level (0)
C_VOLUME_CREDIT_SURPLUS = C_EDGE_VS_FAIR + 18  # the credit's ramp starts this many requests in surplus
N_CONFIG = C_EDGE_VS_FAIR + 19


def config_vector(quote_cfg, risk_cfg, momentum_tau_s: float = 1.0) -> np.ndarray:
    """``momentum_tau_s``: the estimator's AS momentum tau (what ``as_momentum_rest_s``
    averages over)."""
    q = quote_cfg
    c = np.zeros(N_CONFIG)
    c[C_GAMMA] = q.gamma
    c[C_N_LEVELS] = q.n_levels
    c[C_SPACING_BPS] = q.level_spacing_bps
    c[C_ORDER_SZ] = q.order_size_sz
    c[C_MAKER_FEE_BPS] = q.maker_fee_bps
    c[C_MIN_SPREAD_BPS] = q.min_spread_bps
    c[C_MAX_HALF_SPREAD_BPS] = q.max_half_spread_bps
    c[C_HORIZON_S] = q.horizon_s
    c[C_PARAMS_STALE_NS] = q.params_stale_ms * 1e6
    c[C_MAX_POSITION_SZ] = risk_cfg.max_position_sz
    c[C_SPACING_MODE] = SPACING_MODES[q.spacing_mode]
    c[C_SPACING_RATIO] = q.spacing_ratio
    c[C_TOTAL_SIZE_SZ] = q.total_size_sz
    c[C_MIN_NOTIONAL_USD] = q.min_notional_usd
    c[C_SZ_DECIMALS] = q.sz_decimals
    c[C_SPREAD_CAP_MULT] = q.market_spread_cap_mult
    c[C_EPNL_HORIZON_S] = q.epnl_horizon_s
    c[C_INVENTORY_HORIZON_S] = q.inventory_horizon_s
    c[C_INVENTORY_BETA] = q.inventory_beta
    c[C_USE_KALMAN_DRIFT] = float(q.use_kalman_drift)
    c[C_DRIFT_CLAMP_BPS] = q.drift_clamp_bps
    c[C_USE_DIRECTIONAL_KAPPA] = float(q.use_directional_kappa)
    c[C_USE_EPNL_FILTER] = float(q.use_epnl_filter)
    c[C_USE_AS] = float(q.use_adverse_selection)
    c[C_TOX_NEUTRAL] = q.toxicity_neutral
    c[C_TOX_AS_WEIGHT] = q.toxicity_as_weight
    c[C_TOX_GAMMA_WEIGHT] = q.toxicity_gamma_weight
    c[C_FUNDING_SCALE] = q.funding_scale
    c[C_LEGACY_ZONES] = float(q.legacy_zones)
    c[C_LEGACY_GATE] = float(q.legacy_gate)
    c[C_LEGACY_GATE_UTIL] = q.legacy_gate_util
    c[C_TOX_SIZE_CUT] = float(q.toxicity_size_cut)
    c[C_MARGIN_BUFFER_FRAC] = q.margin_buffer_frac
    c[C_MAX_LEVERAGE] = q.max_leverage
    c[C_MIN_LIQ_DISTANCE_BPS] = q.min_liq_distance_bps
    c[C_USE_REGIME_SPREAD] = float(q.use_regime_spread)
    c[C_EDGE_VS_FAIR] = float(q.edge_vs_fair)
    c[C_LEVEL_SIZE_USD] = q.level_size_usd
    c[C_MAX_POSITION_USD] = risk_cfg.max_position_usd
    c[C_DRIFT_SKILL] = float(q.drift_skill_weight)
    c[C_DRIFT_CAP_SIGMAS] = q.drift_cap_sigmas
    c[C_TOX_PULL_P] = q.toxicity_pull_p
    c[C_TOX_PULL_GAP] = q.toxicity_pull_gap
    c[C_TOX_PULL_SPREAD] = q.toxicity_pull_spread_ratio
    c[C_TOX_PULL_SWEEP] = q.toxicity_pull_sweep_levels
    c[C_TOX_PULL_SPREAD_MIN] = q.toxicity_pull_spread_min_bps
    c[C_INV_SOFT_LIMIT] = q.inventory_soft_limit_frac
    c[C_EPNL_MOVE_OUT] = float(q.epnl_move_out)
    c[C_MOVE_OUT_LADDER] = float(q.move_out_ladder)
    c[C_MOM_REST_S] = q.as_momentum_rest_s
    c[C_MOM_TAU_S] = momentum_tau_s
    c[C_SIZE_BY_EDGE] = float(q.size_by_edge)
    c[C_VOLUME_CREDIT_BPS] = q.volume_credit_bps
    c[C_VOLUME_CREDIT_RAMP] = q.volume_credit_ramp_requests
    c[C_VOLUME_CREDIT_SURPLUS] = q.volume_credit_surplus_requests
    c[C_TOD:C_TOD + 24] = np.asarray(q.tod_gamma_mult, dtype=np.float64)
    return c


def estimator_momentum_tau_s(cfg) -> float:
    """The estimator's AS momentum tau in seconds, from a whole Config."""
    return cfg.estimator.adverse_selection.momentum_tau_ms / 1e3


def config_vectors(quote_cfg, risk_cfg, coins, momentum_tau_s: float = 1.0) -> np.ndarray:
    """One config vector per coin (rows in ``coins``' order), its per-coin sizes applied."""
    return np.stack([config_vector(*sizing.for_coin(quote_cfg, risk_cfg, c), momentum_tau_s)
                     for c in coins])
