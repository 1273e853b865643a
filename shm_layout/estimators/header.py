"""The estimator kernel's own state and config: book, event clocks, counters, the queue
of our fills awaiting the next event, and the cross-coin outputs; the tiers' timers.

Declaration only (numpy and dataclasses). Times are int64 nanoseconds: ``*_ts_ns``
exchange (event) time, ``*_mono_ns`` CLOCK_MONOTONIC. Kernels: ``appliance/estimator/``
``kernel_hot.py``, ``kernel_cross.py``, ``params.py`` (``toxicity_*`` and ``book_z``/``book_r``
are written by the toxicity and drift_kalman hooks).
"""

from dataclasses import dataclass

import numpy as np

NAME = "header"

FILL_QUEUE_LEN = 8  # our fills queued by on_fill between two md events

# One of our fills, queued by ``on_fill`` and folded at the next event (which has the config).
QUEUED_FILL = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("side", "<i8"),  # +1 our bid filled, -1 our ask
        ("px", "<f8"),
        ("sz", "<f8"),
        ("mid_px", "<f8"),  # mid at the fill, 0 = not known (the current mid is used)
        ("position_sz", "<f8"),  # our position after the fill
    ],
    align=True,
)

# What ``cross_event`` computes for this coin (correlation, basis, lead-lag).
CROSS_OUTPUTS = np.dtype(
    [
        ("ts_ns", "<i8"),  # event time of the last cold-rate update
        ("ref_coin", "<i8"),  # correlation / hedge ratio reference coin index
        ("corr", "<f8", (3,)),  # fast, medium, slow scale
        ("beta", "<f8", (3,)),  # hedge ratio at the three scales
        ("valid", "<i8"),
        ("basis_bps", "<f8"),
        ("basis_z", "<f8"),
        ("d_basis_bps", "<f8"),  # basis change (drift observation)
        ("lag_s", "<f8"),
        ("lag_corr", "<f8"),
        ("lead_bps_per_s", "<f8"),
        ("lead_confidence", "<f8"),
        ("xv_valid", "<i8"),  # basis and lead-lag computed against a reference stream
    ],
    align=True,
)

STATE = np.dtype(
    [
        ("bid_px", "<f8"),
        ("ask_px", "<f8"),
        ("bid_sz", "<f8"),
        ("ask_sz", "<f8"),
        ("tick_px", "<f8"),  # smallest price step seen (inf before the first book)
        ("last_event_ts_ns", "<i8"),  # never runs backwards
        ("exch_ts_ns", "<i8"),  # of the last event, as received
        ("src_pub_mono_ns", "<i8"),  # when the feed published the last event
        ("n_events", "<i8"),
        ("warm_ts_ns", "<i8"),  # event time of the last warm-tier run
        ("cold_ts_ns", "<i8"),
        ("n_warm", "<i8"),
        ("n_cold", "<i8"),
        ("last_book_ts_ns", "<i8"),
        ("last_trade_ts_ns", "<i8"),
        ("last_ctx_ts_ns", "<i8"),
        ("position_sz", "<f8"),  # our position after the last fill seen
        ("n_fills", "<i8"),
        ("toxicity_bid", "<f8"),  # P(toxic) of a fill now on our bid / ask (warm tier)
        ("toxicity_ask", "<f8"),
        ("book_z", "<f8", (4,)),  # scratch: the book composite's (z, R) pairs
        ("book_r", "<f8", (4,)),
        ("n_fills_queued", "<i8"),
        ("fills_queued", QUEUED_FILL, (FILL_QUEUE_LEN,)),
        ("cross", CROSS_OUTPUTS),
    ],
    align=True,
)


@dataclass(frozen=True)
class TiersConfig:
    warm_interval_ms: int = 100  # event time between warm-tier runs
    cold_interval_ms: int = 1000  # event time between cold-tier runs
    stale_after_s: float = 30.0  # an estimator whose input is older than this is "stale"
    corr_reference_coin: str = ""  # correlation / hedge ratio against this coin ("" = first)
    basis_pairs: tuple[str, ...] = ()  # "COIN=REF": basis and lead-lag of COIN against REF


CONFIG = TiersConfig
CONFIG_SECTION = "tiers"

# The [estimator] table's own keys (before the sub-tables): name, type, default.
GENERAL_SETTINGS: tuple[tuple[str, type, object], ...] = (
    ("vol_sample_ms", int, 1000),  # return sampling interval of the volatility estimators
    ("vol_halflife_s", float, 60.0),
    ("flow_halflife_s", float, 10.0),
    ("kappa_halflife_s", float, 60.0),
    ("kappa_prior_per_bps", float, 0.2),  # used until enough trades were seen
    ("warmup_samples", int, 5),  # return samples before sigma is trusted
)
