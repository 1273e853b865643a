"""Recorded market data for calibration: the replay sources' events, split in time.

Every format ``mmctl backtest --source replay:FILE`` replays is read here through the
same loader (``appliance.backtest.load``): Hyperliquid and Binance captures (gzip or
plain) and the Parquet files of ``mmctl data``. Several files are calibrated one after
the other, each split at ``train_frac`` of its own span (time order: the train part is
always earlier than the test part, never shuffled).

``MarketSlice`` holds what the fits read, as plain arrays: the mid (from books and
BBOs), the trades with the mid before each, the funding observations, and the raw
MD_EVENT array (the backtests of the AS fit replay it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from appliance.backtest.load import as_md_events, bounded_chunks, open_market
from appliance.catalog import is_catalog
from appliance.feed.events import concat_events
from appliance.feed.sources.merged import split_paths
from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT


class CalibrationError(Exception):
    """Calibration cannot go on; the message says why (printed without a traceback)."""


@dataclass
class MarketSlice:
    """One contiguous stretch of one coin's events."""

    events: np.ndarray  # MD_EVENT, time order
    mid_t_s: np.ndarray  # times of the mid changes (s, venue time)
    mid_px: np.ndarray
    trade_t_s: np.ndarray  # trades, venue time (s)
    trade_side: np.ndarray  # aggressor: +1 buy, -1 sell
    trade_px: np.ndarray
    trade_sz: np.ndarray
    trade_mid: np.ndarray  # mid before the trade (NaN before any book)
    ctx_t_s: np.ndarray  # funding observations (EV_ASSET_CTX)
    ctx_funding_per_h: np.ndarray
    t0_s: float  # span of the slice (s)
    t1_s: float

    @property
    def span_s(self) -> float:
        return self.t1_s - self.t0_s


def _event_times_s(ev: np.ndarray) -> np.ndarray:
    """Venue time as the estimator sees it: exch_ts_ns, never running backwards
    (receive time where the venue time is missing)."""
    t = ev["exch_ts_ns"].astype(np.int64)
    t = np.where(t > 0, t, ev["recv_ts_ns"].astype(np.int64))
    return np.maximum.accumulate(t).astype(np.float64) * 1e-9


def slice_arrays(ev: np.ndarray) -> MarketSlice:
    """The fits' arrays from an MD_EVENT array (one coin)."""
    t = _event_times_s(ev)
    kind = ev["kind"]
    is_book = ((kind == EV_BOOK) | (kind == EV_BBO)) & (ev["n_bids"] > 0) & (ev["n_asks"] > 0)
    bid = ev["lv"]["bid_px"][:, 0]
    ask = ev["lv"]["ask_px"][:, 0]
    ok = is_book & (bid > 0) & (ask > bid)
    mid_all = np.full(ev.shape[0], np.nan)
    mid_all[ok] = 0.5 * (bid[ok] + ask[ok])
    # the mid prevailing at each event (before it, for trades: a trade is not a book)
    idx = np.where(ok, np.arange(ev.shape[0]), -1)
    last = np.maximum.accumulate(idx) if ev.shape[0] else idx
    prevailing = np.where(last >= 0, mid_all[np.maximum(last, 0)], np.nan)
    tr = kind == EV_TRADE
    ctx = (kind == EV_ASSET_CTX) & np.isfinite(ev["aux0"])
    return MarketSlice(
        events=ev, mid_t_s=t[ok], mid_px=mid_all[ok],
        trade_t_s=t[tr], trade_side=ev["side"][tr].astype(np.int64), trade_px=ev["px"][tr],
        trade_sz=ev["sz"][tr], trade_mid=prevailing[tr],
        ctx_t_s=t[ctx], ctx_funding_per_h=ev["aux0"][ctx],
        t0_s=float(t[0]) if t.size else 0.0, t1_s=float(t[-1]) if t.size else 0.0)


def load_events(path: str, coin: str, max_seconds: float | None = None) -> tuple[np.ndarray, dict]:
    """Every event of ``coin`` in the capture at ``path`` (the first ``max_seconds`` of
    it when given) and the source's stats. Raises CalibrationError with the reason."""
    try:
        parts = split_paths(path)  # FILE1,FILE2: several files of one market, merged
    except ValueError as err:
        raise CalibrationError(str(err)) from None
    for p in parts:
        if not os.path.exists(p):
            raise CalibrationError(f"data file not found: {p}")
        if not os.path.isfile(p) and not is_catalog(p):
            raise CalibrationError(f"not a file nor a recorder catalog: {p}")
    try:
        source = open_market(f"replay:{path}", coin, 0)
        parts = list(bounded_chunks(source, 65_536, max_seconds))
    except (ValueError, OSError, EOFError) as err:
        raise CalibrationError(f"cannot read {path}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a corrupt file must give a message, not a traceback
        raise CalibrationError(f"cannot read {path}: {type(err).__name__}: {err}") from None
    stats = source.stats.to_dict()
    events = as_md_events(concat_events(parts)) if parts else np.zeros(0, MD_EVENT)
    if events.shape[0] == 0:
        raise CalibrationError(
            f"{path}: no events of coin {coin!r} could be read (source stats: {stats})")
    return events, stats


def split(ev: np.ndarray, train_frac: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, test): the events before and after ``train_frac`` of the span."""
    if not 0.0 < train_frac < 1.0:
        raise CalibrationError(f"--train-frac must be in (0, 1), got {train_frac}")
    t = ev["recv_ts_ns"].astype(np.int64)
    cut = t[0] + int((t[-1] - t[0]) * train_frac)
    k = int(np.searchsorted(t, cut, side="right"))
    return ev[:k], ev[k:]
