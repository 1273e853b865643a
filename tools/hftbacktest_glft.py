"""hftbacktest 2.4.4's GLFT tutorial grid, the yardstick of `mmctl bench backtest`
(``tools/bench_backtest.py``), the quote proof (``tools/prove_quote_presets.py``) and
the trading-quality table (``tools/trading_quality.py``).

A GLFT grid strategy in the manner of hftbacktest's tutorial "GLFT market making model
and grid trading": arrival depths -> A, k by regression; volatility from mid changes;
c1, c2 of the GLFT closed form; a grid of GTX orders around the skewed reservation
price, stepping ``elapse(100 ms)``, with a constant order latency, the power-2
probabilistic queue model and our fees. hftbacktest is an optional dependency: it is
imported only where a run needs it.
"""

from __future__ import annotations

import statistics
import time

GRID_LEVELS = 5
CALIBRATION_STEPS = 600  # 60 s of 100 ms steps
ORDER_LATENCY_NS = 20_000_000
TICK_PX = 0.1
LOT_SZ = 0.001

def glft_strategy():
    """The GLFT grid strategy, njit-compiled against hftbacktest's backtester."""
    # Imported in the child: each side's subprocess pays only its own imports.
    import numpy as np
    from hftbacktest import BUY_EVENT, GTX, LIMIT
    from numba import njit

    @njit
    def intensity(depths, out):
        # count, for each tick depth d, the steps whose farthest trade went beyond d
        top = 0
        for d in depths:
            if not np.isfinite(d):
                continue
            k = int(round(d / 0.5)) - 1
            if k < 0 or k >= out.shape[0]:
                continue
            out[:k] += 1.0
            top = max(top, k)
        return out[:top]

    @njit
    def regress(x, y):
        n = x.shape[0]
        sx, sy, sxx, sxy = x.sum(), y.sum(), (x * x).sum(), (x * y).sum()
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        return slope, (sy - slope * sx) / n

    @njit
    def glft_grid(hbt, n_steps_max, window, grid_levels, order_qty, max_position, gamma):
        tick = hbt.depth(0).tick_size
        depth_hist = np.full(n_steps_max, np.nan)
        dmid_hist = np.full(n_steps_max, np.nan)
        buf = np.zeros(500)
        ticks = np.arange(500) + 0.5
        a_coef, k_coef, vol = np.nan, np.nan, np.nan
        mid_tick = np.nan
        t = 0
        n_orders = 0
        n_cancels = 0
        while hbt.elapse(100_000_000) == 0:
            if t >= n_steps_max:
                break
            if not np.isnan(mid_tick):
                far = -np.inf
                for tr in hbt.last_trades(0):
                    px_tick = tr.px / tick
                    if tr.ev & BUY_EVENT == BUY_EVENT:
                        far = max(far, px_tick - mid_tick)
                    else:
                        far = max(far, mid_tick - px_tick)
                depth_hist[t] = far
            hbt.clear_last_trades(0)
            hbt.clear_inactive_orders(0)
            depth = hbt.depth(0)
            pos = hbt.position(0)
            orders = hbt.orders(0)
            bb, ba = depth.best_bid_tick, depth.best_ask_tick
            prev = mid_tick
            mid_tick = (bb + ba) / 2.0
            dmid_hist[t] = mid_tick - prev
            if t % 50 == 0 and t >= window - 1:
                buf[:] = 0.0
                lam = intensity(depth_hist[t + 1 - window : t + 1], buf)
                if lam.shape[0] > 2:
                    lam = lam[:70] / (window / 10.0)
                    slope, icpt = regress(ticks[: lam.shape[0]], np.log(lam))
                    a_coef, k_coef = np.exp(icpt), -slope
                vol = np.nanstd(dmid_hist[t + 1 - window : t + 1]) * np.sqrt(10.0)
            # GLFT closed form (xi = gamma, delta = 1), in ticks
            c1 = 1.0 / gamma * np.log(1.0 + gamma / k_coef)
            c2 = np.sqrt(gamma / (2.0 * a_coef * k_coef)
                         * (1.0 + gamma / k_coef) ** (k_coef / gamma + 1.0))
            half = c1 + 0.5 * c2 * vol
            skew = c2 * vol
            r = mid_tick - skew * pos / order_qty
            bid = min(np.round(r - half), bb) * tick
            ask = max(np.round(r + half), ba) * tick
            step = max(np.round(half) * tick, tick)
            bid = np.floor(bid / step) * step
            ask = np.ceil(ask / step) * step
            # keep orders on the new grid, cancel the rest, add the missing ones
            want_bid = np.zeros(grid_levels, np.int64)
            want_ask = np.zeros(grid_levels, np.int64)
            nb = 0
            na = 0
            if pos < max_position and np.isfinite(bid):
                for i in range(grid_levels):
                    want_bid[nb] = int(round((bid - i * step) / tick))
                    nb += 1
            if pos > -max_position and np.isfinite(ask):
                for i in range(grid_levels):
                    want_ask[na] = int(round((ask + i * step) / tick))
                    na += 1
            values = orders.values()
            while values.has_next():
                o = values.get()
                if not o.cancellable:
                    continue
                keep = False
                if o.side == 1:
                    for i in range(nb):
                        keep = keep or o.order_id == want_bid[i]
                else:
                    for i in range(na):
                        keep = keep or o.order_id == 1_000_000_000 + want_ask[i]
                if not keep:
                    hbt.cancel(0, o.order_id, False)
                    n_cancels += 1
            for i in range(nb):
                if want_bid[i] not in orders:
                    hbt.submit_buy_order(0, want_bid[i], want_bid[i] * tick, order_qty,
                                         GTX, LIMIT, False)
                    n_orders += 1
            for i in range(na):
                oid = 1_000_000_000 + want_ask[i]
                if oid not in orders:
                    hbt.submit_sell_order(0, oid, want_ask[i] * tick, order_qty, GTX, LIMIT, False)
                    n_orders += 1
            t += 1
        return n_orders, n_cancels

    return glft_grid


def run_hftbacktest(path: str, repeats: int, maker_bps: float, taker_bps: float) -> dict:
    # Imported in the child: each side's subprocess pays only its own imports.
    import contextlib
    import io

    import numpy as np
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
    from hftbacktest.data.utils import binancefutures

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its steps
        data = binancefutures.convert(path, buffer_size=20_000_000)
    convert_s = time.perf_counter() - t0

    def make(rows):
        asset = (BacktestAsset().data(rows).linear_asset(1.0)
                 .constant_latency(ORDER_LATENCY_NS, ORDER_LATENCY_NS)
                 .power_prob_queue_model(2.0).no_partial_fill_exchange()
                 .trading_value_fee_model(maker_bps * 1e-4, taker_bps * 1e-4)
                 .tick_size(TICK_PX).lot_size(LOT_SZ).last_trades_capacity(10_000))
        return HashMapMarketDepthBacktest([asset])

    strategy = glft_strategy()
    args = (100_000, CALIBRATION_STEPS, GRID_LEVELS, LOT_SZ, 50 * LOT_SZ, 0.05)
    small = np.ascontiguousarray(data[:2000])
    hbt = make(small)
    t0 = time.perf_counter()
    strategy(hbt, *args)
    compile_s = time.perf_counter() - t0
    hbt.close()
    walls, builds, n_orders, fills = [], [], 0, 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        hbt = make(data)
        builds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        n_orders, _ = strategy(hbt, *args)
        walls.append(time.perf_counter() - t0)
        fills = int(hbt.state_values(0).num_trades)
        hbt.close()
    span = (int(data["exch_ts"].max()) - int(data["exch_ts"].min())) / 1e9
    return {
        "events": int(data.shape[0]),
        "event_kind": "hftbacktest rows (one per depth-diff price level, one per trade)",
        "convert_s": convert_s,
        "compile_s": compile_s,
        "build_s": statistics.median(builds),
        "wall_s_runs": walls,
        "wall_s": statistics.median(walls),
        "seconds_simulated": span,
        "fills": fills,
        "orders_placed": int(n_orders),
    }


def hbt_version() -> str:
    try:
        # hftbacktest is the yardstick's optional dependency: its version, if installed.
        import hftbacktest

        return hftbacktest.__version__
    except ImportError:
        return "not installed"
