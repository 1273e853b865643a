"""Session and UTC-day PnL baselines and the session's peak, kept in the control block.

The loss checks compare the account's PnL now (the sum of every coin's
``total_pnl_usd``) with baselines taken by the watchdog: the session's when it first
reads the positions, the day's at the first reading of each UTC day, and the
session's peak. They live in the CONTROL fields ``risk_*`` (single writer: the
risk process), so a restarted watchdog carries on from them instead of forgiving
what was lost before it restarted.
"""

import math

import numpy as np

SECONDS_PER_DAY = 86_400


def utc_day_index(now_utc_s: float) -> int:
    """Days since the epoch, UTC: the day changes at 00:00 UTC."""
    return int(math.floor(now_utc_s / SECONDS_PER_DAY))


def update_baselines(control: np.void, total_pnl_usd: float, now_utc_s: float) -> list[dict]:
    """Take or advance the baselines with the PnL now; returns what happened, for the
    journal (``init`` once per session, ``day_reset`` when the UTC day changed).
    A PnL that is not finite changes nothing (the loss check reports it)."""
    if not math.isfinite(total_pnl_usd):
        return []
    day = utc_day_index(now_utc_s)
    if not control["risk_state_init"]:
        control["risk_session_start_pnl_usd"] = total_pnl_usd
        control["risk_day_start_pnl_usd"] = total_pnl_usd
        control["risk_peak_pnl_usd"] = total_pnl_usd
        control["risk_day_index"] = day
        control["risk_state_init"] = 1
        return [{"k": "baselines", "why": "session start", "pnl_usd": total_pnl_usd, "day": day}]
    events = []
    if day != int(control["risk_day_index"]):
        events.append({"k": "day_reset", "why": "new UTC day", "pnl_usd": total_pnl_usd,
                       "day": day, "prev_day": int(control["risk_day_index"]),
                       "prev_day_start_pnl_usd": float(control["risk_day_start_pnl_usd"])})
        control["risk_day_start_pnl_usd"] = total_pnl_usd
        control["risk_day_index"] = day
    if total_pnl_usd > float(control["risk_peak_pnl_usd"]):
        control["risk_peak_pnl_usd"] = total_pnl_usd
    return events


def session_pnl_usd(control: np.void, total_pnl_usd: float) -> float:
    return total_pnl_usd - float(control["risk_session_start_pnl_usd"])


def day_pnl_usd(control: np.void, total_pnl_usd: float) -> float:
    return total_pnl_usd - float(control["risk_day_start_pnl_usd"])


def drawdown_usd(control: np.void, total_pnl_usd: float) -> float:
    return float(control["risk_peak_pnl_usd"]) - total_pnl_usd
