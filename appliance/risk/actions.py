"""Graded actions: what the watchdog does with the checks that fired this cycle.

Each check's action is configured in ``[risk.actions]``: ``kill`` raises the kill
flag (source "risk", reason "<check>: <reason>"; latched until ``mmctl kill
--reset --reason``); ``widen``, ``reduce_only`` and ``pull`` set
``Control.risk_action``, which the quote process honours; ``log`` only journals and
logs the trigger. The strongest graded
action asked for is in force; each is held ``risk.action_hold_s`` after its check
last fired (a check that flaps does not make the ladder flap), then dropped; when
none is left the action is reset to none.

Journaled (journal.py): a check that starts firing (``trigger``: check, reason,
value, threshold, action), a kill raised, every change of the action in force
(``action``) and its return to none (``reset``: who and why), and the PnL
baselines (``baselines``, ``day_reset``).
"""

import logging
import time
from collections.abc import Iterable

import numpy as np

from appliance.runtime.control import set_kill
from shm_layout.constants import RA_KILL, RA_NONE, RISK_ACTION_NAMES

from .checks import CHECK_NAMES, Finding
from .journal import RiskJournal, utc_iso

log = logging.getLogger("risk")

ACTION_CODES = {name: code for code, name in enumerate(RISK_ACTION_NAMES)}
ACTION_CODES["log"] = RA_NONE  # journaled and logged, nothing acted


def action_codes(cfg) -> dict[str, int]:
    """Check name -> RA_* code, from ``[risk.actions]`` ("log" -> RA_NONE)."""
    return {name: ACTION_CODES[getattr(cfg.risk.actions, name)] for name in CHECK_NAMES}


class ActionEngine:
    def __init__(self, cfg, control: np.void, journal: RiskJournal) -> None:
        self.control = control
        self.journal = journal
        self.codes = action_codes(cfg)
        self.names = {name: getattr(cfg.risk.actions, name) for name in CHECK_NAMES}
        self.hold_ns = int(cfg.risk.action_hold_s * 1e9)
        self.hold_s = cfg.risk.action_hold_s
        self.widen_mult = float(cfg.risk.widen_mult)
        self.firing: set[str] = set()  # checks that fired in the last cycle
        self.held: dict[str, tuple[int, int]] = {}  # check -> (RA_*, last fired, mono ns)
        code = int(control["risk_action"])
        if RA_NONE < code < RA_KILL:  # a previous watchdog's action: hold it once more
            check = control["risk_action_check"].decode(errors="replace") or "?"
            self.held[check] = (code, time.monotonic_ns())

    def apply(self, findings: list[Finding], events: Iterable[dict] = (),
              now_mono_ns: int | None = None) -> int:
        """Act on one cycle's findings; returns the graded action in force (RA_*)."""
        now = time.monotonic_ns() if now_mono_ns is None else now_mono_ns
        for ev in events:
            ev = dict(ev)
            self._journal(ev.pop("k"), **ev)
        for f in findings:
            code = self.codes[f.check]
            raised = False
            if code == RA_KILL:
                raised = set_kill(self.control, f"{f.check}: {f.reason}", "risk")
                if raised:
                    log.error("kill flag raised: %s: %s", f.check, f.reason)
            elif code != RA_NONE:  # RA_NONE: the "log" action, nothing held
                self.held[f.check] = (code, now)
            if raised or f.check not in self.firing:
                if not raised:
                    log.warning("%s fired (%s): %s", f.check, self.names[f.check], f.reason)
                self._journal("trigger", check=f.check, reason=f.reason, value=_num(f.value),
                              threshold=_num(f.threshold), action=self.names[f.check],
                              kill_raised=raised)
        self.firing = {f.check for f in findings}
        self.held = {c: (code, t) for c, (code, t) in self.held.items() if now - t <= self.hold_ns}
        return self._in_force()

    def _in_force(self) -> int:
        ctl = self.control
        prev, prev_check = int(ctl["risk_action"]), ctl["risk_action_check"].decode(errors="replace")
        if not self.held:
            if prev != RA_NONE:
                ctl["risk_action"] = RA_NONE
                ctl["risk_action_check"] = b""
                ctl["risk_action_ts_ns"] = time.time_ns()
                why = f"{prev_check} quiet for action_hold_s {self.hold_s:g} s"
                log.warning("risk action %s reset: %s", RISK_ACTION_NAMES[prev], why)
                self._journal("reset", action=RISK_ACTION_NAMES[prev], check=prev_check,
                              who="risk", why=why)
            return RA_NONE
        # the strongest; among equals the one that fired last
        check, (code, _) = max(self.held.items(), key=lambda kv: kv[1])
        if code != prev or check != prev_check:
            ctl["risk_widen_mult"] = self.widen_mult  # every field before the action itself
            ctl["risk_action_check"] = check.encode()[:32]
            ctl["risk_action_ts_ns"] = time.time_ns()
            ctl["risk_action"] = code
            log.warning("risk action %s (was %s), for %s", RISK_ACTION_NAMES[code],
                        RISK_ACTION_NAMES[prev], check)
            self._journal("action", action=RISK_ACTION_NAMES[code], check=check,
                          prev=RISK_ACTION_NAMES[prev] if prev < len(RISK_ACTION_NAMES) else prev,
                          widen_mult=self.widen_mult)
        return code

    def _journal(self, kind: str, **fields) -> None:
        self.journal.write(kind, utc=utc_iso(time.time_ns()), **fields)


def _num(x: float | None) -> float | str | None:
    """JSON has no NaN or inf: those go in as text."""
    if x is None:
        return None
    x = float(x)
    return x if x == x and abs(x) != float("inf") else str(x)
