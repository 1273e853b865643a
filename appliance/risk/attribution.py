"""Live P&L attribution in the risk watchdog, through ``appliance.measure.attribution``
(its docstring says why here and how the figures are defined).

Every ``STEP_EVERY_S`` (a cycle of checks after it), per coin: the fills the cycles read
(``RiskView.new_fills``) go into the coin's ``Ledger``; the ledger books those the PositionState snapshot
counts, marks out those past the horizon at the MarketParams mid, and checks that
the components sum to the snapshot's P&L since the session started. The ledger lives
in the ``attrib`` segment (``records.ATTRIBUTION_STATE``, one seqlock block per coin,
this process its only writer): a restarted watchdog carries on from it, ``mmctl
report`` and the metrics exporter read it.

``<state_dir>/attribution-journal.jsonl`` (the journal line format of
``runtime/journal.py``) gets a ``session`` record at each session's start, one
``fill`` record per fill once its horizon has passed (its spread and adverse-selection
legs; ``fill_ts_ns`` its venue time), every ``adjustment``, a ``mismatch`` when the sum
stops holding, and a ``snap`` of every coin's components every ``SNAP_EVERY_S`` (``t_ns``
the cycle's wall time; ``mmctl report --plot`` draws them). Writing it never stops the
watchdog (``RiskJournal``); after a failed write (a full disk) records are dropped, and
counted, for ``WRITE_BACKOFF_S`` rather than reopening the journal on every one.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from appliance.config import state_dir
from appliance.ipc import byte_rows, seqlock
from appliance.measure.attribution import Ledger, ledger_summary
from shm_layout import records

from .journal import RiskJournal

JOURNAL_NAME = "attribution-journal.jsonl"
SNAP_EVERY_S = 5.0
# The ledger's cadence: the mid at fill+H is H plus up to this late, and the sum is
# checked this often (a step costs a few hundred microseconds of Python).
STEP_EVERY_S = 0.1
WRITE_BACKOFF_S = 10.0
MAX_EARLY_FILLS = 4096  # fills read before a coin's session started, kept for it

log = logging.getLogger("risk")


def journal_path(cfg, instance: str) -> Path:
    return state_dir(cfg, instance) / JOURNAL_NAME


class LiveAttribution:
    def __init__(self, cfg, mem, path: str | Path, on_error=None, every_s: float = STEP_EVERY_S) -> None:
        self.coins = tuple(cfg.appliance.coins)
        self.seg = mem.attrib
        self.horizon_ns = int(round(cfg.risk.attribution_horizon_s * 1e9))
        self.recs = np.zeros(self.seg.spec.n_records, records.ATTRIBUTION_STATE)
        for c in range(len(self.coins)):  # a restarted watchdog carries on
            self.recs[c], _ = seqlock.snapshot(self.seg, c)
        self.recs_u8 = byte_rows(self.recs)
        self.ledgers = [Ledger(self.recs[c]) for c in range(len(self.coins))]
        self.early: list[list] = [[] for _ in self.coins]
        self.journal = RiskJournal(path, fsync="never", on_error=on_error)
        self.next_snap_mono = 0.0
        self.every_ns = int(every_s * 1e9)
        self.next_step_ns = 0
        self.queued: list = []  # fills read since the last step
        self.dropped = 0  # journal records not written (backoff after a failure)
        self._write_ok_after = 0.0
        self._last_fills = None
        self.wall_minus_mono = time.time_ns() - time.monotonic_ns()

    def step(self, view, now_mono_ns: int | None = None) -> None:
        """One cycle over ``view`` (a refreshed ``checks.RiskView``)."""
        now = time.monotonic_ns() if now_mono_ns is None else now_mono_ns
        if view.new_fills is not None and view.new_fills is not self._last_fills:  # each cycle's once
            self.queued.extend(view.new_fills)
        self._last_fills = view.new_fills
        if now < self.next_step_ns:
            return
        self.next_step_ns = now + self.every_ns
        fills = np.array(self.queued, records.FILL_EVENT)
        self.queued = []
        for c, coin in enumerate(self.coins):
            mine = fills[fills["coin"] == c]
            pos = view.positions.get(c)
            if self._coin(c, coin, mine, pos, view.params.get(c), now):
                seqlock.write_block(self.seg.seqs, self.seg.rows, c, self.recs_u8[c])
        if now / 1e9 >= self.next_snap_mono:
            self.next_snap_mono = now / 1e9 + SNAP_EVERY_S
            for c, coin in enumerate(self.coins):
                if self.ledgers[c].started and self.recs[c]["n_checks"] > 0:
                    self._write("snap", coin, t_ns=now + self.wall_minus_mono,
                                **ledger_summary(self.recs[c]))

    def _coin(self, c: int, coin: str, fills: np.ndarray, pos, params, now: int) -> bool:
        """Returns True when the record changed."""
        led, r = self.ledgers[c], self.recs[c]
        if pos is None or not (led.started or self._start(c, coin, pos, now)):
            early = self.early[c]  # no position to compare with yet: keep them
            early.extend(fills)
            del early[:-MAX_EARLY_FILLS]
            return False
        if self.early[c]:  # read while no position could be compared: their turn now
            fills = np.array(self.early[c] + list(fills), records.FILL_EVENT)
            self.early[c] = []
        out = []
        for f in fills:
            out += led.add_fill(pub_ns=int(f["pub_mono_ns"]), ts_ns=int(f["ts_ns"]), side=int(f["side"]),
                                sz=float(f["sz"]), px=float(f["px"]), mid_px=float(f["mid_px"]),
                                fee_usd=float(f["fee_usd"]), maker=bool(f["is_maker"]))
        was_ok = bool(r["ok"])
        mid = float(params["mid_px"]) if params is not None else math.nan
        out += led.step(now_mono_ns=now, mid_px=mid, pos_update_ns=int(pos["update_mono_ns"]),
                        pnl_usd=float(pos["total_pnl_usd"]), position_sz=float(pos["position_sz"]),
                        mark_px=float(pos["mark_px"]), funding_usd=float(pos["funding_usd"]))
        for e in out:
            k = e.pop("k")
            self._write(k, coin, **e)
        if was_ok and not r["ok"]:
            log.error("%s: P&L attribution does not sum: components %.4f + adjustments %.4f vs "
                      "P&L %.4f USD (residual %+.4f)", coin, float(r["total_usd"]),
                      float(r["adjustment_usd"]), float(r["pnl_usd"]), float(r["residual_usd"]))
            self._write("mismatch", coin, **ledger_summary(r))
        return True

    def _start(self, c: int, coin: str, pos, now: int) -> bool:
        """A session's baseline from the first PositionState the gateway published (and
        marked, when there is a position)."""
        if pos is None or int(pos["update_mono_ns"]) == 0:
            return False
        q, mark, pnl = float(pos["position_sz"]), float(pos["mark_px"]), float(pos["total_pnl_usd"])
        if (q != 0.0 and not mark > 0.0) or not math.isfinite(pnl):
            return False
        self.recs[c]["coin"] = c
        self.ledgers[c].start(horizon_ns=self.horizon_ns, pnl_usd=pnl, position_sz=q, mark_px=mark,
                              funding_usd=float(pos["funding_usd"]), pos_update_ns=int(pos["update_mono_ns"]),
                              now_mono_ns=now, now_wall_ns=now + self.wall_minus_mono,
                              n_fills=int(pos["n_fills"]))
        self._write("session", coin, base_pnl_usd=pnl, position_sz=q, mark_px=mark,
                    horizon_s=self.horizon_ns / 1e9, start_ts_ns=now + self.wall_minus_mono)
        return True

    def _write(self, kind: str, coin: str, **fields) -> None:
        if time.monotonic() < self._write_ok_after:
            self.dropped += 1
            return
        if not self.journal.write(kind, coin=coin, **fields):
            self._write_ok_after = time.monotonic() + WRITE_BACKOFF_S

    def close(self) -> None:
        self.journal.close()
