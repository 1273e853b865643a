"""The seeded synthetic market."""

from __future__ import annotations

import itertools

import numpy as np
from sources_helpers import (
    COINS,
    _assert_sane_market,
)

from appliance.feed.sources import open_source
from appliance.feed.sources.base import MarketSource
from appliance.feed.sources.synthetic_walk import SyntheticWalkSource
from shm_layout.constants import EV_BOOK, EV_TRADE, FLAG_SYNTHETIC

# --- synthetic ------------------------------------------------------------------------


def _take(src: MarketSource, n: int, max_events: int = 1000) -> np.ndarray:
    chunks = src.chunks(max_events)
    return np.concatenate(list(itertools.islice(chunks, -(-n // max_events))))[:n]


def test_synthetic_when_same_seed_then_byte_identical_stream():
    a = _take(open_source("synthetic", COINS, seed=42), 20_000)
    b = _take(open_source("synthetic:walk", COINS, seed=42), 20_000, max_events=333)
    assert a.tobytes() == b.tobytes()


def test_synthetic_when_seeds_differ_then_streams_differ():
    a = _take(SyntheticWalkSource(COINS, seed=1), 2_000)
    b = _take(SyntheticWalkSource(COINS, seed=2), 2_000)
    assert a.tobytes() != b.tobytes()


def test_synthetic_when_generated_then_plausible_market():
    src = SyntheticWalkSource(COINS, seed=3)
    ev = _take(src, 40_000)
    assert (ev["flags"] == FLAG_SYNTHETIC).all()
    assert (ev["recv_ts_ns"] == ev["exch_ts_ns"]).all()
    assert ev["exch_ts_ns"][0] >= 1_700_000_000_000_000_000
    _assert_sane_market(ev[ev["coin"] == 0], 50_000.0, 150_000.0)
    _assert_sane_market(ev[ev["coin"] == 1], 5_000.0, 15_000.0)
    assert (np.diff(ev["exch_ts_ns"]) >= 0).all()
    # About events_per_s events a second per coin, books and trades alternating.
    span_s = (ev["exch_ts_ns"][-1] - ev["exch_ts_ns"][0]) / 1e9
    assert 0.9 < len(ev) / span_s / (50.0 * len(COINS)) < 1.15
    books = ev[(ev["kind"] == EV_BOOK) & (ev["coin"] == 0)]
    spread_ticks = books["lv"]["ask_px"][:, 0] - books["lv"]["bid_px"][:, 0]
    assert set(np.unique(spread_ticks).tolist()) == {1.0, 2.0, 3.0}
    assert (books["lv"]["bid_n"] >= 1).all() and (books["lv"]["ask_n"] >= 1).all()
    depth = books["lv"]["bid_sz"].mean(axis=0)
    assert depth[-1] > 3 * depth[0]  # deeper levels hold more
    # Trades print at the touch of the book in force, or one level through it.
    last = {}
    at_touch = through = 0
    for e in ev[:10_000]:
        if e["kind"] == EV_BOOK:
            last[int(e["coin"])] = e
            continue
        b = last[int(e["coin"])]
        px = b["lv"]["ask_px"] if e["side"] == 1 else b["lv"]["bid_px"]
        if e["px"] == px[0]:
            at_touch += 1
        else:
            assert e["px"] == px[1]
            through += 1
    assert at_touch > 0 and through > 0
    trades = ev[ev["kind"] == EV_TRADE]
    assert (np.diff(trades["trade_id"]) == 1).all()


def test_synthetic_when_price_and_rate_set_then_honoured():
    src = open_source(
        "synthetic",
        ("ETH",),
        seed=5,
        start_px=3_000.0,
        tick_px=0.1,
        events_per_s=10.0,
        start_ts_ns=0,
    )
    ev = _take(src, 2_000)
    books = ev[ev["kind"] == EV_BOOK]
    assert abs(books["lv"]["bid_px"][0, 0] - 3_000.0) < 1.0
    assert books["exch_ts_ns"][0] == 0 and books["exch_ts_ns"][1] == 200_000_000
    ticks = np.round(books["lv"]["bid_px"] * 10.0)
    assert np.allclose(books["lv"]["bid_px"] * 10.0, ticks)
