"""The venue account's margin, from ``clearinghouseState`` into PositionState.

Fields (``records.POSITION_STATE``), the same for every coin unless said:
``account_value_usd`` (``marginSummary.accountValue``), ``available_margin_usd``
(``withdrawable``; -1 = not known), ``margin_used_usd``
(``marginSummary.totalMarginUsed``), per coin ``leverage`` (``position.leverage.value``;
0 = not known, which is also the case of a coin without a position) and
``liquidation_px`` (``position.liquidationPx``; ``null`` = none = 0), stamped with
``account_update_mono_ns``. A missing or malformed value stays "not known" and is
logged once per field; nothing here raises.

When: every clearinghouseState body the gateway reads goes through ``apply``
(start-up and resync reconciliation, the periodic position check). ``AccountPoller``
adds a read of its own (weight 2) when the last one is older than
``account_refresh_s``, and after fills at most every ``account_after_fill_s`` while
more than half of the IP budget is free (an optional read never competes with orders).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np

log = logging.getLogger("gateway")

MARGIN_NOT_KNOWN_USD = -1.0
RETRY_S = 1.0  # a read that got no answer is tried again this much later
MIN_IP_HEADROOM_AFTER_FILL = 0.5

_warned: set[str] = set()


def _warn_once(what: str, value) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("clearinghouseState: %s malformed or missing (%r): kept as not known "
                    "(logged once)", what, value if not isinstance(value, dict | list) else "...")


def _num(x, what: str) -> float | None:
    """A finite float from a wire value (decimal string or number), else None (logged once)."""
    if isinstance(x, bool):
        _warn_once(what, x)
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        _warn_once(what, x)
        return None
    if not math.isfinite(v):
        _warn_once(what, x)
        return None
    return v


def set_not_known(pos: np.ndarray) -> None:
    """Mark the account fields of POSITION_STATE rows as not known (no venue account)."""
    pos["account_update_mono_ns"] = 0
    pos["account_value_usd"] = 0.0
    pos["available_margin_usd"] = MARGIN_NOT_KNOWN_USD
    pos["margin_used_usd"] = 0.0
    pos["leverage"] = 0.0
    pos["liquidation_px"] = 0.0


def our_positions(ch: dict, coin_index: dict[str, int]) -> list[tuple[int, dict]]:
    """(coin index, position object) of every listed position in a coin we trade;
    malformed entries are skipped with a warning (once)."""
    aps = ch.get("assetPositions", [])
    if not isinstance(aps, list):
        _warn_once("assetPositions", aps)
        return []
    out = []
    for ap in aps:
        p = ap.get("position") if isinstance(ap, dict) else None
        if not isinstance(p, dict):
            _warn_once("assetPositions[].position", ap)
            continue
        c = coin_index.get(p.get("coin"))
        if c is not None:  # else a coin we do not trade
            out.append((c, p))
    return out


def apply(positions, coin_index: dict[str, int], ch, now_mono_ns: int | None = None) -> bool:
    """Write the account facts of a clearinghouseState body into ``positions.pos`` (rows
    of the coins in ``coin_index``, marked dirty). False, nothing written, when ``ch``
    is not such a body (no answer, an error)."""
    if not isinstance(ch, dict) or not ("marginSummary" in ch or "withdrawable" in ch):
        if ch is not None:
            _warn_once("the body", ch)
        return False
    ms = ch.get("marginSummary")
    if not isinstance(ms, dict):
        _warn_once("marginSummary", ms)
        ms = {}
    value = _num(ms.get("accountValue"), "marginSummary.accountValue")
    used = _num(ms.get("totalMarginUsed"), "marginSummary.totalMarginUsed")
    avail = _num(ch.get("withdrawable"), "withdrawable")
    n = len(coin_index)
    lev = [0.0] * n
    liq = [0.0] * n
    for c, p in our_positions(ch, coin_index):
        lv = p.get("leverage")
        v = _num(lv.get("value") if isinstance(lv, dict) else None, "position.leverage.value")
        lev[c] = v if v is not None and v > 0.0 else 0.0
        raw = p.get("liquidationPx")
        if raw is not None:  # null: no liquidation price (far, or no risk)
            x = _num(raw, "position.liquidationPx")
            liq[c] = x if x is not None and x > 0.0 else 0.0
    now = time.monotonic_ns() if now_mono_ns is None else now_mono_ns
    for c in range(n):
        r = positions.pos[c]
        r["account_value_usd"] = value if value is not None else 0.0
        r["available_margin_usd"] = max(avail, 0.0) if avail is not None else MARGIN_NOT_KNOWN_USD
        r["margin_used_usd"] = used if used is not None else 0.0
        r["leverage"] = lev[c]
        r["liquidation_px"] = liq[c]
        r["account_update_mono_ns"] = now
        positions.dirty[c] = True
    return True


class AccountPoller:
    """Decides the account's own reads between the ones position checks bring."""

    def __init__(self, refresh_s: float, after_fill_s: float) -> None:
        self.refresh_s = refresh_s
        self.after_fill_s = after_fill_s
        self.next_try_s = 0.0
        self.reads = 0

    def due(self, now_s: float, last_update_ns: int, last_fill_s: float,
            ip_headroom_frac: float) -> bool:
        """``now_s``/``last_fill_s``: time.monotonic(); ``last_update_ns``: the account's
        ``account_update_mono_ns`` (0 = never), the same clock."""
        if now_s < self.next_try_s:
            return False
        if last_update_ns <= 0:
            return True
        age_s = now_s - last_update_ns / 1e9
        if age_s >= self.refresh_s:
            return True
        return (self.after_fill_s > 0.0 and last_fill_s > last_update_ns / 1e9
                and age_s >= self.after_fill_s and ip_headroom_frac > MIN_IP_HEADROOM_AFTER_FILL)

    def step(self, now_s: float, last_update_ns: int, last_fill_s: float, ip_headroom_frac: float,
             read_account: Callable[[], object]) -> int:
        """Call ``read_account()`` (one clearinghouseState read, applied) if due; returns
        the reads made (0 or 1). Arguments as for ``due``."""
        if not self.due(now_s, last_update_ns, last_fill_s, ip_headroom_frac):
            return 0
        self.next_try_s = now_s + RETRY_S
        self.reads += 1
        read_account()
        return 1
