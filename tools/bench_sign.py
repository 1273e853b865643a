"""Signing rate: ours vs the official SDK's `sign_l1_action`, side by side in one run.

A "signed single-order action" = one {"type":"order","orders":[1 order],"grouping":"na"}
action with a fresh nonce, hashed and ECDSA-signed to {"r","s","v"}. Actions come from
a pool of 1,000 distinct orders (random coins/prices/sizes/tifs/cloids) so nothing is
cached. Within each repeat ours / SDK / ours-end-to-end / bare sign take turns in
batches of 64 calls, and the medians over repeats are compared as ratios (figures drift
across runs on shared vCPUs; the ratio within a run is what to compare).

"bare sign" is the yardstick for the overhead around the elliptic-curve work: coincurve's
`sign_recoverable(digest, hasher=None)` alone (libsecp256k1's RFC 6979 recoverable sign)
over a pool of precomputed digests. ours / bare sign is the share of each action's time
spent in the sign itself (issue 18's goal: >= 0.8).

"ours, end to end" adds what the gateway does per order besides signing: price/size
rounding, float_to_wire, building the action and the /exchange body, JSON-encoding it.

    python -m tools.bench_sign [--seconds S] [--repeats N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time

import orjson

from appliance.hyperliquid.keys import SigningKey
from appliance.hyperliquid.nonces import NonceManager
from appliance.hyperliquid.signing import exchange_body, recover_l1_signer, sign_l1_action
from appliance.hyperliquid.wire import order_action, order_wire, round_px, round_sz
from tools.bench_ipc import machine_facts

BENCH_KEY_HEX = "0x0123456789012345678901234567890123456789012345678901234567890123"  # public test key
POOL_SIZE = 1_000


def _order_pool(seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    pool = []
    for i in range(POOL_SIZE):
        sz_decimals = rng.choice((5, 4, 2, 1, 0))
        px = rng.uniform(0.01, 120_000.0)
        sz = max(10.0 ** -sz_decimals, rng.uniform(0.0, 50.0))
        cloid = f"{rng.getrandbits(128):#034x}" if i % 2 else None
        pool.append((rng.randrange(0, 200), rng.random() < 0.5, px, sz, sz_decimals,
                     rng.random() < 0.2, rng.choice(("Alo", "Gtc", "Ioc")), cloid))
    return pool


def _actions(pool: list[tuple]) -> list[dict]:
    return [order_action([order_wire(a, b, round_px(px, szd), round_sz(sz, szd), r, tif, c)])
            for a, b, px, sz, szd, r, tif, c in pool]


def _rates(steps, seconds: float, batch: int = 64) -> list[tuple[float, float]]:
    """Calls of each step(i) per wall-clock second and per CPU second of this thread, the
    steps taking turns batch by batch for about `seconds` each: interleaved this finely,
    every signer meets the same load on a shared box, so their ratio is fair. The
    CPU-time rate is what one core does while other processes take turns on it."""
    n = [0] * len(steps)
    wall = [0.0] * len(steps)
    cpu = [0.0] * len(steps)
    i = 0
    deadline = time.perf_counter() + seconds * len(steps)
    while time.perf_counter() < deadline:
        for k, step in enumerate(steps):
            c0, t0 = time.thread_time(), time.perf_counter()
            for _ in range(batch):
                step(i)
                i += 1
            wall[k] += time.perf_counter() - t0
            cpu[k] += time.thread_time() - c0
            n[k] += batch
    return [(n[k] / wall[k], n[k] / max(cpu[k], 1e-9)) for k in range(len(steps))]


def run_sign_bench(seconds: float = 2.0, repeats: int = 5, json_out: str | None = None,
                   pin_cpu: bool = True) -> dict:
    """Measure ours and the SDK in alternating windows of `seconds` each, `repeats` times."""
    # Imported when the bench runs: eth_account and the SDK are slow to import.
    from eth_account import Account
    from hyperliquid.utils import signing as sdk  # yardstick only; the appliance never imports it

    if seconds <= 0 or repeats < 1:
        raise ValueError("seconds must be > 0 and repeats >= 1")
    old_affinity = os.sched_getaffinity(0)
    cpu = None
    if pin_cpu and len(old_affinity) > 1:
        cpu = max(old_affinity)
        os.sched_setaffinity(0, {cpu})
    try:
        key = SigningKey.from_hex(BENCH_KEY_HEX)
        wallet = Account.from_key(BENCH_KEY_HEX)
        pool = _order_pool()
        actions = _actions(pool)
        nonces = NonceManager()
        base_nonce = 1_700_000_000_000

        # Same bytes out for the same input, or the comparison is meaningless.
        for i in range(0, POOL_SIZE, 97):
            ours = sign_l1_action(key, actions[i], None, base_nonce + i, None, True)
            if ours != sdk.sign_l1_action(wallet, actions[i], None, base_nonce + i, None, True):
                raise AssertionError(f"signature mismatch with the SDK on pool action {i}")
            if recover_l1_signer(actions[i], None, base_nonce + i, None, True, ours) != key.address:
                raise AssertionError("recover mismatch")

        def ours_step(i: int) -> None:
            sign_l1_action(key, actions[i % POOL_SIZE], None, base_nonce + i, None, True)

        def sdk_step(i: int) -> None:
            sdk.sign_l1_action(wallet, actions[i % POOL_SIZE], None, base_nonce + i, None, True)

        digests = [os.urandom(32) for _ in range(POOL_SIZE)]
        secp = key._pk  # the yardstick calls coincurve's public API on the same key

        def bare_step(i: int) -> None:
            secp.sign_recoverable(digests[i % POOL_SIZE], hasher=None)

        def e2e_step(i: int) -> None:
            a, b, px, sz, szd, r, tif, c = pool[i % POOL_SIZE]
            action = order_action([order_wire(a, b, round_px(px, szd), round_sz(sz, szd), r, tif, c)])
            nonce = nonces.next()
            sig = sign_l1_action(key, action, None, nonce, None, True)
            orjson.dumps(exchange_body(action, nonce, sig, None, None))

        steps = (ours_step, sdk_step, e2e_step, bare_step)
        _rates(steps, min(0.2, seconds))  # warm-up
        names = ("ours", "sdk", "ours_end_to_end", "bare_sign")
        runs: dict[str, list[float]] = {k: [] for k in names}
        cpu_runs: dict[str, list[float]] = {k: [] for k in names}
        started = time.time()
        for _ in range(repeats):
            for name, (wall, cpu_rate) in zip(names, _rates(steps, seconds), strict=True):
                runs[name].append(wall)
                cpu_runs[name].append(cpu_rate)
    finally:
        if cpu is not None:
            os.sched_setaffinity(0, old_affinity)

    med = {k: statistics.median(v) for k, v in runs.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu_runs.items()}
    load1 = os.getloadavg()[0]
    # Imported for the machine description only.
    from importlib.metadata import version

    result = {
        "what": "signed single-order L1 actions per second, one core",
        "window_s": seconds,
        "repeats": repeats,
        "pinned_cpu": cpu,
        "started_unix": started,
        "per_s": {k: [round(x, 1) for x in v] for k, v in runs.items()},
        "median_per_s": {k: round(v, 1) for k, v in med.items()},
        "per_cpu_s": {k: [round(x, 1) for x in v] for k, v in cpu_runs.items()},
        "median_per_cpu_s": {k: round(v, 1) for k, v in cpu_med.items()},
        "ratio_ours_vs_sdk": round(med["ours"] / med["sdk"], 1),
        "ratio_end_to_end_vs_sdk": round(med["ours_end_to_end"] / med["sdk"], 1),
        "ratio_ours_vs_sdk_cpu": round(cpu_med["ours"] / cpu_med["sdk"], 1),
        # per repeat, windows side by side; the median of those ratios
        "ratio_ours_vs_bare_sign": round(statistics.median(
            o / b for o, b in zip(runs["ours"], runs["bare_sign"], strict=True)), 3),
        "ratio_ours_vs_bare_sign_cpu": round(statistics.median(
            o / b for o, b in zip(cpu_runs["ours"], cpu_runs["bare_sign"], strict=True)), 3),
        "goal_ratio_vs_bare_sign": 0.8,
        "loadavg_1min_after": round(load1, 2),
        "goal_per_s": 20_000,
        "goal_met": med["ours"] >= 20_000,
        "goal_met_per_cpu_s": cpu_med["ours"] >= 20_000,
        "versions": {p: version(p) for p in ("hyperliquid-python-sdk", "eth-account", "coincurve",
                                              "safe-pysha3", "msgpack")},
        "machine": machine_facts(),
    }
    if json_out:
        with open(json_out, "w") as f:
            json.dump(result, f, indent=2)
    return result


def render(result: dict) -> str:
    med, per, cpu = result["median_per_s"], result["per_s"], result["median_per_cpu_s"]
    lines = [f"{result['what']} (window {result['window_s']} s x {result['repeats']} repeats, "
             f"cpu {result['pinned_cpu']}, load {result['loadavg_1min_after']})",
             f"{'signer':<18}{'median /s':>11}{'/cpu-s':>10}   runs (/s, wall clock)"]
    for name in ("ours", "ours_end_to_end", "sdk", "bare_sign"):
        lines.append(f"{name:<18}{med[name]:>11,.0f}{cpu[name]:>10,.0f}   "
                     + ", ".join(f"{x:,.0f}" for x in per[name]))
    lines.append(f"ours / sdk = {result['ratio_ours_vs_sdk']}x (cpu-s: {result['ratio_ours_vs_sdk_cpu']}x)"
                 f"   end-to-end / sdk = {result['ratio_end_to_end_vs_sdk']}x"
                 f"   goal >= 20,000/s: {'met' if result['goal_met'] else 'NOT met'} wall, "
                 f"{'met' if result['goal_met_per_cpu_s'] else 'NOT met'} per cpu-s")
    lines.append(f"ours / bare sign = {result['ratio_ours_vs_bare_sign']} wall, "
                 f"{result['ratio_ours_vs_bare_sign_cpu']} per cpu-s (goal >= "
                 f"{result['goal_ratio_vs_bare_sign']}: the rest is Python around the sign)")
    m = result["machine"]
    lines.append(f"machine: {m['cpu_model']}, {m['nproc']} CPUs, Python {m['python']}, kernel {m['kernel']}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print(render(run_sign_bench(args.seconds, args.repeats, args.json)))


if __name__ == "__main__":
    main()
