"""Helpers for the end-to-end tests of the Hyperliquid client against the local venue
that ``mmctl start`` supervises (gateway.network = "local")."""

import json
import urllib.request
from pathlib import Path

from appliance_helpers import wait_for

from appliance.gateway.hyperliquid.journal_compaction import archives
from appliance.hyperliquid.demo_key import DEMO_ADDRESS

# These tests are about the client, not the strategy: the cascade detector and the E[PnL]
# filter are off, the spread floor low and the synthetic market livelier (6 bps/sqrt(s)),
# so that quotes sit near the touch and a minute brings fills. The tests poll
# the venue from the same loopback IP as the gateway: its IP weight limit is raised so the
# polling does not eat the gateway's budget (the 429 test injects its burst).
# Requote pacing is loosened so the best level follows the mid closely and a minute of
# trading brings the handful of fills the tests wait for (the default paces for hours).
TRADING_CONFIG = ("[estimator.cascade]\nenabled = false\n[feed]\nsynthetic_sigma_bps_per_sqrt_s = 6.0\n"
                  "[quote]\nmin_spread_bps = 2.0\nuse_epnl_filter = false\n"
                  "[venue]\nip_weight_per_min = 1000000\n"
                  "[gateway]\nrequote_budget_per_min = 600.0\n")


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
    """Fill records of the gateway journal (and its archived generations) that booked a
    size (applied > 0)."""
    live = state(tmp, instance) / "gateway-journal.jsonl"
    paths = [p for _, p in archives(live)] + [live]  # compaction at start archives the old one
    out = []
    for line in b"".join(Path(p).read_bytes() for p in paths).splitlines():
        rec = json.loads(line[9:])
        if rec.get("k") == "fill" and rec.get("applied", 0) > 0:
            out.append(rec)
    return out


def wait_quoting(url: str, timeout_s: float = 120.0) -> bool:
    """Wait until at least two of our orders rest at the venue. Generous and tolerant of
    timed-out polls: on a cold numba cache the venue and the five processes compile
    their kernels first."""
    return bool(wait_for(lambda: len(venue_open_orders(url)) >= 2, timeout_s, transient=(OSError,)))
