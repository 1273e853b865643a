"""MarketParams from a coin's estimator state, derived from the registry.

``write_params`` writes the kernel's own part (coin, version, event times, the book:
mid, spread, top-of-book imbalance), then calls ``publish`` of every registered
estimator whose kernel module has one, in registry order, then ``valid``. Each
``publish(st, cfg, h, tiers, t, stale, out)`` writes that estimator's MarketParams
fields and status (warming / valid / stale / off) from:
  st      its own state field (``state[NAME]``),
  cfg     its own config vector (``cfg[NAME]``; None for an estimator without settings),
  h       the kernel header (``state.header``: book times, toxicity, cross-coin results),
  tiers   the kernel's settings (``cfg.tiers``: warm-up samples, reference coins),
  t       the event time (ns, as f8) and ``stale`` the staleness limit (ns, as f8),
  out     the record, with the book part and every earlier estimator's fields already
          written (cascade reads ``out.vol_status``, microprice ``out.mid_px``).
An estimator without ``publish`` (no MarketParams fields) is skipped.

Static dispatch: ``_publish_all`` is one direct call per publishing estimator, on
``state[NAME]`` and ``cfg[NAME]``, generated once from the registry and inlined into
``write_params`` (``straight_line``, which says why numba needs source text for this);
the list of estimators is the registry's. Each ``publish`` is its own compiled function
(``@njit(cache=True)``, not ``inline="always"``): numba's compile time grows faster than
the size of one function: the writer with every ``publish`` (and the readers they
call) pulled into it took 16.6 CPU-s to compile, with separate ``publish`` functions
11.6 (BENCHMARKS.md, "Fewer inlined bodies in the estimator's compile", which also gives
the writer's run time before and after).
"""

import math

from numba import njit

from shm_layout.constants import EST_WARMING, PARAMS_VERSION
from shm_layout.estimators import REGISTRY

from .kernel_config import KERNELS
from .straight_line import straight_line_calls

# The registered estimators with MarketParams fields, as indices into REGISTRY/KERNELS.
PUBLISHING = tuple(i for i, k in enumerate(KERNELS) if hasattr(k, "publish"))


def _publish_calls():
    calls = []
    for i in PUBLISHING:
        name = REGISTRY[i].NAME
        conf = "None" if REGISTRY[i].CONFIG is None else f"cfg[{name!r}]"
        args = f"state[{name!r}], {conf}, state.header, cfg.tiers, t, stale, out"
        calls.append((f"publish_{name}", KERNELS[i].publish, args))
    return calls


# Every registered estimator with a ``publish`` writes its MarketParams fields, in
# registry order (numba only).
_publish_all = straight_line_calls("publish_all", "state, cfg, t, stale, out", _publish_calls())


@njit(cache=True)
def write_params(state, cfg, coin, out, now_mono_ns):
    """Fill one MarketParams record from a coin's state: the book, every registered
    estimator's fields, and ``valid`` (a book and a warm volatility)."""
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
    _publish_all(state, cfg, t, stale, out)
    out.valid = 1 if (mid > 0.0 and out.vol_status != EST_WARMING) else 0
