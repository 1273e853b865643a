"""What the soak measures while it runs, and the invariants at its end.

``Watch`` samples, every ``SAMPLE_S``, the venue's ``openOrders`` of our account and
which processes of the instance are alive (from the control block), and unions the
venue's ``userFills`` (the venue shows the last 2000 only, so they are collected as
the run goes). Orders resting while the gateway is down are *covered* when the risk
watchdog (and its last-resort canceller) lives, *unattended* when nothing of ours
does. ``invariants`` compares the venue with the gateway's journal at the end.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from appliance.gateway.hyperliquid.journal_compaction import archives
from appliance.runtime.control import pid_alive
from shm_layout import LayoutMismatch, SegmentMissing, attach
from shm_layout.constants import PROC_GATEWAY, PROC_RISK

SAMPLE_S = 0.1
FILLS_EVERY_S = 5.0


def post(url: str, path: str, body: dict, timeout_s: float = 3.0):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return json.loads(r.read() or b"null")


def venue_info(url: str, typ: str, user: str):
    try:
        return post(url, "/info", {"type": typ, "user": user})
    except (OSError, urllib.error.URLError, ValueError):
        return None


def fill_key(f: dict) -> tuple:
    return (int(f["tid"]), int(f["oid"]))


def alive_set(instance: str) -> dict:
    """{"supervisor", "gateway", "risk"}: alive per the pids in the control block."""
    try:
        seg = attach(instance, "control", writable=False)
    except (SegmentMissing, LayoutMismatch, OSError):
        return {"supervisor": False, "gateway": False, "risk": False}
    try:
        ctl = seg.records[0]
        return {"supervisor": pid_alive(int(ctl["supervisor_pid"])),
                "gateway": pid_alive(int(ctl["procs"][PROC_GATEWAY]["pid"])),
                "risk": pid_alive(int(ctl["procs"][PROC_RISK]["pid"]))}
    finally:
        seg.close()


@dataclass
class Watch:
    url: str
    user: str
    instance: str
    samples: int = 0
    resting_gateway_down_s: float = 0.0  # orders rest, gateway dead: the canceller's window
    unattended_s: float = 0.0  # orders rest and no process of ours is alive to cancel them
    venue_fills: dict = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="soak-watch")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.collect_fills()

    def collect_fills(self) -> None:
        fills = venue_info(self.url, "userFills", self.user)
        for f in fills or ():
            self.venue_fills[fill_key(f)] = f

    def _run(self) -> None:
        last = time.monotonic()
        next_fills = 0.0
        while not self._stop.wait(SAMPLE_S):
            now = time.monotonic()
            dt, last = now - last, now
            opens = venue_info(self.url, "openOrders", self.user)
            alive = alive_set(self.instance)
            self.samples += 1
            if opens and not alive["gateway"]:
                self.resting_gateway_down_s += dt
                if not alive["risk"]:
                    self.unattended_s += dt
            if now >= next_fills:
                next_fills = now + FILLS_EVERY_S
                self.collect_fills()


def journal_fill_keys(journal: Path) -> list[tuple]:
    """Every fill the gateway booked (applied > 0), across the archived generations."""
    out = []
    for _, p in archives(journal) + [(0, str(journal))]:
        try:
            data = Path(p).read_bytes()
        except OSError:
            continue
        for line in data.splitlines():
            try:
                rec = json.loads(line[9:])
            except ValueError:
                continue
            if rec.get("k") == "fill" and rec.get("applied", 0) > 0:
                out.append((int(rec["tid"]), int(rec["oid"])))
    return out


def invariants(watch: Watch, journal: Path, position_ours: float | None, position_venue: float | None,
               orphan_orders: int, survivors: list[int]) -> dict:
    booked = journal_fill_keys(journal)
    venue = set(watch.venue_fills)
    counts: dict[tuple, int] = {}
    for k in booked:
        counts[k] = counts.get(k, 0) + 1
    pos_diff = (None if position_ours is None or position_venue is None
                else round(abs(position_ours - position_venue), 9))
    return {
        "fills_at_venue": len(venue),
        "fills_booked": len(booked),
        "fills_lost": len(venue - set(counts)),
        "fills_doubled": sum(1 for n in counts.values() if n > 1),
        "fills_unknown_to_venue": len(set(counts) - venue),
        "orphan_orders": orphan_orders,
        "position_difference": pos_diff,
        "surviving_processes": len(survivors),
        "unattended_s": round(watch.unattended_s, 2),
        "resting_while_gateway_down_s": round(watch.resting_gateway_down_s, 2),
        "samples": watch.samples,
    }


def all_zero(inv: dict) -> bool:
    return (inv["fills_lost"] == 0 and inv["fills_doubled"] == 0 and inv["fills_unknown_to_venue"] == 0
            and inv["orphan_orders"] == 0 and inv["position_difference"] == 0
            and inv["surviving_processes"] == 0 and inv["unattended_s"] == 0)
