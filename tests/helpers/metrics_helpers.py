"""An exporter scrape in-process, over real segments where every family has data: the
kill flag up, a fill booked, the venue account read, the attribution started, a model
scored, latency samples, the gateway's status file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import orjson
from prometheus_client import CollectorRegistry, generate_latest
from risk_helpers import set_model_degraded, set_params, set_position

from appliance.config import load_config
from appliance.ipc import byte_rows, seqlock
from appliance.risk.metrics import ApplianceCollector
from appliance.runtime import latency
from appliance.runtime.control import set_kill
from shm_layout import records
from shm_layout.constants import PROC_GATEWAY, PROC_QUOTE

COINS = ["BTC", "ETH"]
GATEWAY_STATUS = {
    "dead_man_switch": "active", "http_429": 1, "rejects": 2, "alo_rejects": 1,
    "transport_reconnects": 1, "pretrade_denials": {"position": 1},
    "sent_by_coin": {"BTC": {"place": 10, "modify": 3, "cancel": 7, "reject": 2},
                     "ETH": {"place": 0, "modify": 0, "cancel": 0, "reject": 0}},
    "rate_budget": {"ip_headroom_frac": 0.9, "address_headroom_frac": 0.5},
}


def config():
    return load_config(overrides={"appliance": {"coins": COINS}})


def populate(mem, tmp: Path) -> Path:
    """Give every family of the exporter something to say; returns gateway.json's path."""
    now = time.monotonic_ns()
    set_params(mem, 0, mid_px=100_000.0, spread_bps=1.2, update_mono_ns=now, sigma_clean_bps_per_sqrt_s=2.0,
               kappa_per_bps=0.5, markout_bps_by_horizon=[0.5, 0.4, 0.2, -0.1, -0.3, -0.5])
    set_position(mem, 0, position_sz=0.01, mark_px=100_000.0, realized_pnl_usd=2.0, unrealized_pnl_usd=1.5,
                 fees_usd=0.25, total_pnl_usd=3.25, volume_usd=5_000.0, n_fills=4, orders_placed=10,
                 orders_cancelled=7, requests_sent=13, account_update_mono_ns=now, account_value_usd=10_000.0,
                 available_margin_usd=9_000.0, margin_used_usd=100.0, leverage=1.0, liquidation_px=50_000.0)
    att = np.zeros(1, records.ATTRIBUTION_STATE)
    att["started"], att["pnl_usd"] = 1, 3.25
    seqlock.write_block(mem.attrib.seqs, mem.attrib.rows, 0, byte_rows(att)[0])
    set_model_degraded(mem, 0)
    ctl = mem.control.records[0]
    ctl["risk_state_init"] = 1
    ctl["risk_session_start_pnl_usd"], ctl["risk_peak_pnl_usd"] = 1.0, 5.0
    ctl["feed_ws_connects"], ctl["feed_ws_drops"] = 3, 2
    for ns in (3_000, 3_000, 50_000_000):  # two at 3 µs, one at 50 ms
        latency.record(ctl["procs"][PROC_QUOTE]["lat_hist"], ns)
    latency.record(ctl["procs"][PROC_GATEWAY]["lat_hist"], 200_000)
    set_kill(ctl, "mmctl: drill", "mmctl")
    gw = tmp / "gateway.json"
    gw.write_bytes(orjson.dumps({"ts_ns": time.time_ns(), **GATEWAY_STATUS}))
    return gw


def scrape_text(mem, cfg, instance: str, gateway_json: Path | None) -> str:
    registry = CollectorRegistry()
    registry.register(ApplianceCollector(mem, cfg, instance, gateway_json))
    return generate_latest(registry).decode()
