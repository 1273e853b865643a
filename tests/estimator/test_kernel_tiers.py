"""The kernel's tiers are generated from the registry: each hook calls exactly the
estimators whose kernel module defines it, in ``CALL_ORDER``, and nothing else."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from numba import njit

from appliance.config import load_config
from appliance.estimator import kernel, kernel_tiers
from appliance.estimator.kernel_config import KERNELS
from appliance.estimator.kernel_tiers import CALLED, HOOKS, hook_calls, unknown_hooks
from shm_layout import records
from shm_layout.constants import EV_BOOK
from shm_layout.estimators import CALL_ORDER, ESTIMATORS

GENERATED = {
    "hook_book": kernel_tiers.hook_books,
    "hook_trade": kernel_tiers.hook_trades,
    "hook_ctx": kernel_tiers.hook_ctxs,
    "hook_fill": kernel_tiers.hook_fills,
    "hook_warm": kernel_tiers.hook_warms,
    "hook_cold": kernel_tiers.hook_colds,
}


def _kernel(name):
    return KERNELS[ESTIMATORS.index(name)]


def test_call_order_when_registry_loaded_then_every_estimator_once():
    assert sorted(CALL_ORDER) == sorted(ESTIMATORS) and len(set(CALL_ORDER)) == len(ESTIMATORS)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_tier_when_generated_then_calls_exactly_the_estimators_defining_the_hook_in_call_order(hook):
    defining = tuple(n for n in CALL_ORDER if hasattr(_kernel(n), hook))
    assert CALLED[hook] == defining
    gen = GENERATED[hook]
    assert gen.callees == tuple(getattr(_kernel(n), hook) for n in defining)
    assert all(f.targetoptions.get("inline") == "always" for f in gen.callees)  # as fast as written out
    body = [line.strip() for line in gen.source.split("\n\n")[0].splitlines()[1:-1]]
    assert body == [f"{n}_{hook}({HOOKS[hook]})" for n in defining]


def test_tiers_when_kernel_loaded_then_every_hook_has_a_caller_and_every_estimator_a_hook():
    assert all(CALLED[h] for h in HOOKS)  # no hook nobody defines
    called = {n for names in CALLED.values() for n in names}
    # correlation runs across coins (kernel_cross); every other estimator takes part in a tier
    assert called == set(ESTIMATORS) - {"correlation"}


# Where one estimator's hook reads another's state, the order decides which value it
# sees (shm_layout.estimators.CALL_ORDER says why): (hook, runs first, runs after).
READS_IN_ORDER = [
    ("hook_book", "vol", "regime"),  # regime folds this event's volatility sample
    ("hook_book", "book_micro", "drift_kalman"),  # this event's book observations
    ("hook_book", "kappa", "drift_kalman"),
    ("hook_trade", "flow", "kappa"),  # the trade rate with this trade in it
    ("hook_warm", "vol", "toxicity"),  # vol's blend: the previous run's toxicity
    ("hook_warm", "spread", "toxicity"),  # this run's fair spread
    ("hook_warm", "toxicity", "cascade"),  # toxicity: the previous run's severity
    ("hook_warm", "toxicity", "drift_kalman"),  # ... and drift
    ("hook_fill", "toxicity", "drift_kalman"),  # the drift before this fill
]


@pytest.mark.parametrize(("hook", "first", "then"), READS_IN_ORDER)
def test_call_order_when_a_hook_reads_another_estimator_then_order_as_documented(hook, first, then):
    assert CALLED[hook].index(first) < CALLED[hook].index(then)


def _recorder(k):
    @njit
    def hook(state, cfg, t):
        n = int(state[0])
        state[1 + n] = k
        state[0] = n + 1

    return hook


def test_generator_when_three_modules_then_calls_those_with_the_hook_in_order_inside_numba():
    modules = [("a", SimpleNamespace(hook_warm=_recorder(1.0), hook_cold=_recorder(10.0))),
               ("b", SimpleNamespace(hook_cold=_recorder(20.0))),
               ("c", SimpleNamespace(hook_warm=_recorder(3.0), hook_cold=_recorder(30.0)))]
    warm_names, warm = hook_calls("hook_warm", modules)
    cold_names, cold = hook_calls("hook_cold", modules)
    assert warm_names == ("a", "c") and cold_names == ("a", "b", "c")

    @njit
    def run(state, cfg, t):
        warm(state, cfg, t)
        cold(state, cfg, t)

    state = np.zeros(8)
    run(state, 0.0, 1.0)
    assert list(state[:6]) == [5.0, 1.0, 3.0, 10.0, 20.0, 30.0]
    with pytest.raises(NotImplementedError):
        warm(state, 0.0, 1.0)  # only inside numba


def test_unknown_hooks_when_a_module_misspells_a_hook_then_named():
    modules = [("x", SimpleNamespace(hook_warm=None, hook_warmm=None, hook=None))]
    assert unknown_hooks(modules) == ["x.hook_warmm"]
    assert unknown_hooks(kernel_tiers.ORDERED) == []


def test_architecture_when_it_lists_each_hooks_estimators_then_as_generated():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md").read_text()
    rows = [r.split("|") for r in doc.splitlines() if r.startswith("| `hook_")]
    table = {r[1].strip().strip("`").split("(")[0]: tuple(n.strip() for n in r[3].split(",")) for r in rows}
    assert table == CALLED


def _book(t_ns, mid):
    ev = np.zeros(1, records.MD_EVENT)
    ev["kind"], ev["n_bids"], ev["n_asks"], ev["exch_ts_ns"] = EV_BOOK, 1, 1, t_ns
    ev["lv"]["bid_px"][0, 0], ev["lv"]["ask_px"][0, 0] = mid - 0.5, mid + 0.5
    ev["lv"]["bid_sz"][0, 0], ev["lv"]["ask_sz"][0, 0] = 1.0, 1.0
    return ev[0]


def test_regime_when_books_share_timestamps_then_one_update_per_volatility_sample():
    cfg = kernel.config_vector(load_config().estimator)
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    rng = np.random.default_rng(2)
    t = 1_000_000_000
    for i in range(300):
        t += int(rng.choice([0, 0, 250_000_000, 1_000_000_000]))  # same instant, too soon, a sample
        kernel.on_event(state, cfg, _book(t, 100.0 + rng.normal(0.0, 0.2)))
        assert state["regime"]["n_samples"] == state["vol"]["n_samples"], i
    assert state["vol"]["n_samples"] > 50
