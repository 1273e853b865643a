"""The estimator kernel's tiers, generated from the registry: which estimator runs on
which event, in which order.

An estimator takes part in a tier by defining a hook in its kernel module
(``appliance/estimator/<name>.py``), with one signature over the whole coin state:
  hook_book(state, cfg, ev, t, full)   a valid book (BBO, or ``full`` depth) just set in
                                       the header (``kernel_hot``)
  hook_trade(state, cfg, ev, t)        a valid trade
  hook_ctx(state, cfg, ev, t)          an asset context (funding, mark, open interest)
  hook_fill(state, cfg, q, t)          one of our fills, ``q`` a ``QUEUED_FILL`` of the header
                                       (position already set), folded before the event
  hook_warm(state, cfg, t)             every ``tiers.warm_interval_ms`` of event time
  hook_cold(state, cfg, t)             every ``tiers.cold_interval_ms``
``state`` is one coin's ``ESTIMATOR_STATE`` record, ``cfg`` the ``KERNEL_CONFIG`` record,
``t`` the event time (ns, as f8). A hook writes its own state field (and, for
toxicity, its outputs in the header) and may read anything: what it reads from other
estimators is written in it, and ``shm_layout.estimators.CALL_ORDER`` (with who reads
whom) decides whether it sees their value after this event or before. An estimator
omits the hooks it does not need.

For each hook, ``<hook>s`` (``hook_books``, ...) is one direct call per estimator that
defines it, in ``CALL_ORDER``, generated at import (``straight_line``) and inlined into
``kernel_hot``'s event functions and ``warm_tier`` / ``cold_tier`` below. ``CALLED`` lists
who each hook calls. Hooks are ``@njit(cache=True, inline="always")``: each tier then
compiles as the one function the hand-written tier was (a call per hook measured ~2%
on the warm tier).
"""

from collections.abc import Callable

from numba import njit

from shm_layout.estimators import CALL_ORDER, ESTIMATORS

from .kernel_config import KERNELS
from .straight_line import straight_line_calls

# Each hook and its arguments (every estimator's hook of that name has these).
HOOKS: dict[str, str] = {
    "hook_book": "state, cfg, ev, t, full",
    "hook_trade": "state, cfg, ev, t",
    "hook_ctx": "state, cfg, ev, t",
    "hook_fill": "state, cfg, q, t",
    "hook_warm": "state, cfg, t",
    "hook_cold": "state, cfg, t",
}

# The kernel module of each estimator, by registry name, in call order.
ORDERED = tuple((name, KERNELS[ESTIMATORS.index(name)]) for name in CALL_ORDER)


def hook_calls(hook: str, modules) -> tuple[tuple[str, ...], Callable]:
    """(names, the straight-line function) calling ``hook`` of every module of
    ``modules`` ((name, module) pairs, in order) that defines it."""
    having = [(name, mod) for name, mod in modules if hasattr(mod, hook)]
    args = HOOKS[hook]
    calls = [(f"{name}_{hook}", getattr(mod, hook), args) for name, mod in having]
    return tuple(name for name, _ in having), straight_line_calls(f"{hook}s", args, calls)


def unknown_hooks(modules) -> list[str]:
    """``module.hook_x`` attributes that name no hook (a misspelt hook is never called)."""
    return [f"{name}.{a}" for name, mod in modules for a in dir(mod)
            if a.startswith("hook_") and a not in HOOKS]


if unknown_hooks(ORDERED):
    raise TypeError(f"estimator hooks not in kernel_tiers.HOOKS: {unknown_hooks(ORDERED)}")

_GENERATED = {hook: hook_calls(hook, ORDERED) for hook in HOOKS}
CALLED: dict[str, tuple[str, ...]] = {hook: names for hook, (names, _) in _GENERATED.items()}

hook_books = _GENERATED["hook_book"][1]
hook_trades = _GENERATED["hook_trade"][1]
hook_ctxs = _GENERATED["hook_ctx"][1]
hook_fills = _GENERATED["hook_fill"][1]
hook_warms = _GENERATED["hook_warm"][1]
hook_colds = _GENERATED["hook_cold"][1]


@njit(cache=True)
def warm_tier(state, cfg, t):
    """Every estimator's warm hook (event-time timer run by ``on_event``)."""
    hook_warms(state, cfg, t)


@njit(cache=True)
def cold_tier(state, cfg, t):
    """Every estimator's cold hook (event-time timer run by ``on_event``)."""
    hook_colds(state, cfg, t)
