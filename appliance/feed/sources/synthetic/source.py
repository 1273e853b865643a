"""ScenarioSource: a finite, seeded synthetic market as a MarketSource, and its truth."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from shm_layout.constants import BOOK_DEPTH, EV_TRADE
from shm_layout.records import MD_EVENT, md_field

from ...events import (
    DEFAULT_CHUNK_EVENTS,
    SourceStats,
    check_max_events,
    concat_events,
    rechunk,
    take_events,
)
from ..base import check_coins
from . import params as P  # noqa: N812 - slot names read P.R_*, P.S_*
from .kernel import simulate_block
from .rng import seed_state
from .scenarios import BURST_DTYPE, ScriptPlan, get_scenario

# Simulated seconds generated per block; a block is one kernel call per coin.
BLOCK_S = 60
_NS_PER_S = 1_000_000_000
_FIELDS = (
    "kind", "coin", "side", "n_bids", "n_asks", "flags", "exch_ts_ns", "recv_ts_ns",
    "px", "sz", "aux0", "aux1", "bid_px", "bid_sz", "ask_px", "ask_sz", "bid_n", "ask_n",
)


DEFAULT_START_TS_NS = 1_700_000_000_000_000_000  # exchange time of a script's t = 0


@dataclass(frozen=True)
class ScenarioTruth:
    """What the generator did, to score estimators and quoting against.

    Per-second arrays are indexed by ``t_s`` (seconds from ``start_ts_ns``; the
    value at second i is the state at the book of time i, counts cover [i, i+1)).
    ``realized[name]`` is (n_coins, n_seconds) for each of ``params.TRUTH_NAMES``:
    mid_px, regime (0 low, 1 normal, 2 high, 3 extreme), spread_ticks,
    funding_per_h, premium, open_interest, book_imbalance (top 5 levels,
    (bid - ask) / (bid + ask)), buy_orders, sell_orders, buy_sz, sell_sz (market
    orders, not prints). ``script[name]`` is (n_seconds,) for each of
    ``params.ROW_NAMES`` (drift_bps_per_s, buy_mult, sell_mult, imbalance, ...),
    common to every coin. ``windows`` maps names to (start_s, end_s); ``bursts``
    lists toxic bursts (``scenarios.BURST_DTYPE``).
    """

    scenario: str
    seed: int
    coins: tuple[str, ...]
    start_ts_ns: int
    duration_s: float
    t_s: np.ndarray
    realized: dict[str, np.ndarray]
    script: dict[str, np.ndarray]
    windows: dict[str, tuple[float, float]]
    bursts: np.ndarray

    @property
    def mid_px(self) -> np.ndarray:
        return self.realized["mid_px"]

    @property
    def regime(self) -> np.ndarray:
        return self.realized["regime"].astype(np.int8)

    @property
    def funding_per_h(self) -> np.ndarray:
        return self.realized["funding_per_h"]

    @property
    def drift_bps_per_s(self) -> np.ndarray:
        return self.script["drift_bps_per_s"]

    @property
    def worst_minute(self) -> tuple[float, float] | None:
        return self.windows.get("worst_minute")

    def ts_ns(self, t_s: float) -> int:
        """Stream time (``exch_ts_ns``) of ``t_s`` seconds from the start."""
        return self.start_ts_ns + round(t_s * _NS_PER_S)

    def window_ns(self, name: str) -> tuple[int, int]:
        t0, t1 = self.windows[name]
        return self.ts_ns(t0), self.ts_ns(t1)


class ScenarioSource:
    """A finite, deterministic MarketSource playing one named scenario.

    ``overrides`` are fields of ``SynthParams`` (e.g. ``start_px``, ``tick_px``,
    ``sigma_bps_per_sqrt_s``, ``mu_buy_per_s``) on top of the scenario's own.
    """

    def __init__(
        self,
        coins: Sequence[str],
        scenario: str = "quiet",
        seed: int = 0,
        *,
        duration_s: float | None = None,
        books_per_s: int = 10,
        ctx_every_s: float = 3.0,
        start_ts_ns: int = DEFAULT_START_TS_NS,
        **overrides: object,
    ) -> None:
        self.coins = check_coins(coins)
        sc = get_scenario(scenario)
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        known = {f.name for f in dataclasses.fields(P.SynthParams)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"unknown synthetic market option(s) {unknown}; known: duration_s, books_per_s, "
                f"ctx_every_s, start_ts_ns, {', '.join(sorted(known))}"
            )
        dur = sc.duration_s if duration_s is None else float(duration_s)
        if not math.isfinite(dur) or dur <= 0:
            raise ValueError(f"duration_s must be a finite number > 0, got {duration_s!r}")
        if not isinstance(books_per_s, int | np.integer) or not 1 <= books_per_s <= 1000:
            raise ValueError(f"books_per_s must be an integer in [1, 1000], got {books_per_s!r}")
        if not ctx_every_s > 0 or not math.isfinite(ctx_every_s):
            raise ValueError(f"ctx_every_s must be > 0, got {ctx_every_s!r}")
        if not isinstance(start_ts_ns, int | np.integer) or start_ts_ns < 0:
            raise ValueError(f"start_ts_ns must be an integer >= 0, got {start_ts_ns!r}")
        self.params = P.SynthParams().replace(**{**sc.params, **overrides})
        self.params.check()
        self.scenario = sc.name
        self.seed = int(seed)
        self.duration_s = dur
        self.books_per_s = int(books_per_s)
        self.ctx_every_steps = max(1, round(ctx_every_s * self.books_per_s))
        self.start_ts_ns = int(start_ts_ns)
        self.name = f"synthetic:{sc.name}"
        self.stats = SourceStats()
        self.plan: ScriptPlan = sc.build(self.seed, dur)
        self._step_ns = _NS_PER_S // self.books_per_s
        self._n_steps = max(1, round(dur * self.books_per_s))
        self._n_sec = -(-self._n_steps // self.books_per_s)
        self._truth: ScenarioTruth | None = None

    # --- stream ------------------------------------------------------------------

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        """Finite; each call replays the same stream from the seed."""
        max_events = check_max_events(max_events)
        self.stats.reset()
        yield from rechunk(self._blocks(), max_events, self.stats)

    @property
    def truth(self) -> ScenarioTruth:
        """The scenario's truth; generates the stream once if no pass has finished."""
        if self._truth is None:
            for _ in self._blocks():
                pass
        assert self._truth is not None
        return self._truth

    def _blocks(self) -> Iterator[np.ndarray]:
        C = len(self.coins)
        pv = [self.params.vector(j) for j in range(C)]
        state = [P.initial_state(p) for p in pv]
        book_px = [np.zeros((2, BOOK_DEPTH)) for _ in range(C)]
        book_sz = [np.zeros((2, BOOK_DEPTH)) for _ in range(C)]
        rngs = [seed_state(self.seed, j) for j in range(C)]
        truth = np.zeros((C, P.N_TRUTH, self._n_sec))
        dt_s = self._step_ns / _NS_PER_S
        block_steps = BLOCK_S * self.books_per_s
        cap = block_steps * 3 + 1024  # grows when a block overflows it
        next_tid = 1
        for g0 in range(0, self._n_steps, block_steps):
            k = min(block_steps, self._n_steps - g0)
            script = self.plan.evaluate(g0 + np.arange(k), dt_s)
            parts = []
            for c in range(C):
                sec0, sec1 = g0 // self.books_per_s, min(-(-(g0 + k) // self.books_per_s), self._n_sec)
                saved = (state[c].copy(), book_px[c].copy(), book_sz[c].copy(), rngs[c].copy(),
                         truth[c, :, sec0:sec1].copy())
                while True:
                    out = np.zeros(cap, dtype=MD_EVENT)
                    n = simulate_block(
                        pv[c], state[c], book_px[c], book_sz[c], rngs[c], script, g0, k,
                        self.books_per_s, self.ctx_every_steps, self.start_ts_ns, self._step_ns,
                        c, truth[c], *(md_field(out, f) for f in _FIELDS),
                    )
                    if n >= 0:
                        break
                    cap *= 2  # a burst outgrew the buffer: replay the block with more room
                    state[c][:], book_px[c][:], book_sz[c][:], rngs[c][:] = saved[:4]
                    truth[c, :, sec0:sec1] = saved[4]
                parts.append(out[:n])
            ev = parts[0] if C == 1 else concat_events(parts)
            if C > 1:
                ev = take_events(ev, np.argsort(ev["exch_ts_ns"], kind="stable"))
            is_tr = ev["kind"] == EV_TRADE
            n_tr = int(is_tr.sum())
            ev["trade_id"][is_tr] = np.arange(next_tid, next_tid + n_tr)
            next_tid += n_tr
            yield ev
        self._truth = self._make_truth(truth)

    def _make_truth(self, truth: np.ndarray) -> ScenarioTruth:
        t_s = np.arange(self._n_sec, dtype=np.float64)
        script = self.plan.evaluate(np.arange(self._n_sec), 1.0)
        return ScenarioTruth(
            scenario=self.scenario,
            seed=self.seed,
            coins=self.coins,
            start_ts_ns=self.start_ts_ns,
            duration_s=self.duration_s,
            t_s=t_s,
            realized={name: truth[:, i].copy() for i, name in enumerate(P.TRUTH_NAMES)},
            script={name: script[i] for i, name in enumerate(P.ROW_NAMES)},
            windows=dict(self.plan.windows),
            bursts=self.plan.bursts.copy() if len(self.plan.bursts) else np.zeros(0, BURST_DTYPE),
        )
