"""`mmctl bench estimators`: events/s through the full estimator stack on a real capture,
the cost of each tier, and the warm-start time after a restart (one process)."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
from numba import njit

from appliance.config import load_config
from appliance.estimator import kernel
from shm_layout import records

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_SOURCE = DATA / "binance_usdm" / "btcusdt_20240808.gz"


@njit(cache=True)
def run_all(state, cfg, evs, out, publish_every):
    for i in range(evs.shape[0]):
        kernel.on_event(state, cfg, evs[i])
        if i % publish_every == 0:
            kernel.write_params(state, cfg, 0, out[0], i)
    return evs.shape[0]


@njit(cache=True)
def run_warm(state, cfg, t_ns, n):
    for i in range(n):
        kernel.warm_tier(state, cfg, t_ns + i)


@njit(cache=True)
def run_cold(state, cfg, t_ns, n):
    for i in range(n):
        kernel.cold_tier(state, cfg, t_ns + i)


@njit(cache=True)
def run_publish(state, cfg, out, n):
    for i in range(n):
        kernel.write_params(state, cfg, 0, out[0], i)


def load_events(source: str, passes: int) -> np.ndarray:
    # Imported when a capture is read (the feed package is not needed otherwise).
    from appliance.feed.events import concat_events
    from appliance.feed.sources import open_source

    one = concat_events(list(open_source(f"replay:{source}", ["BTC"]).chunks(65536)))
    span = int(one["exch_ts_ns"][-1] - one["exch_ts_ns"][0]) + 1_000_000_000
    parts = []
    for k in range(passes):  # repeat the capture later in time, so time keeps running
        p = one.copy()
        p["exch_ts_ns"] += k * span
        parts.append(p)
    return concat_events(parts)


def run_estimators_bench(source: str | None = None, passes: int = 10, json_out: str | None = None) -> dict:
    src = str(source or DEFAULT_SOURCE)
    if not Path(src).exists():
        raise FileNotFoundError(f"capture not found: {src}")
    est = load_config().estimator
    cfg = kernel.config_vector(est)
    evs = load_events(src, passes)
    out = np.zeros(1, records.MARKET_PARAMS)
    states = kernel.new_states(1)
    state = states[0]
    kernel.init_state(state, cfg)
    run_all(state, cfg, evs[:2000], out, 64)  # compile / load from cache
    run_warm(states.copy()[0], cfg, 0.0, 1)
    run_cold(states.copy()[0], cfg, 0.0, 1)
    run_publish(state, cfg, out, 1)
    res: dict = {"source": src, "passes": passes, "machine": platform.machine(),
                 "cpu": platform.processor() or platform.machine(), "python": platform.python_version()}
    # Full stack: every tier, MarketParams published every 64 events (conflation).
    kernel.init_state(state, cfg)
    t0 = time.perf_counter()
    n = run_all(state, cfg, evs, out, 64)
    full_s = time.perf_counter() - t0
    n_warm, n_cold = state["header"]["n_warm"], state["header"]["n_cold"]
    res.update(events=int(n), seconds=round(full_s, 4), events_per_s=round(n / full_s),
               ns_per_event=round(full_s / n * 1e9, 1), warm_runs=int(n_warm), cold_runs=int(n_cold))
    # Tier costs, each timed alone on the warmed state.
    reps = 20_000
    t0 = time.perf_counter()
    run_warm(states.copy()[0], cfg, float(state["header"]["last_event_ts_ns"]), reps)
    warm_ns = (time.perf_counter() - t0) / reps * 1e9
    t0 = time.perf_counter()
    run_cold(states.copy()[0], cfg, float(state["header"]["last_event_ts_ns"]), 2000)
    cold_ns = (time.perf_counter() - t0) / 2000 * 1e9
    t0 = time.perf_counter()
    run_publish(state, cfg, out, reps)
    pub_ns = (time.perf_counter() - t0) / reps * 1e9
    # Hot tier: the full-stack time minus the warm, cold and publish work it did.
    hot_ns = (full_s * 1e9 - n_warm * warm_ns - n_cold * cold_ns - (n / 64) * pub_ns) / n
    res["tier_ns"] = {"hot_per_event": round(hot_ns, 1), "warm_per_run": round(warm_ns, 1),
                      "cold_per_run": round(cold_ns, 1), "write_params": round(pub_ns, 1)}
    # Warm start: a restarted estimator attaches the state words and publishes valid
    # params at once; a cold one needs this many events (and event seconds) first.
    saved = states.copy()
    throwaway = saved.copy()[0]  # the first Python-level call of a signature dispatches slowly
    kernel.on_event(throwaway, cfg, evs[-1])
    kernel.write_params(throwaway, cfg, 0, out[0], 1)
    t0 = time.perf_counter()
    resumed_states = kernel.new_states(1)
    resumed_states[:] = saved  # what attaching the shared-memory state amounts to
    resumed = resumed_states[0]
    kernel.on_event(resumed, cfg, evs[-1])
    kernel.write_params(resumed, cfg, 0, out[0], 1)
    warm_start_us = (time.perf_counter() - t0) * 1e6
    warm_valid = int(out[0]["valid"])
    fresh = kernel.new_states(1)[0]
    kernel.init_state(fresh, cfg)
    k = 0
    while k < len(evs):
        kernel.on_event(fresh, cfg, evs[k])
        k += 1
        if k % 16 == 0:
            kernel.write_params(fresh, cfg, 0, out[0], 1)
            if out[0]["valid"]:
                break
    cold_s = (evs[k - 1]["exch_ts_ns"] - evs[0]["exch_ts_ns"]) / 1e9
    res["warm_start"] = {"us_to_valid_params": round(warm_start_us, 1),
                         "valid_after_1_event": bool(warm_valid),
                         "cold_start_events_to_valid": k,
                         "cold_start_event_s_to_valid": round(cold_s, 1)}
    res["warm_start"]["restart"] = measure_restart(saved, cfg, evs[-1:])
    if json_out:
        Path(json_out).write_text(json.dumps(res, indent=2))
    return res


def measure_restart(saved: np.ndarray, cfg: np.void, last_event: np.ndarray) -> dict:
    """A real restart: the warmed state goes into a shared-memory ESTIMATOR_BLOCK; a
    new process attaches it (no init), folds one event and publishes. Reports the
    child's time from attach to valid params, and its whole life (imports, numba cache)."""
    # Imported for the restart measurement only.
    import subprocess
    import sys
    import tempfile
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=records.ESTIMATOR_BLOCK.itemsize)
    try:
        block = np.ndarray(1, records.ESTIMATOR_BLOCK, buffer=shm.buf)
        block[0]["state"] = saved[0]
        block[0]["initialized"] = 1
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/cfg.npy", np.array(cfg))
            ev = np.zeros(1, records.MD_EVENT)  # the padded record layout, byte for byte
            ev[0] = last_event[0]
            ev.view(np.uint8).tofile(f"{tmp}/ev.bin")
            root = str(Path(__file__).resolve().parents[1])
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "tools.bench_estimators", "--restart-child",
                                  shm.name, tmp], cwd=root, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"restart child failed:\n{out.stderr[-2000:]}")
            life_s = time.perf_counter() - t0
        child = json.loads(out.stdout.strip().splitlines()[-1])
        del block
    finally:
        shm.close()
        shm.unlink()
    return {**child, "process_life_s": round(life_s, 3)}


def _restart_child(name: str, tmp: str) -> None:
    # Imported in the restarted child: its start-up is part of what is timed.
    from multiprocessing import resource_tracker, shared_memory

    t_start = time.perf_counter()
    cfg = np.load(f"{tmp}/cfg.npy")[()]
    ev = np.fromfile(f"{tmp}/ev.bin", np.uint8).view(records.MD_EVENT)
    out = np.zeros(1, records.MARKET_PARAMS)
    scratch = kernel.new_states(1)[0]  # load the kernels (numba cache) before timing
    kernel.init_state(scratch, cfg)
    kernel.on_event(scratch, cfg, ev[0])
    kernel.write_params(scratch, cfg, 0, out[0], 1)
    t_loaded = time.perf_counter()
    t0 = time.perf_counter()
    shm = shared_memory.SharedMemory(name=name)
    resource_tracker.unregister(shm._name, "shared_memory")  # the parent owns it
    block = np.ndarray(1, records.ESTIMATOR_BLOCK, buffer=shm.buf)
    state = block[0]["state"]  # attached, not copied: the estimator process's view
    assert block[0]["initialized"] == 1
    n_before = int(state["header"]["n_events"])
    kernel.on_event(state, cfg, ev[0])
    kernel.write_params(state, cfg, 0, out[0], 2)
    us = (time.perf_counter() - t0) * 1e6
    res = {"attach_to_valid_params_us": round(us, 1), "valid_after_1_event": bool(out[0]["valid"]),
           "events_before_restart": n_before, "kernel_load_s": round(t_loaded - t_start, 3)}
    del state, block
    shm.close()
    print(json.dumps(res))


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "--restart-child":
        _restart_child(sys.argv[2], sys.argv[3])
