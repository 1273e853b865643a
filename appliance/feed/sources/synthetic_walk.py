"""A seeded random-walk market: an infinite stream of books and trades.

Per coin, in simulated time from ``start_ts_ns``:

* the mid follows a geometric random walk with volatility ``sigma_bps_per_sqrt_s``,
  sampled at each book;
* a full 20-level book every ``2 / events_per_s`` seconds: spread 1–3 ticks around
  the mid, contiguous tick levels, sizes growing away from the touch (with
  lognormal noise), integer order counts >= 1;
* between two books, trades as a Poisson process of rate ``events_per_s / 2``, so
  books and trades alternate on average and a coin emits about ``events_per_s``
  events a second. Aggressor side is a fair coin; sizes are lognormal, capped at the
  touch size. A buy prints at the best ask, a sell at the best bid of the book in
  force. With probability ``sweep_prob`` a trade sweeps: it takes the whole touch
  and part of the next level, printing two trades at the same time (the touch, then
  one tick through it), so that a paper executor's trade-through fills are exercised.

Coin ``j`` of the configured list starts at ``start_px * 10**-j`` with tick
``tick_px * 10**-j`` and sizes ``10**j`` larger (about the same notional).

Everything random comes from one ``numpy.random.Generator(PCG64(seed))`` drawn in a
fixed order, so the same seed and options give a byte-identical stream whatever
``max_events`` is. Every event carries FLAG_SYNTHETIC; ``recv_ts_ns == exch_ts_ns``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from shm_layout.constants import BOOK_DEPTH, EV_BOOK, EV_TRADE, FLAG_SYNTHETIC
from shm_layout.records import MD_EVENT

from ..events import DEFAULT_CHUNK_EVENTS, SourceStats, check_max_events, rechunk, take_events
from .base import check_coins

# Book intervals generated per block (per coin); a block is one vectorized step.
BLOCK_BOOKS = 256

_NS_PER_S = 1_000_000_000


def _tick_prices(ticks: np.ndarray, tick: float) -> np.ndarray:
    """Prices of integer tick counts, as the venue's decimal strings would parse."""
    inv = round(1.0 / tick)
    if inv >= 1 and abs(inv * tick - 1.0) < 1e-12:
        return ticks / inv  # 100003 / 10 == 10000.3 exactly, unlike 100003 * 0.1
    return ticks * tick


class SyntheticWalkSource:
    """An infinite, deterministic MarketSource."""

    def __init__(
        self,
        coins: Sequence[str],
        seed: int = 0,
        *,
        sigma_bps_per_sqrt_s: float = 2.0,
        start_px: float = 100_000.0,
        tick_px: float = 1.0,
        events_per_s: float = 50.0,
        start_ts_ns: int = 1_700_000_000_000_000_000,
        sweep_prob: float = 0.05,
        touch_sz: float = 0.5,
        depth_slope_per_level: float = 0.25,
        trade_sz_median: float = 0.02,
        trade_sz_log_sigma: float = 1.0,
    ) -> None:
        self.coins = check_coins(coins)
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        checks = {
            "sigma_bps_per_sqrt_s": sigma_bps_per_sqrt_s >= 0.0,
            "start_px": start_px > 0.0,
            "tick_px": 0.0 < tick_px < start_px,
            "events_per_s": events_per_s > 0.0,
            "start_ts_ns": start_ts_ns >= 0,
            "sweep_prob": 0.0 <= sweep_prob <= 1.0,
            "touch_sz": touch_sz > 0.0,
            "depth_slope_per_level": depth_slope_per_level >= 0.0,
            "trade_sz_median": trade_sz_median > 0.0,
            "trade_sz_log_sigma": trade_sz_log_sigma >= 0.0,
        }
        for field, ok in checks.items():
            value = locals()[field]
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ValueError(f"synthetic market: bad {field}={value!r}")
        self.seed = int(seed)
        self.sigma_bps_per_sqrt_s = float(sigma_bps_per_sqrt_s)
        self.start_px = float(start_px)
        self.tick_px = float(tick_px)
        self.events_per_s = float(events_per_s)
        self.start_ts_ns = int(start_ts_ns)
        self.sweep_prob = float(sweep_prob)
        self.touch_sz = float(touch_sz)
        self.depth_slope_per_level = float(depth_slope_per_level)
        self.trade_sz_median = float(trade_sz_median)
        self.trade_sz_log_sigma = float(trade_sz_log_sigma)
        self.name = "synthetic:walk"
        self.stats = SourceStats()

        n = len(self.coins)
        scale = 10.0 ** -np.arange(n)
        self._tick = self.tick_px * scale  # per coin
        self._start = self.start_px * scale
        self._sz_scale = 1.0 / scale
        self._book_dt_ns = max(1, round(2 * _NS_PER_S / self.events_per_s))
        self._trades_per_book = self.events_per_s / 2 * self._book_dt_ns / _NS_PER_S

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        """Infinite; each call restarts the same stream from the seed."""
        max_events = check_max_events(max_events)
        self.stats.reset()
        yield from rechunk(self._blocks(), max_events, self.stats)

    def _blocks(self) -> Iterator[np.ndarray]:
        rng = np.random.Generator(np.random.PCG64(self.seed))
        log_mid = np.log(self._start)
        k0 = 0
        next_tid = 1
        while True:
            block, log_mid, next_tid = self._block(rng, k0, log_mid, next_tid)
            k0 += BLOCK_BOOKS
            yield block

    def _block(
        self, rng: np.random.Generator, k0: int, log_mid: np.ndarray, next_tid: int
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """BLOCK_BOOKS book intervals of every coin, sorted by time."""
        C = len(self.coins)
        K = BLOCK_BOOKS
        D = BOOK_DEPTH
        dt_s = self._book_dt_ns / _NS_PER_S

        # --- random draws, always in this order (the stream depends on it) ---------
        z = rng.standard_normal((C, K))
        spread = rng.integers(1, 4, size=(C, K))
        sz_noise = rng.lognormal(0.0, 0.5, size=(C, K, 2, D))
        counts = 1 + rng.poisson(1.0 + 0.5 * np.arange(D), size=(C, K, 2, D))
        n_trades = rng.poisson(self._trades_per_book, size=(C, K))
        T = int(n_trades.sum())
        t_frac = rng.random(T)
        t_buy = rng.random(T) < 0.5
        t_sz = rng.lognormal(math.log(self.trade_sz_median), self.trade_sz_log_sigma, size=T)
        t_sweep = rng.random(T) < self.sweep_prob
        t_through = rng.random(T)

        # --- mids and books ---------------------------------------------------------
        step = self.sigma_bps_per_sqrt_s * 1e-4 * math.sqrt(dt_s)
        path = log_mid[:, None] + np.cumsum(step * z, axis=1)  # (C, K)
        mid_ticks = np.exp(path) / self._tick[:, None]
        bid0 = np.floor(mid_ticks - spread / 2 + 0.5)
        ask0 = bid0 + spread
        lv = np.arange(D)
        bid_t = bid0[:, :, None] - lv  # (C, K, D)
        ask_t = ask0[:, :, None] + lv
        bid_px = np.empty((C, K, D))
        ask_px = np.empty((C, K, D))
        for c in range(C):
            bid_px[c] = _tick_prices(bid_t[c], self._tick[c])
            ask_px[c] = _tick_prices(ask_t[c], self._tick[c])
        lot = 1e-5 * self._sz_scale[:, None, None, None]
        profile = self.touch_sz * (1.0 + self.depth_slope_per_level * lv)
        sz = profile * self._sz_scale[:, None, None, None] * sz_noise
        sz = np.maximum(np.round(sz / lot), 1.0) * lot  # (C, K, 2, D)

        # --- trades -------------------------------------------------------------------
        c_of = np.repeat(np.repeat(np.arange(C), K), n_trades.ravel())
        k_of = np.repeat(np.tile(np.arange(K), C), n_trades.ravel())
        side = np.where(t_buy, 1, -1).astype(np.int8)
        touch_px = np.where(t_buy, ask_px[c_of, k_of, 0], bid_px[c_of, k_of, 0])
        next_px = np.where(t_buy, ask_px[c_of, k_of, 1], bid_px[c_of, k_of, 1])
        s_idx = np.where(t_buy, 1, 0)
        touch_sz = sz[c_of, k_of, s_idx, 0]
        next_sz = sz[c_of, k_of, s_idx, 1]
        lot_t = 1e-5 * self._sz_scale[c_of]
        size = np.maximum(np.round(t_sz * self._sz_scale[c_of] / lot_t), 1.0) * lot_t
        size = np.where(t_sweep, touch_sz, np.minimum(size, touch_sz))
        through_sz = np.maximum(np.round(t_through * next_sz / lot_t), 1.0) * lot_t
        t_ts = (
            self.start_ts_ns
            + (k0 + k_of) * self._book_dt_ns
            + np.floor(t_frac * self._book_dt_ns).astype(np.int64)
        )
        # Each sweep adds its second print right after the first.
        rep = np.where(t_sweep, 2, 1)
        first = np.cumsum(rep) - rep
        n_tr = int(rep.sum())
        tr_ts = np.repeat(t_ts, rep)
        tr_c = np.repeat(c_of, rep)
        tr_side = np.repeat(side, rep)
        tr_px = np.repeat(touch_px, rep)
        tr_sz = np.repeat(size, rep)
        second = first[t_sweep] + 1
        tr_px[second] = next_px[t_sweep]
        tr_sz[second] = through_sz[t_sweep]

        # --- assemble: books (interval-major, then coin), then trades; stable sort ---
        nb = C * K
        ev = np.zeros(nb + n_tr, dtype=MD_EVENT)
        ev["flags"] = FLAG_SYNTHETIC
        book_ts = self.start_ts_ns + (k0 + np.arange(K)) * self._book_dt_ns
        ev["kind"][:nb] = EV_BOOK
        ev["coin"][:nb] = np.tile(np.arange(C), K)
        ev["exch_ts_ns"][:nb] = np.repeat(book_ts, C)
        ev["n_bids"][:nb] = D
        ev["n_asks"][:nb] = D
        ev["lv"]["bid_px"][:nb] = bid_px.transpose(1, 0, 2).reshape(nb, D)
        ev["lv"]["ask_px"][:nb] = ask_px.transpose(1, 0, 2).reshape(nb, D)
        ev["lv"]["bid_sz"][:nb] = sz[:, :, 0].transpose(1, 0, 2).reshape(nb, D)
        ev["lv"]["ask_sz"][:nb] = sz[:, :, 1].transpose(1, 0, 2).reshape(nb, D)
        ev["lv"]["bid_n"][:nb] = counts[:, :, 0].transpose(1, 0, 2).reshape(nb, D)
        ev["lv"]["ask_n"][:nb] = counts[:, :, 1].transpose(1, 0, 2).reshape(nb, D)
        tr = ev[nb:]
        tr["kind"] = EV_TRADE
        tr["coin"] = tr_c
        tr["exch_ts_ns"] = tr_ts
        tr["side"] = tr_side
        tr["px"] = tr_px
        tr["sz"] = tr_sz
        ev = take_events(ev, np.argsort(ev["exch_ts_ns"], kind="stable"))
        ev["recv_ts_ns"] = ev["exch_ts_ns"]
        is_tr = ev["kind"] == EV_TRADE
        ev["trade_id"][is_tr] = np.arange(next_tid, next_tid + n_tr)
        return ev, path[:, -1].copy(), next_tid + n_tr
