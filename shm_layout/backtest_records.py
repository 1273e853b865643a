"""Records of the backtester's njit loop: its carried state and its time series.

Not shared memory: one process owns them. They live here with every other kernel
state layout so that a layout change is visible in one place.
"""

import numpy as np

from .constants import MAX_LEVELS

N_MARKOUTS = 6  # horizons of the in-loop markouts (0.5, 1, 2, 5, 10, 30 s by default)

# State carried from one chunk of events to the next.
# Stages of the loop the profile times (sim.py's steps): 1 reconcile of a ladder at the
# venue, 2 matching (and our fills booked), 4 mark and markouts, 3 estimator, 5 quote
# (params, account, ladder, prediction records), 6 sample.
PROF_RECONCILE, PROF_MATCHING, PROF_MARK, PROF_ESTIMATOR, PROF_QUOTE, PROF_SAMPLE = range(6)
PROF_STAGE_NAMES = ("reconcile", "matching", "mark", "estimator", "quote", "sample")
N_PROF_STAGES = len(PROF_STAGE_NAMES)
PROF_KIND_NAMES = ("book", "bbo", "trade", "other")
N_PROF_KINDS = len(PROF_KIND_NAMES)

BT_STATE = np.dtype(
    [
        ("now_ns", "<i8"),  # simulation clock: the events' receive time, never backwards
        ("first_ns", "<i8"),  # time of the first event (0 = none yet)
        ("next_requote_ns", "<i8"),
        ("next_sample_ns", "<i8"),
        ("apply_at_ns", "<i8"),  # a computed ladder reaches the venue then (0 = none pending)
        ("requote_interval_ns", "<i8"),
        ("order_latency_ns", "<i8"),
        ("sample_interval_ns", "<i8"),
        ("n_events", "<i8"),
        ("n_fills", "<i8"),
        ("n_samples", "<i8"),
        ("n_requotes", "<i8"),
        ("n_ladders_applied", "<i8"),
        ("markout_next", "<i8", (N_MARKOUTS,)),  # next fill awaiting each horizon
        ("markout_ns", "<i8", (N_MARKOUTS,)),
        ("max_abs_position_sz", "<f8"),
        ("last_mid_px", "<f8"),
        ("last_bid_px", "<f8"),  # the market's best prices (last book or BBO)
        ("last_ask_px", "<f8"),
        # our resting orders at the venue, by side: order slot and oid (a slot is
        # ours while its oid matches and it is open)
        ("n_bid_orders", "<i8"),
        ("n_ask_orders", "<i8"),
        ("bid_slot", "<i8", (MAX_LEVELS,)),
        ("bid_oid", "<i8", (MAX_LEVELS,)),
        ("ask_slot", "<i8", (MAX_LEVELS,)),
        ("ask_oid", "<i8", (MAX_LEVELS,)),
        # per resting order: the ladder level it serves and that level's predictions
        # (id, fill probability, adverse selection bps), carried onto its fills
        ("bid_level", "<i8", (MAX_LEVELS,)),
        ("bid_pred_id", "<i8", (MAX_LEVELS,)),
        ("bid_pred_fp", "<f8", (MAX_LEVELS,)),
        ("bid_pred_as", "<f8", (MAX_LEVELS,)),
        ("ask_level", "<i8", (MAX_LEVELS,)),
        ("ask_pred_id", "<i8", (MAX_LEVELS,)),
        ("ask_pred_fp", "<f8", (MAX_LEVELS,)),
        ("ask_pred_as", "<f8", (MAX_LEVELS,)),
        ("n_orders_placed", "<i8"),
        ("n_orders_cancelled", "<i8"),
        ("n_orders_rejected", "<i8"),  # post-only crossing, tick, margin... at arrival
        ("n_orders_kept", "<i8"),  # ladder levels served by an order already resting
        # the reconciler's other actions and what they cost at the venue
        ("n_orders_modified", "<i8"),  # modifies sent (each a new order at the queue's back)
        ("n_actions_deferred", "<i8"),  # optional modifies/places requote pacing put off
        ("n_targets_dropped", "<i8"),  # ladder levels under the minimum notional
        ("n_exchange_requests", "<i8"),  # /exchange batches (cancels, modifies, orders apart)
        ("ip_weight_used", "<i8"),  # their IP weight, 1 + batch // 40 each (cumulative)
        ("address_requests_used", "<i8"),  # address quota spent: one per action
        # issue 6 proof figures
        ("max_long_sz", "<f8"),  # largest long position held (>= 0)
        ("max_short_sz", "<f8"),  # largest short position held (>= 0)
        # ... as shares of the position limit at the mid of the time (limits in USD)
        ("max_long_frac", "<f8"),
        ("max_short_frac", "<f8"),
        ("max_abs_frac", "<f8"),
        ("n_gate_disagree", "<i8"),  # ladders where the old binary gate would quote other sides
        ("pull_flag", "<i8"),  # the last MarketParams said should_pull_quotes
        ("pull_ns", "<i8"),  # simulated time should_pull_quotes held
        ("quoted_pull_ns", "<i8"),  # ... while we had an order resting at the venue
        ("n_requotes_pull", "<i8"),
        ("n_fills_pull", "<i8"),  # our fills while should_pull_quotes held
        ("oob_neg_flag", "<i8"),  # drift left its band downwards since the last sample
        ("pull_seen_flag", "<i8"),  # should_pull_quotes held at a requote since the last sample
        ("last_drift_bps_per_s", "<f8"),
        ("last_n_bids", "<i8"),  # levels of the last ladder computed
        ("last_n_asks", "<i8"),
        # market-data latency (md_latency_*): the strategy's lagging cursor
        ("md_next", "<i8"),  # next event to deliver, in (carry ++ chunk) of the current call
        ("md_head_ready", "<i8"),  # 1: md_head_arr_ns holds that event's arrival
        ("md_head_arr_ns", "<i8"),  # its arrival at the strategy
        ("md_last_arr_ns", "<i8"),  # arrivals never decrease: max with this
        ("md_last_t_ns", "<i8"),  # venue time of the last event given an arrival
        ("n_md_delivered", "<i8"),  # events the strategy has seen
        # prediction -> outcome records (issue 14): orders, requotes, per-fill extras
        ("n_order_recs", "<i8"),  # BT_ORDER records written
        ("n_requote_recs", "<i8"),  # BT_REQUOTE records written
        ("fill_horizon_ns", "<i8"),  # horizon of the ladder's fill probability
        ("lad_tox_bid", "<f8"),  # P(toxic) per side in the params of the last ladder computed
        ("lad_tox_ask", "<f8"),
        ("app_tox_bid", "<f8"),  # ... of the ladder in force at the venue
        ("app_tox_ask", "<f8"),
        ("bid_rec", "<i8", (MAX_LEVELS,)),  # per tracked order: its BT_ORDER record (-1: none)
        ("ask_rec", "<i8", (MAX_LEVELS,)),
        # stage profile (mmctl bench backtest --profile): CPU cycles per stage x event kind,
        # index PROF_* x N_PROF_KINDS + kind (book, BBO, trade, other); off unless profile = 1
        ("profile", "<i8"),
        ("prof_cycles", "<i8", (N_PROF_STAGES * N_PROF_KINDS,)),
        ("prof_events", "<i8", (N_PROF_KINDS,)),
    ]
)

# One point of the time series, every ``sample_interval_ns`` of simulated time.
BT_SAMPLE = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("mid_px", "<f8"),
        ("best_bid_px", "<f8"),
        ("best_ask_px", "<f8"),
        ("our_bid_px", "<f8"),  # our best resting bid (NaN = none)
        ("our_ask_px", "<f8"),
        ("position_sz", "<f8"),
        ("pnl_usd", "<f8"),  # realized + unrealized - fees
        ("n_fills", "<i8"),
        ("n_open_orders", "<i8"),
        ("drift_bps_per_s", "<f8"),  # MarketParams drift at the last requote
        ("drift_oob_neg", "i1"),  # drift out of its band and negative at a requote since the last sample
        ("should_pull", "i1"),  # should_pull_quotes at a requote since the last sample
        ("ladder_n_bids", "i1"),  # levels of the last ladder computed
        ("ladder_n_asks", "i1"),
    ]
)

# Why an order record ended (BT_ORDER.end_reason).
END_OPEN = 0  # still resting when the data ended (ended_ns: the end of the data)
END_CANCELLED = 1  # the reconciler cancelled it
END_MODIFIED = 2  # modified away: the venue's modify is a cancel and a new order
END_FILLED = 3  # filled in full (ended_ns: its last fill)
END_VENUE = 4  # gone at the venue without a fill of ours (e.g. a liquidation's cancel)

# One order of ours that rested at the venue, from the ladder level it served when it
# was placed: its fill-probability prediction and what became of it. A modify ends the
# record (END_MODIFIED) and starts a new one with the new level's prediction.
BT_ORDER = np.dtype(
    [
        ("oid", "<i8"),
        ("level_id", "<i8"),  # the ladder level's prediction id
        ("placed_ns", "<i8"),  # resting at the venue from (simulated time)
        ("horizon_ns", "<i8"),  # the fill probability's horizon
        ("first_fill_ns", "<i8"),  # 0: never filled
        ("last_fill_ns", "<i8"),
        ("ended_ns", "<i8"),  # cancelled, modified away, filled in full, gone, data end
        ("side", "i1"),  # +1 bid, -1 ask
        ("level", "u1"),
        ("end_reason", "u1"),  # END_*
        ("px", "<f8"),
        ("sz", "<f8"),
        ("filled_sz", "<f8"),
        ("mid_px", "<f8"),  # the market's mid when it was placed
        ("pred_fill_prob", "<f8"),
        ("pred_as_bps", "<f8"),
        ("pred_toxicity", "<f8"),  # P(toxic) of a fill on its side, from the ladder's params
    ]
)

# Per fill, beside the FILL_EVENT record (same index): what the FILL_EVENT layout,
# shared with the live processes, does not carry.
BT_FILL_INFO = np.dtype(
    [
        ("order", "<i8"),  # its BT_ORDER record (-1: an order not tracked)
        ("pred_toxicity", "<f8"),  # P(toxic) on the fill's side in the ladder in force
    ]
)

# The forecasts of one requote's MarketParams and the mid they start from: the inputs
# of the drift, microprice and lead-lag scores (realized: the mid a horizon later).
BT_REQUOTE = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("mid_px", "<f8"),
        ("drift_bps_per_s", "<f8"),
        ("microprice_adj_bps", "<f8"),  # forecast mid move over the microprice horizon
        ("lead_bps_per_s", "<f8"),  # lead-lag forecast of the next grid step, per second
        ("lead_lag_s", "<f8"),
        ("lead_lag_corr", "<f8"),
        ("toxicity_bid", "<f8"),
        ("toxicity_ask", "<f8"),
        ("valid", "u1"),
        ("drift_status", "u1"),  # EST_*
        ("microprice_status", "u1"),
        ("microprice_fallback", "u1"),  # 1: the microprice is the mid (no forecast)
        ("basis_status", "u1"),  # the lead-lag's reference stream
        ("pulled_reason", "u1"),  # the ladder's PULL_* (0: quoting)
    ]
)
