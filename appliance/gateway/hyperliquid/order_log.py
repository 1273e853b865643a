"""One log line per step in an order's life, with the fields to follow it.

Every line carries ``event`` (place, modify, cancel, fill, reject), ``coin`` (the
name), ``oid`` (the venue's id; null until the venue gave one), ``cloid`` (ours) and
``pred_id`` (the TargetLadder prediction the order was placed or last modified on,
the key into the quote's forecasts; 0 for an order not placed by this run). Lines are
written when the venue's answer is known, so a place line says how it ended
(``status``: resting, filled, unknown). The journal stays the record of truth; these
lines are for reading (``jq 'select(.cloid == "0x...")'``).

Also counts what it logged: the gateway's shutdown summary reads ``counts``.
"""

from __future__ import annotations

import logging

from appliance.gateway.order_state import TrackedOrder

log = logging.getLogger("gateway")

EVENTS = ("place", "modify", "cancel", "fill", "reject")


class OrderLog:
    def __init__(self, coins: list[str]) -> None:
        self.coins = coins
        self.counts = dict.fromkeys(EVENTS, 0)

    def _line(self, event: str, c: int, oid: int, cloid: str, pred_id: int, msg: str,
              level: int = logging.INFO, **fields: object) -> None:
        self.counts[event] += 1
        if not log.isEnabledFor(level):  # the hot path pays for a line only when it is kept
            return
        coin = self.coins[c] if 0 <= c < len(self.coins) else str(c)
        log.log(level, "%s %s %s", event, coin, msg,
                extra={"event": event, "coin": coin, "oid": oid or None, "cloid": cloid or None,
                       "pred_id": pred_id, **fields})

    @staticmethod
    def _side(is_buy: bool) -> str:
        return "buy" if is_buy else "sell"

    def placed(self, o: TrackedOrder, pred_id: int, status: str, oid: int = 0) -> None:
        """A new order's answer: ``status`` resting, filled (``oid``: the venue's, not yet
        bound), or unknown (no answer)."""
        self._line("place", o.coin, oid or o.oid, o.cloid, pred_id,
                   f"{self._side(o.is_buy)} {o.sz:g} @ {o.px:g} {status}", side=self._side(o.is_buy),
                   px=o.px, sz=o.sz, ladder_level=o.level, tif=o.tif, status=status)

    def modified(self, o: TrackedOrder, old_oid: int, pred_id: int, px: float, sz: float,
                 status: str = "resting") -> None:
        """A modify's answer: the order rests under a new oid (``status`` resting), or no
        answer came (unknown: the reconciliation will say)."""
        self._line("modify", o.coin, o.oid, o.cloid, pred_id,
                   f"{self._side(o.is_buy)} {sz:g} @ {px:g} (oid {old_oid} -> {o.oid}) {status}",
                   side=self._side(o.is_buy), px=px, sz=sz, old_oid=old_oid, status=status)

    def rejected(self, o: TrackedOrder, pred_id: int, what: str, reason: str) -> None:
        """``what``: place or modify; a post-only reject is routine (debug level)."""
        level = logging.DEBUG if reason.startswith("Post only") else logging.WARNING
        self._line("reject", o.coin, o.oid, o.cloid, pred_id, f"{what} rejected: {reason}",
                   level=level, side=self._side(o.is_buy), px=o.px, what=what, reason=reason)

    def cancelled(self, o: TrackedOrder, pred_id: int, ok: bool | None) -> None:
        """``ok``: the venue's answer, None when none came."""
        status = "unknown" if ok is None else ("cancelled" if ok else "failed")
        self._line("cancel", o.coin, o.oid, o.cloid, pred_id, status, side=self._side(o.is_buy),
                   px=o.px, status=status)

    def filled(self, c: int, oid: int, cloid: str, pred_id: int, side: int, px: float, sz: float,
               fee_usd: float, maker: bool, position_sz: float, tid: int = 0) -> None:
        s = "buy" if side > 0 else "sell"
        self._line("fill", c, oid, cloid, pred_id, f"{s} {sz:g} @ {px:g}, position {position_sz:g}",
                   side=s, px=px, sz=sz, fee_usd=fee_usd, maker=maker, tid=tid,
                   position_sz=position_sz)
