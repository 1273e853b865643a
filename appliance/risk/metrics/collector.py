"""The collector Prometheus calls at each scrape: every family, labelled with the
instance (see the package docstring for the names, units and labels)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numba
from prometheus_client.core import GaugeMetricFamily

from shm_layout.segments import LAYOUT_HASH

from .coins import collect_coins
from .families import with_instance
from .gateway import collect_gateway
from .pnl import collect_pnl
from .processes import collect_processes
from .recorder import collect_recorder
from .scores import collect_scores

GIT_TIMEOUT_S = 2.0


class ApplianceCollector:
    def __init__(self, mem, cfg, instance: str, gateway_stats_path=None, recorder_status=None):
        """``mem``: the instance's segments; ``gateway_stats_path``: the Hyperliquid
        gateway's ``gateway.json`` (None in paper mode); ``recorder_status``: the
        recorder's ``status`` (None when it is off)."""
        self.mem = mem
        self.cfg = cfg
        self.instance = instance
        self.gateway_stats_path = gateway_stats_path
        self.recorder_status = recorder_status
        self.horizons_s = tuple(h / 1e3 for h in cfg.estimator.adverse_selection.horizons_ms)
        self.build = build_labels()

    def collect(self):
        for fam in self._families():
            yield with_instance(fam, self.instance)

    def _families(self):
        mem, cfg = self.mem, self.cfg
        yield self._build_info()
        yield from collect_processes(mem, cfg)
        yield from collect_coins(mem, cfg, self.horizons_s)
        yield from collect_pnl(mem, cfg)
        yield from collect_scores(mem, cfg.appliance.coins)
        yield from collect_gateway(self.gateway_stats_path)
        if self.recorder_status is not None:
            yield from collect_recorder(self.recorder_status())

    def _build_info(self) -> GaugeMetricFamily:
        info = GaugeMetricFamily("mm_build_info", "the running build: package version, git commit, "
                                 "shared-memory layout hash, Python and numba", labels=list(self.build))
        info.add_metric(list(self.build.values()), 1.0)
        return info


def build_labels() -> dict[str, str]:
    """Labels of ``mm_build_info``; taken once, when the exporter starts."""
    try:
        version = metadata.version("hl-mm-appliance")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"version": version, "git_commit": _git_commit(), "layout_hash": f"{LAYOUT_HASH:#018x}",
            "python": platform.python_version(), "numba": numba.__version__}


def _git_commit() -> str:
    """The checkout's commit, or "unknown" (an installed package has no .git)."""
    root = Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
