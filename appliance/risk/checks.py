"""Risk checks: each looks at one cycle's ``RiskView`` and returns a ``Finding`` or None.

A check is named as its key in ``[risk.actions]``, which says what it does when it
fires (widen, reduce_only, pull or kill: actions.py). A finding carries the value
and the threshold it was judged by, for the journal. Checks fail closed: a block
that stays unreadable is a finding too (reads.py says when a read failure counts).
Checks named in ``risk.disabled_checks`` are not run.
"""

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from appliance.config import sizing
from appliance.ipc import seqlock
from appliance.runtime.control import compile_seconds, heartbeat_age_ms, pid_alive
from shm_layout.constants import (
    AS_STOPPING,
    MODEL_NAMES,
    N_CHILDREN,
    PROC_FEED,
    PROC_GATEWAY,
    PROC_NAMES,
    PROC_RISK,
    PROC_SUPERVISOR,
    PS_RUNNING,
)

from . import pnl
from .fill_watch import FillWatch
from .reads import BACKOFF_BUDGET_S, UNREADABLE_CYCLES, BlockReader


@dataclass
class Finding:
    """A check that fired: why, and the value against its threshold (None: not a number)."""

    check: str
    reason: str
    value: float | None = None
    threshold: float | None = None

    def __str__(self) -> str:
        return self.reason


@dataclass
class RiskView:
    """What one cycle of checks looks at; ``refresh`` reads the blocks once per cycle."""

    cfg: object  # appliance.config.Config
    mem: object  # shm_layout.InstanceMemory
    kill_file: str
    started_mono_ns: int
    now_utc_s: float = 0.0
    total_pnl_usd: float | None = None  # every coin's total_pnl_usd; None until all were read
    events: list = field(default_factory=list)  # baseline events of this cycle, for the journal
    positions: BlockReader = None
    params: BlockReader = None
    fills: FillWatch = None
    new_fills: np.ndarray | None = None  # the fills read this cycle (FILL_EVENT)

    def __post_init__(self) -> None:
        n = len(self.cfg.appliance.coins)
        self.control = self.mem.control.records[0]
        self.positions = self.positions or BlockReader(self.mem.position, n)
        self.params = self.params or BlockReader(self.mem.params, n)
        self.fills = self.fills or FillWatch(self.mem, self.control["procs"][PROC_RISK])

    @property
    def coins(self) -> tuple:
        return self.cfg.appliance.coins

    def refresh(self, now_utc_s: float) -> None:
        """Read positions and params (backing off under contention), then the PnL and
        its baselines."""
        self.now_utc_s = now_utc_s
        deadline = time.monotonic() + BACKOFF_BUDGET_S
        self.positions.read_all(deadline)
        self.params.read_all(deadline)
        # after the positions: a fill the snapshot counts was published before it (attribution)
        self.new_fills = self.fills.read()
        recs = [self.positions.get(c) for c in range(len(self.coins))]
        if any(r is None for r in recs):
            self.total_pnl_usd = None  # a coin never read yet: no account total
            return
        self.total_pnl_usd = sum(float(r["total_pnl_usd"]) for r in recs)
        self.events.extend(pnl.update_baselines(self.control, self.total_pnl_usd, now_utc_s))


def check_kill_switch_file(v: RiskView) -> Finding | None:
    if os.path.exists(v.kill_file):
        return Finding("kill_switch_file", f"kill switch file {v.kill_file} exists")
    return None


def check_position(v: RiskView) -> Finding | None:
    """|position| beyond the coin's limit, in coin at the position's mark price
    (``config.sizing``), else the market params' mid; a USD limit with
    ``risk.position_usd_slack_frac`` on top (a rise shrinks it in coin without a trade).
    A USD limit without any price cannot be checked: nothing can add to the position then
    either (the quote kernel pulls and the pre-trade gate denies without a mid), and a
    kill there would latch on every restart that carries a position."""
    for c, coin in enumerate(v.coins):
        if v.positions.unreadable(c):
            n = v.positions.fail_streak[c]
            return Finding("position", f"{coin}: position block unreadable for {n} cycles",
                           n, UNREADABLE_CYCLES)
        pos = v.positions.get(c)
        if pos is None:
            continue
        q = float(pos["position_sz"])
        px = float(pos["mark_px"])
        if not (math.isfinite(px) and px > 0.0):
            p = v.params.get(c)
            px = float(p["mid_px"]) if p is not None else math.nan
        limit = sizing.coin_max_position_sz(v.cfg, coin, px)
        if not sizing.for_coin(v.cfg.quote, v.cfg.risk, coin)[1].max_position_sz > 0.0:
            limit *= 1.0 + v.cfg.risk.position_usd_slack_frac
        if not math.isfinite(q) or (math.isfinite(limit) and abs(q) > limit * (1 + 1e-9)):
            return Finding("position", f"{coin}: position {q:g} beyond the position limit "
                           f"{limit:g} (coin at the mark)", q, limit)
    return None


def check_loss(v: RiskView) -> Finding | None:
    """Session loss: PnL now against the session's baseline."""
    total = v.total_pnl_usd
    if total is None:
        return None
    limit = v.cfg.risk.max_loss_usd
    if not math.isfinite(total):
        return Finding("loss", f"PnL not finite ({total})", total, limit)
    loss = -pnl.session_pnl_usd(v.control, total)
    if loss > limit:
        return Finding("loss", f"session loss {loss:.2f} USD beyond max_loss_usd {limit:g}",
                       loss, limit)
    return None


def check_daily_loss(v: RiskView) -> Finding | None:
    """UTC-day loss: PnL now against the baseline taken at the day's first reading."""
    total = v.total_pnl_usd
    if total is None or not math.isfinite(total):
        return None
    limit = v.cfg.risk.max_daily_loss_usd
    loss = -pnl.day_pnl_usd(v.control, total)
    if loss > limit:
        return Finding("daily_loss", f"UTC-day loss {loss:.2f} USD beyond max_daily_loss_usd "
                       f"{limit:g}", loss, limit)
    return None


def check_drawdown(v: RiskView) -> Finding | None:
    total = v.total_pnl_usd
    if total is None or not math.isfinite(total):
        return None
    limit = v.cfg.risk.max_drawdown_usd
    dd = pnl.drawdown_usd(v.control, total)
    if dd > limit:
        return Finding("drawdown", f"drawdown {dd:.2f} USD from the session peak beyond "
                       f"max_drawdown_usd {limit:g}", dd, limit)
    return None


def check_margin(v: RiskView) -> Finding | None:
    """Margin used over account value, where the venue account is known."""
    limit = v.cfg.risk.max_margin_util_frac
    for c, coin in enumerate(v.coins):
        pos = v.positions.get(c)
        if pos is None or int(pos["account_update_mono_ns"]) == 0:
            continue
        used, value = float(pos["margin_used_usd"]), float(pos["account_value_usd"])
        util = used / value if value > 0.0 else (math.inf if used > 0.0 else 0.0)
        if not math.isfinite(util) or util > limit:  # NaN too: fail closed
            return Finding("margin", f"{coin}: margin used {used:.2f} of account value "
                           f"{value:.2f} USD ({util:.2f}) beyond max_margin_util_frac {limit:g}",
                           util, limit)
    return None


def check_liquidation(v: RiskView) -> Finding | None:
    """Mark price too close to the position's liquidation price."""
    limit = v.cfg.risk.min_liq_distance_bps
    for c, coin in enumerate(v.coins):
        pos = v.positions.get(c)
        if pos is None:
            continue
        liq, mark = float(pos["liquidation_px"]), float(pos["mark_px"])
        if not (liq > 0.0 and mark > 0.0 and float(pos["position_sz"]) != 0.0):
            continue  # no position, or not known
        dist = abs(mark - liq) / mark * 1e4
        if not dist >= limit:  # NaN too: fail closed
            return Finding("liquidation", f"{coin}: mark {mark:g} is {dist:.0f} bps from the "
                           f"liquidation price {liq:g} (min_liq_distance_bps {limit:g})",
                           dist, limit)
    return None


def check_cascade(v: RiskView) -> Finding | None:
    limit = v.cfg.risk.max_cascade_severity
    for c, coin in enumerate(v.coins):
        p = v.params.get(c)
        if p is None or not p["valid"]:
            continue
        sev = float(p["cascade_severity"])
        if math.isfinite(sev) and sev > limit:
            return Finding("cascade", f"{coin}: cascade severity {sev:.2f} beyond "
                           f"max_cascade_severity {limit:g}", sev, limit)
    return None


def check_stale_data(v: RiskView) -> Finding | None:
    """Market data that stopped, or market parameters that cannot be read."""
    for c, coin in enumerate(v.coins):
        if v.params.unreadable(c):
            n = v.params.fail_streak[c]
            return Finding("stale_data", f"{coin}: market params block unreadable for {n} cycles",
                           n, UNREADABLE_CYCLES)
    last = int(v.mem.md.ring_header[0]["last_pub_mono_ns"])
    if last == 0:
        # No event yet in this instance: a longer allowance for connecting, and the
        # feed's numba compiles on top (a cold cache on two busy cores: a minute).
        now = time.monotonic_ns()
        age_s = (now - v.started_mono_ns) / 1e9
        compile_s = compile_seconds(v.control["procs"][PROC_FEED], now)
        limit_s = v.cfg.risk.first_data_timeout_s
        if age_s - compile_s > limit_s:
            spent = f", {compile_s:.1f} s of it the feed compiling" if compile_s >= 0.05 else ""
            return Finding("stale_data", f"no market data {age_s:.1f} s after start{spent} "
                           f"(limit {limit_s:g} s)", age_s - compile_s, limit_s)
        return None
    age_s = (time.monotonic_ns() - max(last, v.started_mono_ns)) / 1e9
    limit_s = v.cfg.risk.stale_data_s
    if age_s > limit_s:
        return Finding("stale_data", f"market data stale for {age_s:.1f} s (limit {limit_s:g} s)",
                       age_s, limit_s)
    return None


def check_clock(v: RiskView) -> Finding | None:
    """The supervisor's clock checks failed (or could not run) too many times in a row."""
    streak = int(v.control["clock_fail_streak"])
    limit = v.cfg.risk.max_clock_failed_checks
    if streak >= limit:
        return Finding("clock", f"{streak} clock checks failed in a row "
                       f"(max_clock_failed_checks {limit})", streak, limit)
    return None


def check_heartbeat(v: RiskView) -> Finding | None:
    """A child the supervisor could not bring back in twice its timeout; a supervisor
    that is gone or silent (once it has written a heartbeat)."""
    limit_ms = 2 * v.cfg.supervisor.heartbeat_timeout_ms
    procs = v.control["procs"]
    now = time.monotonic_ns()
    for p in range(N_CHILDREN):
        if p == PROC_RISK:
            continue
        slot = procs[p]
        age = heartbeat_age_ms(slot, now)
        if slot["state"] == PS_RUNNING and age is not None and age > limit_ms:
            return Finding("heartbeat", f"lost heartbeat of {PROC_NAMES[p]} ({age:.0f} ms)",
                           age, limit_ms)
    sup = procs[PROC_SUPERVISOR]
    age = heartbeat_age_ms(sup, now)
    if age is None or sup["state"] != PS_RUNNING or v.control["state"] >= AS_STOPPING:
        return None  # no supervisor heartbeat yet, or stopping on purpose (it waits for us)
    pid = int(sup["pid"]) or int(v.control["supervisor_pid"])
    if pid > 0 and not pid_alive(pid):
        return Finding("heartbeat", f"supervisor pid {pid} is gone", age, limit_ms)
    if age > limit_ms:
        return Finding("heartbeat", f"lost heartbeat of supervisor ({age:.0f} ms)", age, limit_ms)
    return None


def check_rate_limit(v: RiskView) -> Finding | None:
    """The venue's request budget for our address nearly spent (Hyperliquid gateway)."""
    if v.cfg.gateway.venue != "hyperliquid" or v.control["procs"][PROC_GATEWAY]["state"] != PS_RUNNING:
        return None
    frac = float(v.control["gw_rate_headroom_frac"])
    limit = v.cfg.risk.min_rate_headroom_frac
    if 0.0 <= frac < limit:  # negative: not known
        return Finding("rate_limit", f"rate-limit headroom {frac:.3f} below min_rate_headroom_frac "
                       f"{limit:g}", frac, limit)
    return None


def check_fill_outside(v: RiskView) -> Finding | None:
    limit = v.cfg.risk.max_fill_deviation_bps
    worst = v.fills.outside(limit, v.new_fills)
    if worst is None:
        return None
    coin = v.coins[worst.coin] if worst.coin < len(v.coins) else f"coin {worst.coin}"
    return Finding("fill_outside", f"{coin}: fill at {worst.px:g} is {worst.deviation_bps:.0f} bps "
                   f"from the mid {worst.mid_px:g} (max_fill_deviation_bps {limit:g})",
                   worst.deviation_bps, limit)


def check_model_degraded(v: RiskView) -> Finding | None:
    """A model scored worse than having none for scores.degraded_after_s (the scorer's
    flags in the SCORES block, risk/scoring/scorer.py)."""
    limit = v.cfg.scores.degraded_after_s
    for c, coin in enumerate(v.coins):
        rec, seq = seqlock.snapshot(v.mem.scores, c, max_tries=10_000)
        if seq < 0:  # its writer is this process: never busy when the checks run
            continue
        bad = [m for m in range(min(int(rec["n_models"]), len(MODEL_NAMES))) if rec["degraded"][m]]
        if bad:
            worst = max(float(rec["degraded_s"][m]) for m in bad)
            names = ", ".join(f"{MODEL_NAMES[m]} ({float(rec['degraded_s'][m]):.0f} s)" for m in bad)
            return Finding("model_degraded", f"{coin}: worse than no model: {names} "
                           f"(mmctl inspect scores)", worst, limit)
    return None


# In [risk.actions] order; the names are the keys there.
CHECKS: tuple[tuple[str, Callable[[RiskView], Finding | None]], ...] = (
    ("kill_switch_file", check_kill_switch_file),
    ("position", check_position),
    ("loss", check_loss),
    ("daily_loss", check_daily_loss),
    ("drawdown", check_drawdown),
    ("margin", check_margin),
    ("liquidation", check_liquidation),
    ("cascade", check_cascade),
    ("stale_data", check_stale_data),
    ("clock", check_clock),
    ("heartbeat", check_heartbeat),
    ("rate_limit", check_rate_limit),
    ("fill_outside", check_fill_outside),
    ("model_degraded", check_model_degraded),
)
CHECK_NAMES = tuple(name for name, _ in CHECKS)


def evaluate(v: RiskView, now_utc_s: float | None = None) -> list[Finding]:
    """One cycle: read the blocks, run every enabled check, return what fired."""
    v.refresh(time.time() if now_utc_s is None else now_utc_s)
    disabled = set(v.cfg.risk.disabled_checks)
    found = []
    for name, check in CHECKS:
        if name not in disabled:
            f = check(v)
            if f is not None:
                found.append(f)
    return found


def first_reason(v: RiskView, now_utc_s: float | None = None) -> str | None:
    """The first finding's reason, or None (every check is evaluated)."""
    found = evaluate(v, now_utc_s)
    return found[0].reason if found else None
