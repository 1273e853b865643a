"""The estimator kernel: every estimator, composed in hot, warm and cold tiers.

Pure numba over one coin's state record (``shm_layout.estimators.ESTIMATOR_STATE``,
in shared memory so a restarted estimator resumes warm) and one event at a time.
The record has the kernel's ``header`` and one field per estimator of the registry;
each estimator's kernels get only their own field (``state.vol``) and config
(``cfg.vol``, the ``KERNEL_CONFIG`` record of ``kernel_config``), its hooks the whole
coin state and config record.

Tiers (event time, so a replay gives the same numbers as live):
  hot, every event (``kernel_hot``): the header (clocks, book top, tick, the queue of our
    fills), then the estimators' ``hook_fill`` for each queued fill and ``hook_book``,
    ``hook_trade`` or ``hook_ctx`` for the event;
  warm and cold, on event-time timers: ``hook_warm``, ``hook_cold``;
  cross-coin (``kernel_cross``): correlation, basis, lead-lag.
Each hook is defined in the estimator's own module, over the whole coin state; the
tiers call every estimator that defines it, in ``shm_layout.estimators.CALL_ORDER``
(``kernel_tiers``, generated from the registry). What an estimator reads from the
others is written in its hooks; that order is the only coupling between them.

Entry points: ``new_states(n)``, ``init_state(state, cfg)``, ``on_event(state, cfg, ev)``,
``on_fill(state, fill)`` (queued; folded at the next event, which has the config),
``write_params(state, cfg, coin, out, now_mono_ns)``, ``config_vector(est_cfg, coins)``,
and for several coins ``cross_event(states, cfg, ev)`` (after ``on_event``).
"""

import numpy as np
from numba import njit

from shm_layout.constants import MAX_COINS
from shm_layout.estimators import ESTIMATOR_STATE, REGISTRY

from .kernel_config import KERNEL_CONFIG, KERNELS, config_vector
from .kernel_cross import cross_event
from .kernel_hot import on_event, on_fill
from .kernel_tiers import cold_tier, warm_tier
from .params import write_params

__all__ = [
    "ESTIMATOR_STATE",
    "KERNEL_CONFIG",
    "cold_tier",
    "config_vector",
    "cross_event",
    "init_state",
    "new_states",
    "on_event",
    "on_fill",
    "warm_tier",
    "write_params",
]

assert MAX_COINS <= 8


def new_states(n_coins: int = 1) -> np.ndarray:
    """Zeroed state records for ``n_coins`` coins (``init_state`` each before use)."""
    return np.zeros(n_coins, ESTIMATOR_STATE)


def init_state(state, cfg) -> None:
    """A cold start: the kernel's header, then every registered estimator from its
    config, in registry order (each init touches only its own state)."""
    _init_header(state["header"])
    for decl, est in zip(REGISTRY, KERNELS, strict=True):
        if decl.CONFIG is None:
            est.init(state[decl.NAME])
        else:
            est.init(state[decl.NAME], cfg[decl.NAME])


@njit(cache=True)
def _init_header(h):
    h.bid_px = h.ask_px = h.bid_sz = h.ask_sz = 0.0
    h.tick_px = np.inf
    h.last_event_ts_ns = h.exch_ts_ns = h.src_pub_mono_ns = h.n_events = 0
    h.warm_ts_ns = h.cold_ts_ns = h.n_warm = h.n_cold = 0
    h.last_book_ts_ns = h.last_trade_ts_ns = h.last_ctx_ts_ns = 0
    h.position_sz = 0.0
    h.n_fills = h.n_fills_queued = 0
    h.toxicity_bid = h.toxicity_ask = 0.0
    h.book_z[:] = 0.0
    h.book_r[:] = 0.0
    x = h.cross
    x.ts_ns = x.ref_coin = x.valid = x.xv_valid = 0
    x.corr[:] = 0.0
    x.beta[:] = 0.0
    x.basis_bps = x.basis_z = x.d_basis_bps = x.lag_s = x.lag_corr = 0.0
    x.lead_bps_per_s = x.lead_confidence = 0.0
