"""Position, PnL and the two things the gateway publishes from them: PositionState
(seqlock, per coin) and the FILL_EVENT ring (the estimator marks our fills out).

Bookkeeping mirrors ``paper.apply_fill`` (average entry, realized PnL on the
closing part, fees as the venue reports them); it is plain Python because it runs
once per fill, not per market event.
"""

from __future__ import annotations

import time

import numpy as np

from appliance.ipc import byte_rows, ring, seqlock
from shm_layout import records
from shm_layout.constants import MAX_LEVELS

from . import account

EPS_SZ = 1e-12


class Positions:
    def __init__(self, mem, n_coins: int) -> None:
        self.mem = mem
        self.n_coins = n_coins
        n = mem.position.spec.n_records
        self.pos = np.zeros(n, records.POSITION_STATE)
        account.set_not_known(self.pos)  # until the first clearinghouseState
        self._pos_u8 = byte_rows(self.pos)
        self._fill = np.zeros(1, records.FILL_EVENT)
        self._fill_u8 = byte_rows(self._fill)
        self.dirty = [True] * n_coins

    def apply_fill(self, c: int, side: int, px: float, sz: float, fee_usd: float) -> None:
        p = self.pos[c]
        q = float(p["position_sz"])
        entry = float(p["avg_entry_px"])
        if q == 0.0 or (q > 0.0) == (side > 0):
            p["avg_entry_px"] = (abs(q) * entry + sz * px) / (abs(q) + sz)
        else:
            closed = min(sz, abs(q))
            p["realized_pnl_usd"] += closed * (px - entry) * (1.0 if q > 0.0 else -1.0)
            if sz > abs(q):
                p["avg_entry_px"] = px
            elif abs(sz - abs(q)) < EPS_SZ:
                p["avg_entry_px"] = 0.0
        q += side * sz
        if abs(q) < 1e-9:
            q = 0.0
            p["avg_entry_px"] = 0.0
        p["position_sz"] = q
        p["fees_usd"] += fee_usd
        p["volume_usd"] += px * sz
        p["n_fills"] += 1
        self.mark(c, float(p["mark_px"]))

    def set_position(self, c: int, szi: float, entry_px: float) -> None:
        """Adopt the venue's position (start-up, or a confirmed mismatch)."""
        p = self.pos[c]
        p["position_sz"] = szi
        p["avg_entry_px"] = entry_px if szi else 0.0
        self.mark(c, float(p["mark_px"]))

    def add_funding(self, c: int, usdc: float) -> None:
        self.pos[c]["realized_pnl_usd"] += usdc
        self.pos[c]["funding_usd"] += usdc  # also apart: P&L attribution's funding
        self.mark(c, float(self.pos[c]["mark_px"]))

    def mark(self, c: int, mid: float) -> None:
        p = self.pos[c]
        if mid > 0.0:
            p["mark_px"] = mid
        q = float(p["position_sz"])
        m = float(p["mark_px"])
        p["unrealized_pnl_usd"] = q * (m - float(p["avg_entry_px"])) if q and m > 0 else 0.0
        p["total_pnl_usd"] = p["realized_pnl_usd"] + p["unrealized_pnl_usd"] - p["fees_usd"]
        self.dirty[c] = True

    def set_orders(self, c: int, bids: list, asks: list) -> None:
        """Our active orders, best first (``(px, open sz)`` pairs)."""
        p = self.pos[c]
        for name_px, name_sz, name_n, side in (("open_bid_px", "open_bid_sz", "n_open_bids", bids),
                                               ("open_ask_px", "open_ask_sz", "n_open_asks", asks)):
            p[name_px][:] = 0.0
            p[name_sz][:] = 0.0
            for i, (px, sz) in enumerate(side[:MAX_LEVELS]):
                p[name_px][i] = px
                p[name_sz][i] = sz
            p[name_n] = len(side)
        self.dirty[c] = True

    def publish(self, force: bool = False) -> None:
        now = time.monotonic_ns()
        mem = self.mem
        for c in range(self.n_coins):
            if self.dirty[c] or force:
                self.pos[c]["coin"] = c
                self.pos[c]["update_mono_ns"] = now
                seqlock.write_block(mem.position.seqs, mem.position.rows, c, self._pos_u8[c])
                self.dirty[c] = False

    def publish_fill(self, c: int, side: int, px: float, sz: float, fee_usd: float, ts_ns: int,
                     oid: int, is_maker: bool, level: int, level_id: int, mid_px: float,
                     pred_fill_prob: float, pred_as_bps: float) -> None:
        f = self._fill[0]
        f["coin"], f["side"], f["is_maker"], f["level"] = c, side, int(is_maker), level
        f["ts_ns"], f["oid"], f["level_id"] = ts_ns, oid, level_id
        f["px"], f["sz"], f["fee_usd"], f["mid_px"] = px, sz, fee_usd, mid_px
        f["pred_fill_prob"], f["pred_as_bps"] = pred_fill_prob, pred_as_bps
        f["position_sz"] = self.pos[c]["position_sz"]
        now = time.monotonic_ns()
        f["pub_mono_ns"] = now
        ring.publish(self.mem.fills.ring_words, self.mem.fills.seqs, self.mem.fills.rows,
                     self._fill_u8[0], now)
