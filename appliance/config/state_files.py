"""Names of the files the processes leave in the state directory for one another:
the gateway's journal (moved aside by the supervisor for a fresh local venue) and
status file (read by the risk watchdog's metrics and the tools), and the local
venue's URL (written by the supervisor, read by a child started by hand).

Here, in the config layer, because several process packages need the same path and
none may import another.
"""

from __future__ import annotations

from pathlib import Path

from .loader import state_dir
from .schema import Config

GATEWAY_JOURNAL_NAME = "gateway-journal.jsonl"
GATEWAY_STATS_NAME = "gateway.json"
VENUE_URL_FILE = "venue.url"
VENUE_READY_FILE = "venue.ready"  # "<url> <pid>", written by the venue once listening


def gateway_journal_path(cfg: Config, instance: str) -> Path:
    """The Hyperliquid gateway's order and fill journal."""
    return state_dir(cfg, instance) / GATEWAY_JOURNAL_NAME


def gateway_stats_path(cfg: Config, instance: str) -> Path:
    """The Hyperliquid gateway's JSON status file (``gateway.json``)."""
    return state_dir(cfg, instance) / GATEWAY_STATS_NAME
