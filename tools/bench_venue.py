"""Signed orders the local venue accepts per second, signature verification on.

The venue runs as its own process (``python -m appliance.venue``, synthetic market,
speed 1), as ``mmctl venue`` does. The client pre-signs every request with the
appliance's signer (signing is not what is measured), then posts them over
keep-alive HTTP from ``--concurrency`` connections. Each round is a post-only
order placed far from the market (it rests) followed by its cancel, so the book
never fills up; both are full ``/exchange`` requests: body parse, EIP-712 recover
(msgpack + keccak + secp256k1), nonce set, address cap, engine call, response,
orderUpdates fan-out. Also timed in-process: ``recover_l1_signer`` alone.

    python tools/bench_venue.py [--orders 3000] [--concurrency 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

from appliance.hyperliquid.demo_key import DEMO_ADDRESS, DEMO_PRIVATE_KEY_HEX
from appliance.hyperliquid.keys import SigningKey
from appliance.hyperliquid.nonces import NonceManager
from appliance.hyperliquid.signing import exchange_body, recover_l1_signer, sign_l1_action
from appliance.hyperliquid.wire import float_to_wire

REPO = Path(__file__).resolve().parents[1]


# The venue's real limits (1200 weight/min per IP, 10 000 requests per address) would
# cap the run at 20 requests/s: raised here so that throughput is what is measured.
BENCH_CONFIG = """
[venue]
ip_weight_per_min = 1000000000
address_base_cap = 1000000000
"""


def start_venue(config_path: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "appliance.venue", "--port", "0", "--source", "synthetic",
                             "--config", config_path],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening on (http://[\d.]+:\d+)", line or "")
        if m:
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("venue did not start")


def _signed(key, nonces, action) -> bytes:
    n = nonces.next()
    sig = sign_l1_action(key, action, None, n, None, False)
    return orjson.dumps(exchange_body(action, n, sig, None, None))


async def _run(url: str, n_orders: int, concurrency: int) -> dict:
    key = SigningKey.from_hex(DEMO_PRIVATE_KEY_HEX)
    nonces = NonceManager()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        async with s.post(url + "/info", json={"type": "allMids"}) as r:
            mid = float((await r.json())["BTC"])
        px = float_to_wire(float(round(mid * 0.9)))
        t_sign = time.perf_counter()
        bodies = []
        for i in range(n_orders):
            cloid = f"0x{i + 1:032x}"
            order = {"type": "order", "orders": [{"a": 0, "b": True, "p": px, "s": "0.001", "r": False,
                                                   "t": {"limit": {"tif": "Alo"}}, "c": cloid}],
                     "grouping": "na"}
            cancel = {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": cloid}]}
            bodies.append((_signed(key, nonces, order), _signed(key, nonces, cancel)))
        sign_s = time.perf_counter() - t_sign
        headers = {"Content-Type": "application/json"}
        queue: asyncio.Queue = asyncio.Queue()
        for b in bodies:
            queue.put_nowait(b)
        counts = {"resting": 0, "canceled": 0, "other": 0}

        async def worker():
            while not queue.empty():
                order_body, cancel_body = queue.get_nowait()
                async with s.post(url + "/exchange", data=order_body, headers=headers) as r:
                    resp = await r.json()
                st = resp.get("response", {}).get("data", {}).get("statuses", [{}])[0] \
                    if isinstance(resp, dict) and resp.get("status") == "ok" else {}
                counts["resting" if "resting" in st else "other"] += 1
                async with s.post(url + "/exchange", data=cancel_body, headers=headers) as r:
                    resp = await r.json()
                ok = isinstance(resp, dict) and resp.get("status") == "ok" and \
                    resp["response"]["data"]["statuses"] == ["success"]
                counts["canceled" if ok else "other"] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"orders": n_orders, "concurrency": concurrency, "wall_s": round(wall, 3),
            "orders_accepted": counts["resting"], "cancels_accepted": counts["canceled"],
            "rejected": counts["other"],
            "orders_accepted_per_s": round(counts["resting"] / wall, 1),
            "signed_requests_per_s": round((counts["resting"] + counts["canceled"]) / wall, 1),
            "client_sign_per_s": round(2 * n_orders / sign_s, 1)}


def handler_rate(n_orders: int = 2000) -> float:
    """Signed requests/s through the /exchange handler alone (no HTTP), same workload."""
    # Imported when this measurement runs: the server pulls in aiohttp and the matching core.
    from appliance.venue.server.app import VenueServer
    from appliance.venue.server.exchange import handle_exchange
    from appliance.venue.server.settings import VenueSettings

    s = VenueSettings(port=0, funded=(f"{DEMO_ADDRESS}:1000000",), ip_weight_per_min=10**9,
                      address_base_cap=10**9)
    server = VenueServer(s)
    state = server.state
    state.on_market(next(server.source.chunks()))
    px = float_to_wire(float(round(state.mid("BTC") * 0.9)))
    key, nonces = SigningKey.from_hex(DEMO_PRIVATE_KEY_HEX), NonceManager()
    bodies = []
    for i in range(n_orders):
        cloid = f"0x{i + 1:032x}"
        order = {"type": "order", "orders": [{"a": 0, "b": True, "p": px, "s": "0.001", "r": False,
                                               "t": {"limit": {"tif": "Alo"}}, "c": cloid}], "grouping": "na"}
        bodies += [_signed(key, nonces, order),
                   _signed(key, nonces, {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": cloid}]})]
    t0 = time.perf_counter()
    for b in bodies:
        status, resp = handle_exchange(state, orjson.loads(b), "127.0.0.1")
        assert status == 200 and resp["status"] == "ok", resp
    return len(bodies) / (time.perf_counter() - t0)


def recover_rate(n: int = 2000) -> float:
    key = SigningKey.from_hex(DEMO_PRIVATE_KEY_HEX)
    action = {"type": "order", "orders": [{"a": 0, "b": True, "p": "90000", "s": "0.001", "r": False,
                                           "t": {"limit": {"tif": "Alo"}}}], "grouping": "na"}
    sig = sign_l1_action(key, action, None, 1_700_000_000_000, None, False)
    t0 = time.perf_counter()
    for _ in range(n):
        assert recover_l1_signer(action, None, 1_700_000_000_000, None, False, sig) == DEMO_ADDRESS
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--json", default=None, metavar="OUT")
    a = ap.parse_args(argv)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(BENCH_CONFIG)
    proc, url = start_venue(f.name)
    try:
        asyncio.run(_run(url, 200, a.concurrency))  # warm-up: numba kernels, caches
        out = asyncio.run(_run(url, a.orders, a.concurrency))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        os.unlink(f.name)
    out["recover_l1_signer_per_s"] = round(recover_rate(), 1)
    out["handler_signed_requests_per_s"] = round(handler_rate(), 1)
    out["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                      "python": platform.python_version(), "system": platform.platform()}
    print(json.dumps(out, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
