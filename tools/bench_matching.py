"""Micro-benchmark of the matching core: ns per market event with N live orders.

Replays the Binance BTCUSDT capture (or a synthetic book/trade stream if it is
missing) through ``on_market_events`` with N resting ALO orders around the touch,
re-placed whenever they fill, and prints ns/event for each N.

    python tools/bench_matching.py [--orders 0,5,20] [--repeat 5] [--path FILE]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from numba import njit

from appliance.venue.matching import (
    best_prices,
    fund_account,
    new_place_result,
    new_venue,
    on_market_event,
    place_order,
)
from shm_layout.constants import EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT
from shm_layout.venue_records import TIF_ALO

DEFAULT_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm" / \
    "btcusdt_20240808.gz"


@njit(cache=True)
def _run(st, books, orders, accounts, positions, fills, updates, evs, n_orders, res, cloid):
    """Market events with ``n_orders`` kept live (half bids, half asks, $1 apart from
    the touch outwards); a filled order is re-placed at the next event."""
    for i in range(evs.shape[0]):
        on_market_event(st, books, orders, accounts, positions, fills, updates, evs[i])
        st.n_fills = 0
        st.n_updates = 0
        if books[0].n_live < n_orders and books[0].n_bids > 0 and books[0].n_asks > 0:
            bid, ask = best_prices(st, books, orders, 0)
            k = books[0].n_live
            side = 1 if k % 2 == 0 else -1
            # whole dollars: BTC above 10 000 has no decimals under the 5-sig-fig rule
            px = math.floor(bid) - k // 2 if side > 0 else math.ceil(ask) + k // 2
            t = st.now_ns
            place_order(st, books, orders, accounts, positions, fills, updates, 0, 0, side, px,
                        0.002, TIF_ALO, False, cloid, False, t, t, res)
            st.n_fills = 0
            st.n_updates = 0


def load_events(path: Path) -> np.ndarray:
    if path.exists():
        # Imported when a capture is read (the feed package is not needed otherwise).
        from appliance.feed.events import concat_events
        from appliance.feed.sources import open_source

        return concat_events(list(open_source(f"replay:{path}", ["BTC"]).chunks(50_000)))
    rng = np.random.default_rng(1)
    n = 200_000
    ev = np.zeros(n, MD_EVENT)
    mid = 60000.0 + np.cumsum(rng.normal(0, 0.5, n))
    ev["exch_ts_ns"] = 1_700_000_000_000_000_000 + np.arange(n) * 1_000_000
    ev["kind"] = np.where(rng.random(n) < 0.3, EV_TRADE, EV_BOOK)
    ev["n_bids"] = 20
    ev["n_asks"] = 20
    lv = np.arange(20) * 0.1
    ev["lv"]["bid_px"] = np.floor(mid[:, None]) - lv * 10
    ev["lv"]["ask_px"] = np.floor(mid[:, None]) + 1 + lv * 10
    ev["lv"]["bid_sz"] = rng.uniform(0.1, 5, (n, 20))
    ev["lv"]["ask_sz"] = rng.uniform(0.1, 5, (n, 20))
    ev["side"] = np.where(rng.random(n) < 0.5, 1, -1)
    ev["px"] = np.where(ev["side"] > 0, ev["lv"]["ask_px"][:, 0], ev["lv"]["bid_px"][:, 0])
    ev["sz"] = rng.uniform(0.001, 0.5, n)
    return ev


def bench(evs: np.ndarray, n_orders: int, repeat: int, model: str, hot: bool = False) -> float:
    """Best of ``repeat`` runs, ns per event. ``hot``: 50 passes over the first 4096
    events (cache-resident: the matching cost without streaming events from RAM)."""
    best = float("inf")
    if hot:
        evs = evs[:4096]
    for _ in range(repeat):
        va = new_venue([3], [50.0], n_accounts=1, queue_model=model)
        fund_account(va, 0, 1e9)
        res = new_place_result()
        cloid = np.zeros(16, np.uint8)
        passes = 50 if hot else 1
        _run(va.st[0], *va[1:], evs[:64], n_orders, res, cloid)
        t0 = time.perf_counter_ns()
        for _ in range(passes):
            _run(va.st[0], *va[1:], evs, n_orders, res, cloid)
        best = min(best, (time.perf_counter_ns() - t0) / (len(evs) * passes))
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", default="0,5,20")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default="prob_power")
    ap.add_argument("--path", type=Path, default=DEFAULT_PATH)
    a = ap.parse_args(argv)
    evs = load_events(a.path)
    bench(evs[:1000], 2, 1, a.model)  # compile
    print(f"events={len(evs)} source={'capture' if a.path.exists() else 'synthetic'} model={a.model}")
    print("live_orders  stream ns/event  (M ev/s)   hot ns/event")
    for n in (int(x) for x in a.orders.split(",")):
        ns = bench(evs, n, a.repeat, a.model)
        hot = bench(evs, n, a.repeat, a.model, hot=True)
        print(f"{n:11d}  {ns:15.1f}  ({1e3 / ns:5.2f})   {hot:12.1f}")
    print("stream: one pass over all events (896-byte records from RAM); hot: the first 4096")
    print("events 50 times (cache-resident). Both re-place filled orders at the next event.")


if __name__ == "__main__":
    main()
