"""What the risk watchdog publishes for mmctl and the metrics: the P&L attribution
ledger and the models' scores, one seqlock block each per coin."""

from ..constants import ATTRIB_PENDING, MAX_MODELS, MAX_SCORE_METRICS, N_PROB_MODELS, SCORE_CURVE_BINS
from .headers import padded

# --- P&L attribution: risk watchdog -> mmctl report, metrics, per coin (seqlock) --
# The ledger of appliance/measure/attribution.py (its docstring defines every figure):
# the session's baseline, running sums, the components at the last check against
# PositionState, and the fills still inside their markout horizon (pend_*, oldest first).
ATTRIBUTION_STATE = padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("started", "u1"),  # 1 once the session's baseline is taken
        ("ok", "u1"),  # 1: the components summed to the P&L at the last check
        ("_pad0", "u1", (5,)),
        ("update_mono_ns", "<i8"),  # the last check
        ("horizon_ns", "<i8"),
        ("start_ts_ns", "<i8"),  # session start, wall clock
        ("start_mono_ns", "<i8"),
        ("base_pos_update_ns", "<i8"),  # fills published up to this are in the baseline
        ("base_pnl_usd", "<f8"),  # PositionState total_pnl_usd at the start
        ("base_funding_usd", "<f8"),
        ("base_n_fills", "<i8"),  # PositionState n_fills at the start
        ("inv_position_sz", "<f8"),  # position held from the start (after adjustments)
        ("inv_mark_px", "<f8"),  # the mark it is marked from
        ("inv_carried_usd", "<f8"),  # its MTM up to the last adjustment
        ("booked_sq", "<f8"),  # signed size of every fill booked
        ("closed_sq", "<f8"),  # ... of those past their horizon
        ("closed_sq_mid_h", "<f8"),  # sum of signed size x mid at fill+H over those
        ("closed_as_usd", "<f8"),
        ("acc_spread_usd", "<f8"),
        ("acc_fee_usd", "<f8"),  # fees paid (negative = rebates)
        ("volume_usd", "<f8"),
        ("n_fills", "<i8"),
        ("n_maker", "<i8"),
        ("n_overflow", "<i8"),  # fills closed early: more than ATTRIB_PENDING inside the horizon
        ("n_adjustments", "<i8"),  # positions adopted or corrected from the venue
        ("n_checks", "<i8"),
        ("n_failed", "<i8"),  # checks whose components did not sum to the P&L
        # at the last check (USD, + = made money; fees_usd = -fees paid)
        ("spread_usd", "<f8"),
        ("adverse_selection_usd", "<f8"),
        ("inventory_usd", "<f8"),
        ("funding_usd", "<f8"),
        ("fees_usd", "<f8"),
        ("total_usd", "<f8"),
        ("pnl_usd", "<f8"),  # PositionState total_pnl_usd - base_pnl_usd
        ("adjustment_usd", "<f8"),
        ("residual_usd", "<f8"),  # pnl - total - adjustment
        ("max_abs_residual_usd", "<f8"),
        ("mark_px", "<f8"),
        ("position_sz", "<f8"),
        ("n_pending", "<i8"),
        ("pend_pub_ns", "<i8", (ATTRIB_PENDING,)),  # fills ring pub_mono_ns
        ("pend_ts_ns", "<i8", (ATTRIB_PENDING,)),  # venue time
        ("pend_sq", "<f8", (ATTRIB_PENDING,)),  # side x size
        ("pend_px", "<f8", (ATTRIB_PENDING,)),
        ("pend_mid_px", "<f8", (ATTRIB_PENDING,)),
        ("pend_mid_h_px", "<f8", (ATTRIB_PENDING,)),  # NaN until the horizon passed
        ("pend_fee_usd", "<f8", (ATTRIB_PENDING,)),
        ("pend_flags", "u1", (ATTRIB_PENDING,)),  # 1 booked, 2 past the horizon, 4 maker
    ]
)


# --- ModelScores: risk watchdog -> mmctl inspect scores, metrics, per coin (seqlock) -----
# Arrays by model (constants.MODEL_NAMES order) and metric (SCORE_METRIC_NAMES order);
# scores over the window of resolved forecast/outcome pairs (scores.window_s).
MODEL_SCORES = padded(
    [
        ("seq", "<i8"),
        ("coin", "u1"),
        ("n_models", "u1"),
        ("n_metrics", "u1"),
        ("_pad0", "u1", (5,)),
        ("update_mono_ns", "<i8"),
        ("update_ts_ns", "<i8"),
        ("window_s", "<f8"),
        ("samples", "<i8", (MAX_MODELS,)),  # pairs scored (in the window, outcome known)
        ("censored", "<i8", (MAX_MODELS,)),  # in the window, outcome censored (left out)
        ("pending", "<i8", (MAX_MODELS,)),  # forecasts awaiting their outcome
        ("total", "<i8", (MAX_MODELS,)),  # pairs resolved since the watchdog started
        ("horizon_s", "<f8", (MAX_MODELS,)),  # of the forecast
        ("degraded_s", "<f8", (MAX_MODELS,)),  # degraded without a break this long; 0 = not now
        ("degraded", "u1", (MAX_MODELS,)),  # 1 = for scores.degraded_after_s: model_degraded
        ("value", "<f8", (MAX_MODELS, MAX_SCORE_METRICS)),  # NaN = no score (too few pairs)
        ("curve_forecast", "<f8", (N_PROB_MODELS, SCORE_CURVE_BINS)),  # reliability curve
        ("curve_observed", "<f8", (N_PROB_MODELS, SCORE_CURVE_BINS)),
        ("curve_count", "<i8", (N_PROB_MODELS, SCORE_CURVE_BINS)),
    ]
)
