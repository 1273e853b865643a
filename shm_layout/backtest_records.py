"""Records of the backtester's njit loop: its carried state and its time series.

Not shared memory: one process owns them. They live here with every other kernel
state layout so that a layout change is visible in one place.
"""

import numpy as np

from .constants import MAX_LEVELS

N_MARKOUTS = 5  # horizons of the in-loop markouts (1 s, 2 s, 5 s, 10 s, 30 s by default)

# State carried from one chunk of events to the next.
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
