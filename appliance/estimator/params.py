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

Static dispatch: numba cannot call "the publish of registry entry i" by a run-time
value, and the static ways to loop over the registry inside numba cost time here
(``literal_unroll`` over the indices compiles to a loop with a switch: ~35 ns more
per call; a tuple of the publish dispatchers compiles as numba's experimental
first-class function values, indirect calls with a warning per compile; an overload
recursing on a literal index did not finish compiling). So
``_straight_line_calls`` writes the body of ``_publish_all`` once at import from
``PUBLISHING`` (source text, ``exec``): one direct call per estimator, on
``state[NAME]`` and ``cfg[NAME]``, inlined into ``write_params`` by an ``@overload``.
Each ``publish`` is ``inline="always"``, so the writer compiles as the one function the
hand-written writer was; the list of estimators is the registry's.
"""

import math

from numba import njit
from numba.extending import overload

from shm_layout.constants import EST_WARMING, PARAMS_VERSION
from shm_layout.estimators import REGISTRY

from .kernel_config import KERNELS

# The registered estimators with MarketParams fields, as indices into REGISTRY/KERNELS.
PUBLISHING = tuple(i for i, k in enumerate(KERNELS) if hasattr(k, "publish"))


def _publish_all(state, cfg, t, stale, out):
    """Every registered estimator with a ``publish`` writes its MarketParams fields, in
    registry order (numba only: ``_publish_all_static`` writes the calls out)."""
    raise NotImplementedError("only inside numba: write_params calls it")


def _straight_line_calls():
    """The body of ``_publish_all``, one direct call per publishing estimator, built from
    the registry: source text, because numba has no static loop over functions that
    compiles to straight-line code (see the module docstring)."""
    names = {}
    lines = ["def publish_all(state, cfg, t, stale, out):"]
    for n, i in enumerate(PUBLISHING):
        name = REGISTRY[i].NAME
        names[f"publish_{n}"] = KERNELS[i].publish
        conf = "None" if REGISTRY[i].CONFIG is None else f"cfg[{name!r}]"
        lines.append(f"    publish_{n}(state[{name!r}], {conf}, state.header, cfg.tiers, t, stale, out)")
    lines.append("    return")
    exec(compile("\n".join(lines) + "\n", f"<{__name__}: publish_all>", "exec"), names)  # noqa: S102
    return names["publish_all"]


_PUBLISH_ALL = _straight_line_calls()


@overload(_publish_all, inline="always")
def _publish_all_static(state, cfg, t, stale, out):
    return _PUBLISH_ALL


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
