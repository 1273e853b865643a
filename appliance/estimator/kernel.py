"""The estimator kernel: every estimator module, composed in hot, warm and cold tiers.

Pure numba over one coin's state words (``KERNEL_STATE.words``, in shared memory so
a restarted estimator resumes warm) and one event at a time. Layout of the state and
config vectors: ``layout.py``; each module works on its own slice.

Tiers (event time, so a replay gives the same numbers as live):
  hot, every event (``kernel_hot``): book, volatility sampling, flow, Hawkes, kappa
    distances, volume clock, book microstructure, queue, funding, markouts, Kalman
    predict + book composite; our fills queued by ``on_fill`` are folded first.
  warm and cold, on event-time timers (``kernel_tiers``).
  cross-coin (``kernel_cross``): correlation, basis, lead-lag.
Entry points (this module): ``init_state(state, cfg)``, ``on_event(state, cfg, ev)``,
``on_fill(state, fill)`` (queued; folded at the next event, which has the config),
``write_params(state, cfg, coin, out, now_mono_ns)``, ``config_vector(est_cfg)``,
and for several coins ``cross_event(states, cfg, ev)`` (after ``on_event``).
"""

from shm_layout.constants import MAX_COINS

from .kernel_cross import cross_event  # noqa: F401
from .kernel_hot import on_event, on_fill  # noqa: F401
from .kernel_setup import config_vector, init_state  # noqa: F401
from .kernel_tiers import cold_tier, warm_tier  # noqa: F401
from .layout import *  # noqa: F403  (the header words, for callers and tests)
from .layout import H_N_EVENTS, STATE_WORDS_USED
from .params import write_params  # noqa: F401  (an entry point of this module)

N_STATE = STATE_WORDS_USED
S_N_EVENTS = H_N_EVENTS  # kept for the process's "resuming warm" log

assert MAX_COINS <= 8
