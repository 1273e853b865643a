"""Start-up stages, said as they happen: what an operator watching a first start sees.

A first start after a code change compiles the numba kernels: minutes on two busy
cores, with nothing to show for it unless someone says so. The supervisor calls
``StartupStages.poll`` every loop until the appliance quotes; it logs each process as
it comes up, a progress line while some are still starting (compiling), the first
MarketParams, the first order resting on the venue, and what "ready" means: quoting,
or the reason it is not (the kill flag and its reason, the ladder pulled and why).
``quoting_state`` is the same verdict for ``mmctl start`` in the background.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from pathlib import Path

import numpy as np

from appliance.ipc import seqlock
from appliance.runtime.control import compile_seconds
from shm_layout.constants import (
    N_CHILDREN,
    PROC_NAMES,
    PS_RUNNING,
    PULL_REASON_NAMES,
    RISK_ACTION_NAMES,
)

PROGRESS_EVERY_S = 10.0
NOT_QUOTING_GRACE_S = 10.0  # healthy, first orders on their way: not yet worth a warning


# x86-64 orders a load after every earlier load (TSO): the seq, the bytes, the seq again
# are read in that order without fences, so Python can read a seqlock block itself.
_TSO = platform.machine() in ("x86_64", "AMD64")


def read_block(segment, k: int, max_tries: int = 100_000) -> np.void:
    """A consistent copy of block ``k`` (``seqlock.snapshot``), read by numpy on x86-64:
    the supervisor and ``mmctl start`` read a few blocks a poll and would otherwise load
    the numba reader kernel first (0.4 s of CPU on a quiet box, taken while the fork
    server and the venue import). Elsewhere, and if it never settles, the kernel's read."""
    if _TSO:
        seqs, row = segment.seqs, segment.rows[k]
        dst = np.zeros(1, dtype=segment.spec.record)
        out = dst.view(np.uint8)
        n = out.shape[0]
        for _ in range(max_tries):
            s1 = int(seqs[k])
            if s1 & 1:
                continue
            out[:] = row[:n]
            if int(seqs[k]) == s1:
                return dst[0]
    return seqlock.snapshot(segment, k, max_tries=max_tries)[0]


def quoting_state(mem, coins: list[str], gateway_stats: Path | None = None) -> tuple[list[str], str]:
    """(coins with an order resting on the venue, why not when none): the kill flag
    and its reason, else each coin's ladder pull reason or what its ladder holds, the
    risk action in force and, from ``gateway_stats`` (the Hyperliquid gateway's status
    file), what the gateway has sent and how the venue answers."""
    ctl = mem.control.records[0]
    quoting, why = [], []
    for c, coin in enumerate(coins):
        pos = read_block(mem.position, c)
        if int(pos["n_open_bids"]) + int(pos["n_open_asks"]) > 0:
            quoting.append(coin)
            continue
        lad = read_block(mem.ladder, c)
        r = int(lad["pulled_reason"])
        if int(lad["update_mono_ns"]) == 0:
            why.append(f"{coin}: no ladder yet")
        elif r:
            why.append(f"{coin}: ladder pulled ({PULL_REASON_NAMES[r]})")
        elif int(lad["n_bids"]) + int(lad["n_asks"]) == 0:
            why.append(f"{coin}: ladder empty" + (" (reducing only, nothing to reduce)"
                                                  if int(lad["reducing_only"]) else ""))
        else:
            why.append(f"{coin}: ladder computed ({int(lad['n_bids'])} bids, "
                       f"{int(lad['n_asks'])} asks), no order resting yet")
    ra = int(ctl["risk_action"])
    if ra and not quoting:
        why.append(f"risk action {RISK_ACTION_NAMES[ra] if ra < len(RISK_ACTION_NAMES) else ra} "
                   f"({ctl['risk_action_check'].decode(errors='replace')})")
    if gateway_stats is not None and not quoting:
        why.append(_gateway_said(gateway_stats))
    if ctl["kill_flag"]:
        src = ctl["kill_source"].decode(errors="replace")
        reason = ctl["kill_reason"].decode(errors="replace")
        return quoting, f"kill flag ACTIVE ({src}: {reason}); `mmctl kill --reset --reason ...` clears it"
    return quoting, "; ".join(w for w in why if w)


def _gateway_said(path: Path) -> str:
    """The gateway's own account of its requests and the venue (its status file, written
    every second): what tells a venue that rejects or stalls from a gateway that waits."""
    try:
        d = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return ""
    vh = d.get("venue_health") or {}
    parts = [f"venue {vh.get('state', '?')} ({vh.get('latency_ewma_ms', '?')} ms)",
             f"{d.get('orders_sent', 0)} orders sent", f"{d.get('rejects', 0)} rejected "
             f"({d.get('alo_rejects', 0)} post-only)", f"{d.get('open_orders', 0)} open"]
    if d.get("pretrade_denials"):
        parts.append(f"pre-trade denials {d['pretrade_denials']}")
    if d.get("fatal"):
        parts.append(f"fatal: {d['fatal']}")
    return "gateway: " + ", ".join(parts)


class StartupStages:
    """Logs the start-up stages once each, until the appliance quotes."""

    def __init__(self, mem, coins: list[str], log: logging.Logger, log_dir: str | None,
                 gateway_stats: Path | None = None) -> None:
        """``log_dir``: where the log files are; None: in journald. ``gateway_stats``:
        the Hyperliquid gateway's status file (quoting_state)."""
        self.mem, self.coins, self.log = mem, coins, log
        self.gateway_stats = gateway_stats
        self.next_why = 0.0
        self.t0 = time.monotonic()
        self.running = [False] * N_CHILDREN
        self.params_seen = False
        self.healthy_at: float | None = None
        self.why_said = ""
        self.done = False
        self.next_progress = self.t0 + PROGRESS_EVERY_S
        if log_dir is None:
            log.info("logs: journald (journalctl -u mm-appliance@INSTANCE -o cat | jq; "
                     "fields MM_PROCESS, MM_INSTANCE)")
        else:
            log.info("logs: %s/{supervisor,%s,venue}.log (JSON lines; a crash's output in *.out)",
                     log_dir, ",".join(PROC_NAMES[:N_CHILDREN]))

    def _elapsed(self) -> float:
        return time.monotonic() - self.t0

    def poll(self, healthy: bool) -> None:
        if self.done:
            return
        procs = self.mem.control.records[0]["procs"]
        for p in range(N_CHILDREN):
            up = int(procs[p]["state"]) == PS_RUNNING
            if up and not self.running[p]:
                self.log.info("stage: %s running (%.1f s)", PROC_NAMES[p], self._elapsed())
            self.running[p] = up
        waiting = [p for p in range(N_CHILDREN) if not self.running[p]]
        now = time.monotonic()
        if waiting and now >= self.next_progress:
            self.next_progress = now + PROGRESS_EVERY_S
            now_ns = time.monotonic_ns()
            said = []
            for p in waiting:  # the seconds each has compiled so far, from its CompileLog
                c = compile_seconds(procs[p], now_ns)
                said.append(f"{PROC_NAMES[p]} (compiled {c:.0f} s)" if c >= 1 else PROC_NAMES[p])
            self.log.info("stage: %.0f s, still starting: %s (importing and compiling kernels; "
                          "a first start after a code change takes minutes on two cores)",
                          self._elapsed(), ", ".join(said))
        if not self.params_seen:
            p = read_block(self.mem.params, 0)
            if int(p["update_mono_ns"]):
                self.params_seen = True
                self.log.info("stage: first market params for %s (%.1f s)", self.coins[0],
                              self._elapsed())
        if not healthy:
            return
        if self.healthy_at is None:
            self.healthy_at = now
            self.log.info("stage: all five processes healthy (%.1f s)", self._elapsed())
        quoting, why = quoting_state(self.mem, self.coins, self.gateway_stats)
        if quoting:
            self.done = True
            self.log.info("ready: quoting %s after %.1f s", ", ".join(quoting), self._elapsed())
        elif (now - self.healthy_at >= NOT_QUOTING_GRACE_S and why != self.why_said
              and now >= self.next_why):
            # said again when the reason changes (its counts do), at most every PROGRESS_EVERY_S
            self.why_said, self.next_why = why, now + PROGRESS_EVERY_S
            self.log.warning("healthy but NOT quoting: %s", why)
