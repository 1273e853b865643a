"""Helpers for the end-to-end tests of the Hyperliquid client against the local venue
that ``mmctl start`` supervises (gateway.network = "local")."""

import json
import urllib.request
from pathlib import Path

from appliance.venue.demo_key import DEMO_ADDRESS

# The cascade detector currently pulls the synthetic market's quotes (estimator work in
# progress); these tests are about the client, so it is switched off here. The tests poll
# the venue from the same loopback IP as the gateway: its IP weight limit is raised so the
# polling does not eat the gateway's budget (the 429 test injects its burst).
TRADING_CONFIG = "[estimator.cascade]\nenabled = false\n[venue]\nip_weight_per_min = 1000000\n"


def state(tmp: Path, instance: str) -> Path:
    return tmp / f"state-{instance}"


def venue_url(tmp: Path, instance: str) -> str:
    return (state(tmp, instance) / "venue.url").read_text().strip()


def post(url: str, path: str, body: dict, timeout_s: float = 5.0):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return json.loads(r.read() or b"null")


def venue_info(url: str, typ: str, user: str = DEMO_ADDRESS):
    return post(url, "/info", {"type": typ, "user": user})


def venue_open_orders(url: str, user: str = DEMO_ADDRESS) -> list:
    return venue_info(url, "openOrders", user)


def venue_szi(url: str, coin: str = "BTC", user: str = DEMO_ADDRESS) -> float:
    ch = venue_info(url, "clearinghouseState", user)
    for ap in ch["assetPositions"]:
        if ap["position"]["coin"] == coin:
            return float(ap["position"]["szi"])
    return 0.0


def faults(url: str, **spec) -> dict:
    return post(url, "/_faults", spec)


def gateway_stats(tmp: Path, instance: str) -> dict:
    try:
        return json.loads((state(tmp, instance) / "gateway.json").read_text())
    except (OSError, ValueError):
        return {}


def journal_fills(tmp: Path, instance: str) -> list[dict]:
    """Fill records of the gateway journal that booked a size (applied > 0)."""
    out = []
    for line in (state(tmp, instance) / "gateway-journal.jsonl").read_bytes().splitlines():
        rec = json.loads(line[9:])
        if rec.get("k") == "fill" and rec.get("applied", 0) > 0:
            out.append(rec)
    return out
