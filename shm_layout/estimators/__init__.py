"""The estimator registry: every estimator's declared state and config, in one tuple.

Each module here declares one estimator and nothing else (numpy and dataclasses):
``NAME`` (its field in the state record and its ``[estimator.<NAME>]`` table),
``STATE`` (a numpy record dtype of named fields, times in int64 ns) and ``CONFIG``
(a frozen dataclass, or None). Its numba kernels live in the module of the same name
under ``appliance/estimator/``: ``init``, ``config_values``, ``publish`` for its
MarketParams fields, which the kernel's cold start and MarketParams writer walk in
this order, and the hooks it takes part in (``hook_book``, ``hook_trade``, ``hook_ctx``,
``hook_fill``, ``hook_warm``, ``hook_cold``), which the kernel's tiers call in
``CALL_ORDER`` (``appliance/estimator/kernel_tiers.py``).

Derived from ``ESTIMATORS`` (add an estimator: its two modules, one name below and one
in ``CALL_ORDER``, its MarketParams fields in ``shm_layout/records/market_params.py``):
  * ``ESTIMATOR_STATE``, one coin's state: the kernel's ``header`` then one field per
    estimator, in this order;
  * ``LAYOUT_DIRECTORY``, (name, layout hash) per estimator, stored near the front
    of each coin's block in shared memory, so a build whose estimator dtypes differ
    is told which estimator changed (``changed_estimators``), and the segment's
    layout hash (``shm_layout.segments``) covers every field of every estimator;
  * ``EstimatorConfig``, the ``[estimator]`` table of the configuration schema (and so
    ``ops/default.toml``, which a test holds equal to it).
"""

import dataclasses
import importlib
from types import ModuleType

import numpy as np

from ..describe import describe, text_hash
from . import header

# The estimators, in state order. Append-only is not required: a changed order changes
# the layout hash and the directory, so old state is refused by name, never misread.
ESTIMATORS: tuple[str, ...] = (
    "vol",
    "regime",
    "volclock",
    "kappa",
    "microprice",
    "flow",
    "hawkes",
    "funding",
    "spread",
    "cascade",
    "adverse_selection",
    "toxicity",
    "queue_position",
    "book_micro",
    "drift_kalman",
    "correlation",
    "fill_size",
    "drift_skill",
)

# The order in which the kernel's tiers call the estimators' hooks (each hook: every
# estimator that defines it, in this order). A hook reads the whole coin state, so
# where one estimator's hook reads another's state, this order alone decides whether
# it sees the value after this event (or warm run) or the one before. Not the state
# order, which would put kappa before flow and cascade before toxicity: changing the
# state order changes the layout (old state refused, started cold), so the calls get
# their own order. Who reads whom (the state order kept where free; the pairs are held
# by tests/estimator/test_kernel_tiers.py):
CALL_ORDER: tuple[str, ...] = (
    "vol",  # warm: reads the toxicity of the previous warm run (so before toxicity)
    "regime",  # book: folds vol's sample of this event (after vol)
    "volclock",
    "flow",
    "kappa",  # trade: flow's trade rate with this trade in it (after flow); warm: flow
    "microprice",  # warm: regime, flow, the book
    "hawkes",
    "funding",
    "spread",
    "adverse_selection",
    "toxicity",  # warm: spread's fair spread of this run (after spread), the cascade
    # severity and the drift of the previous run (before cascade and drift_kalman);
    # fill: the drift before this fill (before drift_kalman); regime, funding, flow
    "cascade",  # warm: vol, funding, flow (none changed by a warm hook)
    "queue_position",
    "book_micro",
    "drift_kalman",  # book: book_micro's observations of this event, flow, kappa (after
    # all three); warm: hawkes, fill_size, basis; cold: lead-lag, funding; fill: vol
    "correlation",
    "fill_size",
    "drift_skill",  # cold: the drift's mu and theta after drift_kalman's cold run, the mid
)
if sorted(CALL_ORDER) != sorted(ESTIMATORS):
    _missing, _unknown = set(ESTIMATORS) - set(CALL_ORDER), set(CALL_ORDER) - set(ESTIMATORS)
    raise ValueError(f"CALL_ORDER must name every estimator once: missing {_missing}, unknown {_unknown}")

REGISTRY: tuple[ModuleType, ...] = tuple(importlib.import_module(f"{__name__}.{m}") for m in ESTIMATORS)

MAX_ESTIMATORS = 32  # entries of the layout directory (header included)
ESTIMATOR_NAME_BYTES = 24

ESTIMATOR_STATE = np.dtype(
    [(header.NAME, header.STATE)] + [(m.NAME, m.STATE) for m in REGISTRY], align=True
)

# One entry of the directory: which estimator, and the hash of its state dtype.
LAYOUT_ENTRY = np.dtype([("name", f"S{ESTIMATOR_NAME_BYTES}"), ("layout_hash", "<u8")])


def layout_directory(state_dtype: np.dtype = ESTIMATOR_STATE) -> np.ndarray:
    """(name, hash of its dtype and offset) for each field of a coin's state record."""
    names = state_dtype.names
    assert len(names) <= MAX_ESTIMATORS, len(names)
    d = np.zeros(MAX_ESTIMATORS, LAYOUT_ENTRY)
    for i, name in enumerate(names):
        sub, offset = state_dtype.fields[name][:2]
        d[i]["name"] = name.encode()
        d[i]["layout_hash"] = text_hash(f"@{offset}:{describe(sub)}")
    return d


LAYOUT_DIRECTORY = layout_directory()


def changed_estimators(stored: np.ndarray, built: np.ndarray = LAYOUT_DIRECTORY) -> list[str]:
    """Names of the estimators whose stored layout differs from this build's (added,
    removed, resized, retyped, renamed fields or moved), each with both hashes."""
    old = {bytes(e["name"]).decode(): int(e["layout_hash"]) for e in stored if e["name"]}
    new = {bytes(e["name"]).decode(): int(e["layout_hash"]) for e in built if e["name"]}
    out = []
    for name in list(new) + [n for n in old if n not in new]:
        a, b = old.get(name), new.get(name)
        if a != b:
            was = f"{a:#018x}" if a is not None else "absent"
            now = f"{b:#018x}" if b is not None else "absent"
            out.append(f"{name} (stored {was}, this build {now})")
    return out


def _config_fields() -> list[tuple]:
    fields: list[tuple] = [(n, t, dataclasses.field(default=d)) for n, t, d in header.GENERAL_SETTINGS]
    fields.append((header.CONFIG_SECTION, header.CONFIG, dataclasses.field(default_factory=header.CONFIG)))
    fields += [(m.NAME, m.CONFIG, dataclasses.field(default_factory=m.CONFIG))
               for m in REGISTRY if m.CONFIG is not None]
    return fields


# The [estimator] table: the general settings, [estimator.tiers], then one sub-table per
# estimator with settings, in registry order.
EstimatorConfig = dataclasses.make_dataclass("EstimatorConfig", _config_fields(), frozen=True)
EstimatorConfig.__module__ = __name__

__all__ = [
    "CALL_ORDER",
    "ESTIMATORS",
    "ESTIMATOR_STATE",
    "LAYOUT_DIRECTORY",
    "LAYOUT_ENTRY",
    "MAX_ESTIMATORS",
    "REGISTRY",
    "EstimatorConfig",
    "changed_estimators",
    "header",
    "layout_directory",
]
