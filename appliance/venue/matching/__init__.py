"""Matching core of the local venue (issue 3): numba kernels over the arrays of
``shm_layout.venue_records``, shared by the venue server (through ``engine``) and the
backtester (which calls the kernels from its own njit loop).

Kernels (all ``@njit(cache=True)``; ``st`` is ``VENUE_STATE[1][0]``, a record):

* ``on_market_event(st, books, orders, accounts, positions, fills, updates, ev)``
* ``on_market_events(st, books, orders, accounts, positions, fills, updates, evs)``
* ``place_order(st, books, orders, accounts, positions, fills, updates, account, coin,
  side, px, sz, tif, reduce_only, cloid_u1x16, has_cloid, now_ns, active_ns, res) -> code``
* ``cancel_order(st, books, orders, updates, slot, now_ns) -> bool``
* ``modify_order(st, ..., updates, slot, account, coin, side, px, sz, tif, ...) -> code``:
  the one queue rule of a modify (cancel + new order at the back of the queue)
* ``update_leverage(st, books, accounts, positions, account, coin, leverage, is_cross)``
* ``sample_latency_ns(latency_cfg_record) -> int``
* queue: ``queue_on_depth``, ``queue_on_trade``, ``prob_behind``
"""

from .accounts import account_value, available_margin, margin_used, mark_of
from .book import on_market_event, on_market_events
from .entry import best_prices, cancel_order, modify_order, place_order, update_leverage
from .latency import new_latency, sample_latency_ns
from .queue import prob_behind, queue_on_depth, queue_on_trade
from .state import VenueArrays, fund_account, new_place_result, new_venue

__all__ = [
    "VenueArrays",
    "account_value",
    "available_margin",
    "best_prices",
    "cancel_order",
    "fund_account",
    "margin_used",
    "mark_of",
    "modify_order",
    "new_latency",
    "new_place_result",
    "new_venue",
    "on_market_event",
    "on_market_events",
    "place_order",
    "prob_behind",
    "queue_on_depth",
    "queue_on_trade",
    "sample_latency_ns",
    "update_leverage",
]
