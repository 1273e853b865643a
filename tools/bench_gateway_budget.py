"""Gateway request budget: the address requests per minute a default ``mmctl start``
spends at the local venue (actions only: a batch of n orders/cancels/modifies counts n,
as the venue's address cap counts them), read from the venue's own ``userRateLimit``.

``python -m tools.bench_gateway_budget [--seconds 60] [--extra TOML] [--json OUT]``:
starts the appliance with the default configuration (only the state dir and metrics
port moved), waits until an order rests, samples ``nRequestsUsed`` and the gateway's
counters at the start and the end of the window, stops.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MMCTL = [sys.executable, "-m", "appliance.cli"]
DEMO_ADDRESS = "0x1d181b94d106d9384b0542fa1f1c370a7803ee6c"
COUNTERS = ("orders_sent", "modifies_sent", "cancels_sent", "batches")


def _info(url: str, body: dict):
    req = urllib.request.Request(url + "/info", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _stats(sd: Path) -> dict:
    try:
        return json.loads((sd / "gateway.json").read_text())
    except (OSError, ValueError):
        return {}


def run_budget(seconds: float = 60.0, extra: str = "") -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="gwbudget-"))
    inst = f"gwb{os.getpid()}"
    sd = tmp / f"state-{inst}"
    cfg = tmp / "mm.toml"
    cfg.write_text(f'[appliance]\nstate_dir = "{tmp}/state-{{instance}}"\n[risk]\nmetrics_port = 0\n'
                   + extra)
    subprocess.run([*MMCTL, "start", "--instance", inst, "--config", str(cfg)], check=True,
                   capture_output=True, timeout=300)
    try:
        url = (sd / "venue.url").read_text().strip()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _info(url, {"type": "openOrders", "user": DEMO_ADDRESS}):
            time.sleep(0.2)
        time.sleep(5.0)  # past the start-up transient
        rate_req = {"type": "userRateLimit", "user": DEMO_ADDRESS}
        rl0, st0, t0 = _info(url, rate_req), _stats(sd), time.monotonic()
        time.sleep(seconds)
        rl1, st1, t1 = _info(url, rate_req), _stats(sd), time.monotonic()
        per_min = 60.0 / (t1 - t0)
        out = {
            "seconds": round(t1 - t0, 1),
            "address_requests_per_min": round((rl1["nRequestsUsed"] - rl0["nRequestsUsed"]) * per_min, 1),
            "address_requests_used_end": rl1["nRequestsUsed"], "address_cap_end": rl1["nRequestsCap"],
            "cum_vlm_usd_end": float(rl1.get("cumVlm", 0.0)),
            **{f"{k}_per_min": round((st1.get(k, 0) - st0.get(k, 0)) * per_min, 1) for k in COUNTERS},
            "fills_per_min": round((st1.get("fills_applied", 0) - st0.get("fills_applied", 0)) * per_min, 1),
            "reducing_side_only": (st1.get("rate_budget") or {}).get("reducing_side_only"),
            "extra_config": extra,
        }
        cap_left = rl1["nRequestsCap"] - rl1["nRequestsUsed"]
        out["minutes_until_cap"] = (round(cap_left / out["address_requests_per_min"], 1)
                                    if out["address_requests_per_min"] > 0 else None)
        return out
    finally:
        subprocess.run([*MMCTL, "stop", "--instance", inst], capture_output=True, timeout=120)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--extra", default="", help="TOML appended to the config")
    ap.add_argument("--json", dest="json_out")
    a = ap.parse_args(argv)
    r = run_budget(a.seconds, a.extra.replace("\\n", "\n"))
    print(json.dumps(r, indent=1))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
