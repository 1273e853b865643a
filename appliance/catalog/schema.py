"""The recorder catalog's tables: ring records <-> Arrow tables with readable columns.

Four kinds of table, one per ring the recorder reads (fundings: the funding events of
the user ring):

* ``market`` (the md ring, MD_EVENT): ``ts`` (venue time) and ``recv_ts`` (our receive
  time), Arrow timestamps in ns UTC; ``coin`` and ``event`` (book, trade, bbo,
  asset_ctx) dictionary-encoded names; ``flags`` (FLAG_* bits); a trade's ``side``
  (+1 buyer aggressor, -1 seller), ``trade_id``, ``px`` (USD) and ``sz`` (coin); an
  asset context's mark in ``px``, open interest (coin) in ``sz``,
  ``funding_rate_per_h`` and ``oracle_px`` (0 on other rows); a book's levels as
  lists, best first: ``bid_px``, ``bid_sz``, ``ask_px``, ``ask_sz`` (USD, coin) and
  order counts ``bid_n``, ``ask_n``.
* ``fills`` (the fills ring, FILL_EVENT): our fills, ``ts`` (venue time), ``coin``,
  ``side`` (+1 we bought), ``is_maker``, ``oid``, ``px``, ``sz``, ``fee_usd`` (negative:
  a rebate), ``mid_px`` at the fill, ``position_sz`` after it, the ladder ``level`` and
  prediction (``level_id``, ``pred_fill_prob``, ``pred_as_bps``).
* ``orders`` (the orders ring, ORDER_EVENT): each placement's ``placed``, first
  ``filled`` and ``ended`` (with ``end_reason``): ``ts`` (wall time, from the
  gateway's monotonic stamp), ``coin``, ``side`` (+1 bid), ``level``, ``key`` (the
  placement), ``px``, ``pred_id``, ``pred_fill_prob``, ``horizon_s``. The ring
  carries no order size; the fills have it.
* ``fundings`` (the user ring's UE_FUNDING events, the timed ``userFundings`` copies):
  our funding payments, ``ts`` (the funding time, on the hour on Hyperliquid),
  ``recv_ts`` (our receive time), ``coin``, ``kind`` ("funding"), ``payment_usd``
  (positive: we received), ``position_sz`` (the position it was paid on),
  ``funding_rate`` (per hour) and ``is_snapshot`` (re-delivered on a resubscribe).

``market_to_events`` turns a market table back into MD_EVENT records, so a recording
replays through the backtester with the events the feed published.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shm_layout.constants import (
    BOOK_DEPTH,
    END_REASON_NAMES,
    EV_ASSET_CTX,
    EV_BBO,
    EV_BOOK,
    EV_TRADE,
    OE_KIND_NAMES,
)
from shm_layout.records import MD_EVENT, md_field

MARKET = "market"
FILLS = "fills"
ORDERS = "orders"
FUNDINGS = "fundings"
KINDS = (MARKET, FILLS, ORDERS, FUNDINGS)

EVENT_NAMES = {EV_BOOK: "book", EV_TRADE: "trade", EV_BBO: "bbo", EV_ASSET_CTX: "asset_ctx"}
EVENT_CODES = {v: k for k, v in EVENT_NAMES.items()}
_TS = pa.timestamp("ns", tz="UTC")
_DICT = pa.dictionary(pa.int8(), pa.string())
# scalar MD_EVENT fields and their catalog column names, one map for writer and reader
_MARKET_PLAIN = (("flags", "flags"), ("side", "side"), ("trade_id", "trade_id"), ("px", "px"),
                 ("sz", "sz"), ("funding_rate_per_h", "aux0"), ("oracle_px", "aux1"))
_LEVEL_FIELDS = (("bid_px", "n_bids"), ("bid_sz", "n_bids"), ("ask_px", "n_asks"),
                 ("ask_sz", "n_asks"), ("bid_n", "n_bids"), ("ask_n", "n_asks"))


def _names(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
    """Dictionary-encoded names of integer ``codes`` (an index into ``names``)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(names, pa.string()))


def _levels(ev: np.ndarray, field: str, count: str) -> pa.ListArray:
    n = ev[count].astype(np.int32)
    mask = np.arange(BOOK_DEPTH) < n[:, None]
    offsets = np.zeros(len(ev) + 1, np.int32)
    np.cumsum(n, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(md_field(ev, field)[mask]))


def market_table(ev: np.ndarray, coins: tuple[str, ...]) -> pa.Table:
    """MD_EVENT records -> the ``market`` table (``coins``: the index -> name list)."""
    kinds = ev["kind"]
    known = sorted(EVENT_NAMES)
    if not np.isin(kinds, known).all():
        raise ValueError(f"unknown md event kind in {sorted(set(kinds.tolist()) - set(known))}")
    cols = {
        "ts": pa.array(ev["exch_ts_ns"], _TS),
        "recv_ts": pa.array(ev["recv_ts_ns"], _TS),
        "coin": _names(ev["coin"], list(coins)),
        "event": _names(np.searchsorted(known, kinds), [EVENT_NAMES[k] for k in known]),
    }
    for col, field in _MARKET_PLAIN:
        cols[col] = pa.array(ev[field])
    for field, count in _LEVEL_FIELDS:
        cols[field] = _levels(ev, field, count)
    return pa.table(cols)


def market_to_events(table: pa.Table, coins: tuple[str, ...]) -> np.ndarray:
    """The ``market`` table -> MD_EVENT records (``seq``, ``pub_mono_ns`` 0), coin
    indices in ``coins``' order; rows of other coins are dropped."""
    coin_names = table.column("coin").to_numpy(zero_copy_only=False).astype(str)
    keep = np.isin(coin_names, coins)
    t = table.filter(pa.array(keep)) if not keep.all() else table
    n = t.num_rows
    ev = np.zeros(n, MD_EVENT)
    if n == 0:
        return ev
    index = {c: i for i, c in enumerate(coins)}
    ev["coin"] = [index[c] for c in coin_names[keep]]
    ev["kind"] = [EVENT_CODES[e] for e in t.column("event").to_numpy(zero_copy_only=False)]
    ev["exch_ts_ns"] = t.column("ts").cast(pa.int64()).to_numpy()
    ev["recv_ts_ns"] = t.column("recv_ts").cast(pa.int64()).to_numpy()
    for col, field in _MARKET_PLAIN:
        ev[field] = t.column(col).to_numpy()
    for field, count in _LEVEL_FIELDS:
        lists = t.column(field).combine_chunks()
        lens = lists.value_lengths().to_numpy()
        ev[count] = lens
        mask = np.arange(BOOK_DEPTH) < lens[:, None]
        md_field(ev, field)[mask] = lists.flatten().to_numpy()
    return ev


def fills_table(f: np.ndarray, coins: tuple[str, ...]) -> pa.Table:
    """FILL_EVENT records -> the ``fills`` table."""
    return pa.table({
        "ts": pa.array(f["ts_ns"], _TS),
        "coin": _names(f["coin"], list(coins)),
        "side": pa.array(f["side"]),
        "is_maker": pa.array(f["is_maker"].astype(bool)),
        "oid": pa.array(f["oid"]),
        "px": pa.array(f["px"]),
        "sz": pa.array(f["sz"]),
        "fee_usd": pa.array(f["fee_usd"]),
        "mid_px": pa.array(f["mid_px"]),
        "position_sz": pa.array(f["position_sz"]),
        "level": pa.array(f["level"]),
        "level_id": pa.array(f["level_id"]),
        "pred_fill_prob": pa.array(f["pred_fill_prob"]),
        "pred_as_bps": pa.array(f["pred_as_bps"]),
    })


def orders_table(o: np.ndarray, coins: tuple[str, ...], mono_to_wall_ns: int) -> pa.Table:
    """ORDER_EVENT records -> the ``orders`` table; ``mono_to_wall_ns`` is added to the
    gateway's CLOCK_MONOTONIC stamps to give wall time."""
    end = np.minimum(o["end_reason"], len(END_REASON_NAMES) - 1)
    kind = np.minimum(o["kind"], len(OE_KIND_NAMES) - 1)
    return pa.table({
        "ts": pa.array(o["mono_ns"] + np.int64(mono_to_wall_ns), _TS),
        "coin": _names(o["coin"], list(coins)),
        "event": _names(kind, list(OE_KIND_NAMES)),
        "side": pa.array(o["side"]),
        "level": pa.array(o["level"]),
        "end_reason": _names(end, list(END_REASON_NAMES)),
        "key": pa.array(o["key"]),
        "px": pa.array(o["px"]),
        "pred_id": pa.array(o["pred_id"]),
        "pred_fill_prob": pa.array(o["pred_fill_prob"]),
        "horizon_s": pa.array(o["horizon_ns"] / 1e9),
    })


def fundings_table(u: np.ndarray, coins: tuple[str, ...]) -> pa.Table:
    """USER_EVENT records of funding payments (UE_FUNDING, timed) -> the ``fundings``
    table."""
    return pa.table({
        "ts": pa.array(u["time_ms"].astype(np.int64) * 1_000_000, _TS),
        "recv_ts": pa.array(u["recv_ts_ns"], _TS),
        "coin": _names(u["coin"], list(coins)),
        "kind": _names(np.zeros(len(u), np.int8), ["funding"]),
        "payment_usd": pa.array(u["usdc"]),
        "position_sz": pa.array(u["szi"]),
        "funding_rate": pa.array(u["funding_rate"]),
        "is_snapshot": pa.array(u["is_snapshot"].astype(bool)),
    })
