"""`mmctl bench quote`: one full ladder computation (5 levels a side) in microseconds.

Each sample times one ``compute_ladder`` call with ``time.perf_counter_ns`` around an
njit call from Python would measure the interpreter, so the timing loop is in njit:
it reads the monotonic clock around each call (clock cost reported and subtracted)
and varies the position and drift so the branches move.
"""

from __future__ import annotations

import json
import platform
import time

import numpy as np
from numba import njit

from appliance.config import load_config, sizing
from appliance.ipc.timing import monotonic_ns
from appliance.quote import kernel
from shm_layout import records

NOW = 10_000_000_000


def bench_params() -> np.ndarray:
    p = np.zeros(1, records.MARKET_PARAMS)
    for k, v in dict(valid=1, mid_px=100_000.5, microprice_px=100_000.5, best_bid_px=100_000.0,
                     best_ask_px=100_001.0, sigma_clean_bps_per_sqrt_s=1.0, kappa_per_bps=0.2,
                     kappa_bid_per_bps=0.2, kappa_ask_per_bps=0.25, tick_size_px=1.0,
                     update_mono_ns=NOW, gamma_multiplier=1.0, spread_multiplier=1.0,
                     tail_risk_multiplier=1.0, as0_bps=1.0, as_delta_char_bps=5.0,
                     toxicity_bid=0.3, toxicity_ask=0.4, as_ratio_adjustment=1.0,
                     spread_bps=0.1, event_ts_ns=1_700_000_000_000_000_000).items():
        p[k] = v
    return p


@njit(cache=True)
def _timed(p, acct, cfg, out, n, samples_ns, max_pos):
    clock = 1 << 62
    for _ in range(1000):  # the cost of one clock read pair
        t0 = monotonic_ns()
        t1 = monotonic_ns()
        if t1 - t0 < clock:
            clock = t1 - t0
    levels = 0
    for i in range(n):
        pos = max_pos * (((i * 7919) % 1000) / 1000.0 - 0.5) * 0.6  # within +-30 %
        p.drift_bps_per_s = ((i * 104729) % 200) / 100.0 - 1.0
        t0 = monotonic_ns()
        kernel.compute_ladder(p, pos, acct, cfg, 0, 0, NOW, out)
        t1 = monotonic_ns()
        samples_ns[i] = t1 - t0 - clock
        levels += out.n_bids + out.n_asks
    return clock, levels


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_quote_bench(calls: int = 200_000, json_out: str | None = None) -> dict:
    c = load_config()
    cfg = kernel.config_vector(c.quote, c.risk)
    p = bench_params()
    out = np.zeros(1, records.TARGET_LADDER)
    acct = kernel.account_unknown()
    t0 = time.perf_counter()
    samples = np.zeros(calls, np.int64)
    max_pos = sizing.max_position_sz(c.risk, float(p[0]["mid_px"]))
    _timed(p[0], acct, cfg, out[0], 100, samples, max_pos)  # compile / load
    compile_s = time.perf_counter() - t0
    clock_ns, levels = _timed(p[0], acct, cfg, out[0], calls, samples, max_pos)
    us = samples / 1000.0
    result = {
        "bench": "quote",
        "calls": calls,
        "levels_per_side": c.quote.n_levels,
        "mean_levels_quoted": levels / calls,
        "median_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "p999_us": float(np.percentile(us, 99.9)),
        "mean_us": float(np.mean(us)),
        "clock_overhead_ns": int(clock_ns),
        "goal_us": 20.0,
        "compile_or_load_s": round(compile_s, 2),
        "machine": {"cpu": _cpu_model(), "python": platform.python_version(),
                    "system": f"{platform.system()} {platform.release()}"},
        "command": f"mmctl bench quote --calls {calls}",
    }
    if json_out:
        with open(json_out, "w") as f:
            json.dump(result, f, indent=2)
    return result


def render(r: dict) -> str:
    return (f"quote kernel: one ladder ({r['levels_per_side']} levels a side, "
            f"{r['mean_levels_quoted']:.1f} quoted on average) over {r['calls']} calls\n"
            f"  median {r['median_us']:.2f} us   p99 {r['p99_us']:.2f} us   "
            f"p99.9 {r['p999_us']:.2f} us   (goal <= {r['goal_us']:.0f} us; "
            f"clock overhead {r['clock_overhead_ns']} ns subtracted)")


if __name__ == "__main__":
    print(render(run_quote_bench()))
