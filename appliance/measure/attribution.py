"""P&L attribution: every dollar of P&L to spread capture, adverse selection,
inventory, funding or fees, per fill and in aggregate, live and in backtests.

Per fill (``sq = side * size``, side +1 we bought, -1 we sold; USD, positive = we
made money):

* spread capture      ``sq * (mid_at_fill - fill_px)``: the edge against the mid;
* adverse selection   ``sq * (mid_at_fill+H - mid_at_fill)``: the mid's move over the
  markout horizon ``H`` (default 10 s), negative when the market ran over us;
* inventory           ``sq * (final_mark - mid_at_fill+H)``: the mark-to-market of the
  held inventory after the horizon (summed over fills, the MTM of the position
  between fills); a position held at the start adds ``q0 * (final_mark - start_mark)``;

and in aggregate funding (received, negative = paid) and fees (``-sum(fee)``: a
negative fee is a rebate, so ``fees_usd`` is positive when rebates exceed fees).
The three legs of a fill sum to ``sq * (final_mark - fill_px)``, its whole
mark-to-market, whatever the mid at fill+H; so the components sum to the P&L of the
position accounting (realized + unrealized - fees + funding). That is an invariant:
``check_sum`` raises ``AttributionMismatch`` beyond ``SUM_TOLERANCE_USD`` (half a cent).

A fill too close to the end of the data (or of the session so far) for the horizon
has no mid at fill+H: its adverse-selection leg runs to the final mark instead and
its inventory leg is 0 (``at_horizon`` False in the per-fill record). A mid at fill
that is not known (0 or NaN) is taken as the fill price (spread leg 0).

Who computes it
---------------
* Backtest (``appliance/backtest/pnl_attribution.py``): ``per_fill`` and ``summarize``
  over the run's fills; the mid at fill+H is the markouts' own mid (the first book
  mid at least H after the fill, exact), the final mark the position's last mark.
* Live: the risk watchdog (``appliance/risk/attribution.py``) runs a ``Ledger`` over
  one ``shm_layout.records.ATTRIBUTION_STATE`` block per coin. It is the one process
  that already reads both our fills (the fills ring) and market data (MarketParams,
  PositionState) every cycle, off the hot path: the gateway only books and publishes
  fills, nothing of this runs in it. The mid at fill+H is the MarketParams mid of the
  first ledger step at least H after the fill was published (steps are 0.1 s apart,
  ``risk/attribution.py`` ``STEP_EVERY_S``: the horizon is H plus at most that). The
  block is in shared memory so that a restarted watchdog carries on and ``mmctl
  report`` and the metrics read it; the watchdog journals each fill's legs when its
  horizon has passed, and a snapshot of the components every few seconds.
* A fill counts against a PositionState snapshot when it was published at or
  before the snapshot's ``update_mono_ns`` (the gateway books a fill, publishes it,
  then publishes the position; so both views agree exactly). The session's P&L is
  the snapshot's ``total_pnl_usd`` minus the one at the session's start.
* A position the gateway adopts or corrects from the venue is not a trade of ours:
  the ledger sees the position differ from start + fills, books the P&L jump as
  ``adjustment_usd`` (counted, journaled, shown by ``mmctl report``) and carries on
  from the new position; the invariant is then ``components + adjustment == pnl``.

Pure numpy, importing nothing of the appliance (the lowest import layer).
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_HORIZON_S = 10.0
SUM_TOLERANCE_USD = 0.005
COMPONENTS = ("spread_usd", "adverse_selection_usd", "inventory_usd", "funding_usd", "fees_usd")
# the Prometheus label of each component (mm_pnl_component_usd{component=...})
COMPONENT_LABELS = {"spread_usd": "spread", "adverse_selection_usd": "adverse_selection",
                    "inventory_usd": "inventory", "funding_usd": "funding", "fees_usd": "fees"}

PER_FILL = np.dtype([
    ("ts_ns", "<i8"),  # the fill's time (the horizon runs from it)
    ("side", "i1"),
    ("at_horizon", "?"),  # False: no mid at fill+H (end of data): AS ran to the final mark
    ("sz", "<f8"),
    ("px", "<f8"),
    ("mid_px", "<f8"),  # mid at the fill (the fill price when not known)
    ("mid_h_px", "<f8"),  # mid at fill+H (the final mark when not at_horizon)
    ("spread_usd", "<f8"),
    ("adverse_selection_usd", "<f8"),
    ("inventory_usd", "<f8"),
    ("fees_usd", "<f8"),  # -fee: negative when paid, positive for a rebate
])


class AttributionMismatch(RuntimeError):
    """The components do not sum to the P&L within ``SUM_TOLERANCE_USD``."""


def clean_mid(mid: np.ndarray, px: np.ndarray) -> np.ndarray:
    """The mid where it is known (finite, > 0), else the fill price."""
    mid = np.asarray(mid, np.float64)
    px = np.asarray(px, np.float64)
    return np.where(np.isfinite(mid) & (mid > 0.0), mid, px)


def per_fill(side, sz, px, mid, fee, mid_h, final_mark: float, ts_ns=None) -> np.ndarray:
    """The legs of each fill (``PER_FILL`` records). ``mid_h`` NaN: no mid at fill+H
    (the fill was too close to the end): the final mark stands in for it."""
    side = np.asarray(side)
    n = side.shape[0]
    out = np.zeros(n, PER_FILL)
    px = np.asarray(px, np.float64)
    mid = clean_mid(mid, px)
    mid_h = np.asarray(mid_h, np.float64)
    ok = np.isfinite(mid_h) & (mid_h > 0.0)
    mid_h = np.where(ok, mid_h, final_mark)
    sq = side.astype(np.float64) * np.asarray(sz, np.float64)
    out["ts_ns"] = 0 if ts_ns is None else np.asarray(ts_ns, np.int64)
    out["side"] = side
    out["at_horizon"] = ok
    out["sz"] = sz
    out["px"] = px
    out["mid_px"] = mid
    out["mid_h_px"] = mid_h
    out["spread_usd"] = sq * (mid - px)
    out["adverse_selection_usd"] = sq * (mid_h - mid)
    out["inventory_usd"] = sq * (final_mark - mid_h)
    out["fees_usd"] = -np.asarray(fee, np.float64)
    return out


def summarize(fills: np.ndarray, final_mark: float, funding_usd: float = 0.0,
              start_position_sz: float = 0.0, start_mark_px: float = 0.0) -> dict[str, float]:
    """The components (``COMPONENTS``) and ``total_usd`` of ``PER_FILL`` records, with
    the funding received and a position held from the start (marked from
    ``start_mark_px``) in the inventory."""
    start_inv = start_position_sz * (final_mark - start_mark_px) if start_position_sz else 0.0
    c = {
        "spread_usd": float(fills["spread_usd"].sum()),
        "adverse_selection_usd": float(fills["adverse_selection_usd"].sum()),
        "inventory_usd": float(fills["inventory_usd"].sum()) + start_inv,
        "funding_usd": float(funding_usd),
        "fees_usd": float(fills["fees_usd"].sum()),
    }
    c["total_usd"] = sum(c[k] for k in COMPONENTS)
    return c


def check_sum(total_usd: float, pnl_usd: float, tol_usd: float = SUM_TOLERANCE_USD,
              what: str = "attribution") -> float:
    """``pnl - total``; raises ``AttributionMismatch`` when beyond ``tol_usd`` (or not finite)."""
    residual = pnl_usd - total_usd
    if not abs(residual) <= tol_usd:
        raise AttributionMismatch(
            f"{what}: the components sum to {total_usd:.6f} USD but the P&L is {pnl_usd:.6f} USD "
            f"(residual {residual:+.6f}, tolerance {tol_usd:g})")
    return residual


def mid_after(t_ns, horizon_ns: int, mid_ts_ns: np.ndarray, mid_px: np.ndarray) -> np.ndarray:
    """The first mid of a (time-sorted) series at or after ``t + horizon``; NaN when
    the series ends before it."""
    t = np.asarray(t_ns, np.int64) + int(horizon_ns)
    i = np.searchsorted(np.asarray(mid_ts_ns, np.int64), t, side="left")
    mids = np.append(np.asarray(mid_px, np.float64), np.nan)
    return mids[i]


def cumulative(fills: np.ndarray, grid_ns: np.ndarray, pnl_at_grid: np.ndarray, horizon_ns: int,
               funding_usd: float = 0.0) -> dict[str, np.ndarray]:
    """Each component summed up to each time of ``grid_ns`` (for plots): spread and
    fees at the fill, adverse selection once its horizon passed (at the end for fills
    without one); inventory is the P&L at that time less the others (the MTM of the
    inventory, with the moves of fills still inside their horizon); funding, whose
    times are not known here, is taken out at the end."""
    grid = np.asarray(grid_ns, np.int64)
    order = np.argsort(fills["ts_ns"], kind="stable")
    f = fills[order]

    def upto(times: np.ndarray, values: np.ndarray) -> np.ndarray:
        o = np.argsort(times, kind="stable")
        cs = np.concatenate(([0.0], np.cumsum(values[o])))
        return cs[np.searchsorted(times[o], grid, side="right")]

    spread = upto(f["ts_ns"], f["spread_usd"])
    fees = upto(f["ts_ns"], f["fees_usd"])
    big = np.iinfo(np.int64).max
    as_t = np.where(f["at_horizon"], f["ts_ns"] + int(horizon_ns), big)
    adverse = upto(as_t, f["adverse_selection_usd"])
    if grid.shape[0] and not f["at_horizon"].all():
        adverse[-1] += float(f["adverse_selection_usd"][~f["at_horizon"]].sum())
    funding = np.zeros(grid.shape[0])
    if grid.shape[0]:
        funding[-1] = funding_usd
    pnl = np.asarray(pnl_at_grid, np.float64)
    return {"spread_usd": spread, "adverse_selection_usd": adverse, "fees_usd": fees,
            "funding_usd": funding, "inventory_usd": pnl - spread - adverse - fees - funding,
            "pnl_usd": pnl}


# --- live: the ledger over one coin's record ---------------------------------------
F_BOOKED, F_MATURED, F_MAKER = 1, 2, 4  # pend_flags bits
PENDING_FIELDS = ("pend_pub_ns", "pend_ts_ns", "pend_sq", "pend_px", "pend_mid_px",
                  "pend_mid_h_px", "pend_fee_usd", "pend_flags")
STATE_FIELDS = (
    "started", "ok", "horizon_ns", "start_ts_ns", "start_mono_ns", "update_mono_ns",
    "base_pos_update_ns", "base_pnl_usd", "base_funding_usd", "base_n_fills", "inv_position_sz",
    "inv_mark_px", "inv_carried_usd", "booked_sq", "closed_sq", "closed_sq_mid_h", "closed_as_usd",
    "acc_spread_usd", "acc_fee_usd", "volume_usd", "n_fills", "n_maker", "n_overflow",
    "n_adjustments", "n_checks", "n_failed", "total_usd", "pnl_usd", "adjustment_usd",
    "residual_usd", "max_abs_residual_usd", "mark_px", "position_sz", "n_pending",
)
LEDGER_FIELDS = STATE_FIELDS + COMPONENTS + PENDING_FIELDS  # what a ledger record must have


def _ok_px(x: float) -> bool:
    return math.isfinite(x) and x > 0.0


class Ledger:
    """Live attribution over one coin's record (fields ``LEDGER_FIELDS``: the risk
    watchdog's ``shm_layout.records.ATTRIBUTION_STATE``). ``add_fill`` as fills are
    read; ``step`` with each PositionState snapshot books the fills it covers, closes
    those past the horizon and computes the components against it (module docstring).
    Fills not closed yet wait in the record's ``pend_*`` arrays, oldest first; when
    they are full the oldest is closed at once (counted in ``n_overflow``)."""

    def __init__(self, rec, size_tol: float = 1e-7) -> None:
        self.r = rec
        self.cap = rec["pend_sq"].shape[0]
        self.size_tol = size_tol  # a position off start + fills by more: an adjustment

    @property
    def started(self) -> bool:
        return bool(self.r["started"])

    def start(self, *, horizon_ns: int, pnl_usd: float, position_sz: float, mark_px: float,
              funding_usd: float, pos_update_ns: int, now_mono_ns: int, now_wall_ns: int,
              n_fills: int = 0) -> None:
        """A new session from a PositionState snapshot: its P&L, position, mark, funding
        and fill count are the baseline; fills published up to ``pos_update_ns`` are in it."""
        r = self.r
        for name in LEDGER_FIELDS:
            r[name] = 0
        r["horizon_ns"], r["start_ts_ns"], r["start_mono_ns"] = horizon_ns, now_wall_ns, now_mono_ns
        r["base_pos_update_ns"], r["base_pnl_usd"] = pos_update_ns, pnl_usd
        r["base_funding_usd"], r["inv_position_sz"], r["inv_mark_px"] = funding_usd, position_sz, mark_px
        r["base_n_fills"] = n_fills
        r["mark_px"], r["position_sz"] = mark_px, position_sz
        r["started"], r["ok"] = 1, 1

    def add_fill(self, *, pub_ns: int, ts_ns: int, side: int, sz: float, px: float, mid_px: float,
                 fee_usd: float, maker: bool) -> list[dict]:
        """One fill read from the fills ring; returns the fills closed to make room."""
        r = self.r
        if pub_ns <= r["base_pos_update_ns"]:
            return []  # in the session's baseline already
        out = []
        if r["n_pending"] >= self.cap:  # full: close the oldest now
            r["n_overflow"] += 1
            flags = r["pend_flags"]
            if not flags[0] & F_BOOKED:
                self._book(np.arange(self.cap) == 0)
            if not flags[0] & F_MATURED:
                r["pend_mid_h_px"][0] = r["mark_px"] if _ok_px(r["mark_px"]) else r["pend_mid_px"][0]
                flags[0] |= F_MATURED
            out = self._close(np.arange(self.cap) == 0)
        k = int(r["n_pending"])
        r["pend_pub_ns"][k], r["pend_ts_ns"][k] = pub_ns, ts_ns
        r["pend_sq"][k], r["pend_px"][k] = side * sz, px
        r["pend_mid_px"][k] = mid_px if _ok_px(mid_px) else px
        r["pend_mid_h_px"][k], r["pend_fee_usd"][k] = math.nan, fee_usd
        r["pend_flags"][k] = F_MAKER if maker else 0
        r["n_pending"] = k + 1
        return out

    def _book(self, mask: np.ndarray) -> None:
        r = self.r
        n = int(r["n_pending"])
        m = mask[:n]
        sq, px = r["pend_sq"][:n][m], r["pend_px"][:n][m]
        r["acc_spread_usd"] += float((sq * (r["pend_mid_px"][:n][m] - px)).sum())
        r["acc_fee_usd"] += float(r["pend_fee_usd"][:n][m].sum())
        r["volume_usd"] += float((np.abs(sq) * px).sum())
        r["booked_sq"] += float(sq.sum())
        r["n_fills"] += int(m.sum())
        r["n_maker"] += int((r["pend_flags"][:n][m] & F_MAKER != 0).sum())
        r["pend_flags"][:n][m] |= F_BOOKED

    def _close(self, mask: np.ndarray) -> list[dict]:
        """Fills booked and past their horizon leave the pending arrays."""
        r = self.r
        n = int(r["n_pending"])
        m = mask[:n]
        if not m.any():
            return []
        sq, mid, mid_h = r["pend_sq"][:n][m], r["pend_mid_px"][:n][m], r["pend_mid_h_px"][:n][m]
        as_usd = sq * (mid_h - mid)
        r["closed_as_usd"] += float(as_usd.sum())
        r["closed_sq"] += float(sq.sum())
        r["closed_sq_mid_h"] += float((sq * mid_h).sum())
        px, fee = r["pend_px"][:n][m], r["pend_fee_usd"][:n][m]
        out = [{"k": "fill", "fill_ts_ns": int(t), "side": 1 if q > 0 else -1, "sz": abs(float(q)),
                "px": float(p), "mid_px": float(a), "mid_h_px": float(b), "fee_usd": float(f),
                "spread_usd": float(q * (a - p)), "adverse_selection_usd": float(s),
                "maker": bool(fl & F_MAKER)}
               for t, q, p, a, b, f, s, fl in zip(r["pend_ts_ns"][:n][m], sq, px, mid, mid_h, fee,
                                                   as_usd, r["pend_flags"][:n][m], strict=True)]
        keep = ~m
        k = int(keep.sum())
        for name in PENDING_FIELDS:
            a = r[name]
            a[:k] = a[:n][keep]
            a[k:n] = 0
        r["n_pending"] = k
        return out

    def step(self, *, now_mono_ns: int, mid_px: float, pos_update_ns: int, pnl_usd: float,
             position_sz: float, mark_px: float, funding_usd: float) -> list[dict]:
        """One cycle against a PositionState snapshot (its ``update_mono_ns``, total
        P&L, position, mark, funding) and the mid now. Returns what to journal: the
        fills closed (``k`` "fill") and an adjustment (``k`` "adjustment")."""
        r = self.r
        n = int(r["n_pending"])
        flags = r["pend_flags"][:n]
        new = (flags & F_BOOKED == 0) & (r["pend_pub_ns"][:n] <= pos_update_ns)
        if new.any():
            self._book(np.concatenate((new, np.zeros(self.cap - n, bool))))
        mid = mid_px if _ok_px(mid_px) else mark_px
        if _ok_px(mid):
            due = (flags & F_MATURED == 0) & (now_mono_ns >= r["pend_pub_ns"][:n] + r["horizon_ns"])
            r["pend_mid_h_px"][:n][due] = mid
            flags[due] |= F_MATURED
        both = F_BOOKED | F_MATURED
        out = self._close(np.concatenate((flags & both == both, np.zeros(self.cap - n, bool))))
        if _ok_px(mark_px) and math.isfinite(pnl_usd):
            adj = self._check(float(mark_px), float(pnl_usd) - float(r["base_pnl_usd"]),
                              float(position_sz), float(funding_usd) - float(r["base_funding_usd"]))
            r["update_mono_ns"] = now_mono_ns
            if adj is not None:
                out.append(adj)
        return out

    def _components(self, mark: float, funding: float) -> dict[str, float]:
        r = self.r
        n = int(r["n_pending"])
        flags = r["pend_flags"][:n]
        b = flags & F_BOOKED != 0
        mat = b & (flags & F_MATURED != 0)
        sq, mid, mid_h = r["pend_sq"][:n], r["pend_mid_px"][:n], r["pend_mid_h_px"][:n]
        to = np.where(mat, mid_h, mark)  # the AS leg of a fill inside its horizon runs to the mark
        c = {
            "spread_usd": float(r["acc_spread_usd"]),
            "adverse_selection_usd": float(r["closed_as_usd"]) + float((sq[b] * (to[b] - mid[b])).sum()),
            "inventory_usd": (float(r["inv_carried_usd"])
                              + float(r["inv_position_sz"]) * (mark - float(r["inv_mark_px"]))
                              + mark * float(r["closed_sq"]) - float(r["closed_sq_mid_h"])
                              + float((sq[mat] * (mark - mid_h[mat])).sum())),
            "funding_usd": funding,
            "fees_usd": -float(r["acc_fee_usd"]),
        }
        c["total_usd"] = sum(c[k] for k in COMPONENTS)
        return c

    def _check(self, mark: float, pnl: float, position: float, funding: float) -> dict | None:
        r = self.r
        c = self._components(mark, funding)
        adj = None
        expected = float(r["inv_position_sz"]) + float(r["booked_sq"])
        if abs(position - expected) > self.size_tol:
            # adopted or corrected from the venue, not a trade of ours: the P&L jump is an
            # adjustment, and the inventory carries on from the new position
            jump = pnl - c["total_usd"] - float(r["adjustment_usd"])
            r["adjustment_usd"] += jump
            r["inv_carried_usd"] += float(r["inv_position_sz"]) * (mark - float(r["inv_mark_px"]))
            r["inv_position_sz"] = position - float(r["booked_sq"])
            r["inv_mark_px"] = mark
            r["n_adjustments"] += 1
            adj = {"k": "adjustment", "position_sz": float(position), "expected_sz": expected,
                   "pnl_jump_usd": float(jump), "mark_px": float(mark)}
        for k, v in c.items():
            r[k] = v
        residual = pnl - c["total_usd"] - float(r["adjustment_usd"])
        r["pnl_usd"], r["residual_usd"] = pnl, residual
        r["mark_px"], r["position_sz"] = mark, position
        ok = abs(residual) <= SUM_TOLERANCE_USD
        r["ok"] = 1 if ok else 0
        r["n_checks"] += 1
        r["n_failed"] += 0 if ok else 1
        r["max_abs_residual_usd"] = max(float(r["max_abs_residual_usd"]), abs(residual))
        return adj


def ledger_summary(rec) -> dict:
    """A ledger record as a dict: the components, total, P&L, and the session's figures."""
    out = {k: float(rec[k]) for k in COMPONENTS}
    out.update({
        "total_usd": float(rec["total_usd"]), "pnl_usd": float(rec["pnl_usd"]),
        "adjustment_usd": float(rec["adjustment_usd"]), "residual_usd": float(rec["residual_usd"]),
        "sums": bool(rec["ok"]) and int(rec["n_checks"]) > 0,
        "checks": int(rec["n_checks"]), "checks_failed": int(rec["n_failed"]),
        "max_abs_residual_usd": float(rec["max_abs_residual_usd"]),
        "fills": int(rec["n_fills"]), "maker_fills": int(rec["n_maker"]),
        "fills_before_session": int(rec["base_n_fills"]),
        "volume_usd": float(rec["volume_usd"]), "fees_paid_usd": float(rec["acc_fee_usd"]),
        "horizon_s": int(rec["horizon_ns"]) / 1e9, "fills_inside_horizon": int(rec["n_pending"]),
        "adjustments": int(rec["n_adjustments"]), "overflows": int(rec["n_overflow"]),
        "position_sz": float(rec["position_sz"]), "mark_px": float(rec["mark_px"]),
        "start_ts_ns": int(rec["start_ts_ns"]),
    })
    return out
