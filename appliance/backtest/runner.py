"""Run a backtest: a source's chunks through the njit loop, then the report.

Python touches each chunk, never each event. Buffers (fills, markouts, samples, and
the prediction records: orders, per-fill extras, requotes) start small and double
when the loop stops early for room.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from appliance.config import Config, config_to_toml, load_config, sizing
from appliance.estimator import kernel as estimator
from appliance.gateway import pacing_kernel as pk
from appliance.gateway.reconcile_plan import plan_config_of
from appliance.gateway.requote_pacing import pacing_config_of, pacing_config_vector
from appliance.quote import kernel as quote
from appliance.quote.config import estimator_momentum_tau_s
from appliance.venue import matching
from shm_layout.backtest_records import (
    BT_FILL_INFO,
    BT_ORDER,
    BT_REQUOTE,
    BT_SAMPLE,
    BT_STATE,
    END_FILLED,
    END_OPEN,
    N_MARKOUTS,
)
from shm_layout.records import FILL_EVENT, MARKET_PARAMS, MD_EVENT, POSITION_STATE, TARGET_LADDER

from . import bookkeeping, pnl_attribution, scoring, sim
from .instrument_report import instrument_block
from .load import bounded_chunks, checked_chunks, is_finite_source, market_coin, open_market
from .presets import apply_preset
from .report import MARKOUT_HORIZONS_S, build_report


def _empty(dtype: np.dtype) -> np.ndarray:
    return np.zeros(0, dtype)


@dataclass
class BacktestResult:
    report: dict
    fills: np.ndarray  # FILL_EVENT
    markouts: np.ndarray  # f8 [fills, horizons], NaN = not marked
    samples: np.ndarray  # BT_SAMPLE
    # prediction records (issue 14), the inputs of ``scoring.score_run``
    orders: np.ndarray = field(default_factory=lambda: _empty(BT_ORDER))  # one per order rested
    fill_info: np.ndarray = field(default_factory=lambda: _empty(BT_FILL_INFO))  # beside fills
    requotes: np.ndarray = field(default_factory=lambda: _empty(BT_REQUOTE))
    estimator_own: dict = field(default_factory=dict)  # the estimators' own running scores
    cfg: Config | None = None  # the configuration run (preset applied)

    @property
    def attribution(self) -> np.ndarray:
        """Per-fill P&L attribution (``measure.attribution.PER_FILL``) behind
        ``report["attribution"]``."""
        a = self.report["attribution"]
        return pnl_attribution.per_fill(self.fills, self.markouts, MARKOUT_HORIZONS_S, self.samples,
                                        a["final_mark_px"], a["horizon_s"])[0]


def config_hash(cfg: Config) -> str:
    return hashlib.sha256(config_to_toml(cfg).encode()).hexdigest()


MD_SEED_SALT = 0x4D44  # md latency draws: a sequence apart from order entry's (as the venue's)


class Simulation:
    """The arrays of one run and the chunk loop over them. ``lagged``: force (True) or
    forbid (False) the market-data latency loop; None = when md latency is set."""

    def __init__(self, cfg: Config, coin_index: int = 0, seed: int = 0,
                 lagged: bool | None = None) -> None:
        b = cfg.backtest
        self.cfg = cfg
        self.coin_index = coin_index
        self.st = np.zeros(1, BT_STATE)
        sim.init_state(self.st, int(b.requote_interval_ms * 1_000_000),
                       int(round(b.order_latency_ms * 1_000_000)),
                       int(b.sample_interval_ms * 1_000_000),
                       [int(round(s * 1e9)) for s in MARKOUT_HORIZONS_S],
                       int(round(scoring.model_horizons_s(cfg)["fill_prob"] * 1e9)))
        self.est_cfg = estimator.config_vector(cfg.estimator)
        self.est_state = estimator.new_states(1)[0]
        estimator.init_state(self.est_state, self.est_cfg)
        self.q_cfg = quote.config_vector(cfg.quote, cfg.risk, estimator_momentum_tau_s(cfg))
        self.acct = quote.account_unknown()  # refilled from the venue account per requote
        g = cfg.gateway
        # the live gateway's reconcile and pacing settings (its PlanConfig, PacingConfig)
        self.pcfg = pacing_config_vector(pacing_config_of(g), plan_config_of(g, cfg.quote.min_notional_usd))
        self.pstate = pk.new_pacing_state(g.requote_burst)
        self.va = matching.new_venue(
            [b.sz_decimals], [b.max_leverage], n_accounts=1,
            maker_bps=cfg.gateway.maker_fee_bps, taker_bps=cfg.gateway.taker_fee_bps,
            queue_model=b.queue_model, queue_power=b.queue_power, max_orders=1024,
            fill_cap=4096, update_cap=4096)
        matching.fund_account(self.va, 0, b.account_usd)
        self.res = matching.new_place_result()
        jitter = b.order_latency_jitter_ms > 0
        self.lat = matching.new_latency(
            "lognormal" if jitter else "constant", int(round(b.order_latency_ms * 1e6)),
            b.order_latency_jitter_ms * 1e6, b.order_latency_sigma, seed=seed)
        md_jitter = b.md_latency_jitter_ms > 0
        self.md_lat = matching.new_latency(
            "lognormal" if md_jitter else "constant", int(round(b.md_latency_ms * 1e6)),
            b.md_latency_jitter_ms * 1e6, b.md_latency_sigma, seed=seed + MD_SEED_SALT)
        self.lagged = (b.md_latency_ms > 0 or md_jitter) if lagged is None else bool(lagged)
        self.carry = np.zeros(0, MD_EVENT)  # events the strategy has not seen yet
        self.cloid = np.zeros(16, np.uint8)
        self.params = np.zeros(1, MARKET_PARAMS)
        self.ladder = np.zeros(1, TARGET_LADDER)
        self.pos = np.zeros(1, POSITION_STATE)
        self.fills = np.zeros(4096, FILL_EVENT)
        self.markouts = np.full((4096, N_MARKOUTS), np.nan)
        self.samples = np.zeros(4096, BT_SAMPLE)
        self.fill_info = np.zeros(4096, BT_FILL_INFO)
        self.recs = np.zeros(4096, BT_ORDER)
        self.requotes = np.zeros(4096, BT_REQUOTE)
        self.wall_s = 0.0

    def _args(self, evs: np.ndarray) -> tuple:
        return (evs, self.st, self.est_state, self.est_cfg, self.params, self.q_cfg, self.acct,
                self.ladder, self.pos, *self.va, self.res, self.lat, self.cloid, self.pcfg,
                self.pstate, self.fills, self.markouts, self.samples, self.recs, self.fill_info,
                self.requotes, self.coin_index)

    def _lagged_args(self, evs: np.ndarray, i0: int) -> tuple:
        return (self.carry, evs, i0, *self._args(evs)[1:], self.md_lat)

    def _rest_args(self) -> tuple:
        return (self.carry, self.st, self.est_state, self.est_cfg, self.params, self.q_cfg,
                self.acct, self.ladder, self.pos, self.lat, self.va.books, self.va.orders,
                self.va.accounts, self.va.positions, self.samples, self.requotes, self.coin_index,
                self.md_lat)

    def warm_up(self) -> float:
        """Load (or compile) the loop; returns the seconds it took."""
        t0 = time.perf_counter()
        empty = np.zeros(0, MD_EVENT)
        if self.lagged:
            sim.run_chunk_lagged(*self._lagged_args(empty, 0))
            sim.deliver_rest(*self._rest_args())
        else:
            sim.run_chunk(*self._args(empty))
        sim.finish(self.st, self.pos, self.va.orders, self.samples[:0])
        return time.perf_counter() - t0

    def _grow(self) -> None:
        s = self.st[0]
        if s["n_fills"] + bookkeeping.FILL_HEADROOM > self.fills.shape[0]:
            n = self.fills.shape[0] * 2
            fills = np.zeros(n, FILL_EVENT)
            fills[: self.fills.shape[0]] = self.fills
            mk = np.full((n, N_MARKOUTS), np.nan)
            mk[: self.markouts.shape[0]] = self.markouts
            self.fills, self.markouts = fills, mk
            self.fill_info = _doubled(self.fill_info)
        if s["n_samples"] + 2 > self.samples.shape[0]:
            self.samples = _doubled(self.samples)
        if s["n_order_recs"] + bookkeeping.ORDER_HEADROOM > self.recs.shape[0]:
            self.recs = _doubled(self.recs)
        if s["n_requote_recs"] + 2 > self.requotes.shape[0]:
            self.requotes = _doubled(self.requotes)

    def feed(self, evs: np.ndarray) -> None:
        """Simulate one chunk; state carries to the next."""
        t0 = time.perf_counter()
        if self.lagged:
            self._feed_lagged(evs)
        else:
            i = 0
            while i < evs.shape[0]:
                i += sim.run_chunk(*self._args(evs[i:]))
                if i < evs.shape[0]:
                    self._grow()
        self.wall_s += time.perf_counter() - t0

    def _feed_lagged(self, evs: np.ndarray) -> None:
        i = 0
        while True:
            i = sim.run_chunk_lagged(*self._lagged_args(evs, i))
            if i >= evs.shape[0]:
                break
            self._grow()
        # carry what the strategy has not seen (a copy: the source may reuse its chunk)
        s = self.st[0]
        j, nc = int(s["md_next"]), self.carry.shape[0]
        if j >= nc:
            self.carry = evs[j - nc:].copy()
        else:
            carry = np.empty(nc - j + evs.shape[0], MD_EVENT)  # (concatenate drops the padding)
            carry[: nc - j] = self.carry[j:]
            carry[nc - j:] = evs
            self.carry = carry
        s["md_next"] = 0

    def finish(self) -> None:
        """End of the data: events still in flight reach the strategy; last sample."""
        t0 = time.perf_counter()
        if self.lagged:
            while not sim.deliver_rest(*self._rest_args()):
                self._grow()
            self.carry = self.carry[:0]
            self.st[0]["md_next"] = 0
        self._grow()
        sim.finish(self.st, self.pos, self.va.orders, self.samples)
        self.wall_s += time.perf_counter() - t0

    @property
    def seconds_simulated(self) -> float:
        s = self.st[0]
        return (int(s["now_ns"]) - int(s["first_ns"])) / 1e9 if s["first_ns"] else 0.0

    def outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self.st[0]
        nf, ns = int(s["n_fills"]), int(s["n_samples"])
        return self.fills[:nf].copy(), self.markouts[:nf].copy(), self.samples[:ns].copy()

    def prediction_records(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(orders BT_ORDER, fill_info BT_FILL_INFO, requotes BT_REQUOTE), copies. An
        order still resting ends at the end of the data (END_OPEN), or at its last fill
        when that filled it in full."""
        s = self.st[0]
        recs = self.recs[: int(s["n_order_recs"])].copy()
        open_ = recs["ended_ns"] == 0
        full = open_ & (recs["first_fill_ns"] > 0) & (recs["filled_sz"] >= recs["sz"] * (1 - 1e-9))
        recs["ended_ns"][full] = recs["last_fill_ns"][full]
        recs["end_reason"][full] = END_FILLED
        rest = open_ & ~full
        recs["ended_ns"][rest] = int(s["now_ns"])
        recs["end_reason"][rest] = END_OPEN
        return (recs, self.fill_info[: int(s["n_fills"])].copy(),
                self.requotes[: int(s["n_requote_recs"])].copy())


def run_events(chunks: Iterable[np.ndarray], cfg: Config, *, source: str = "", seed: int = 0,
               coin: str = "BTC", preset: str = "unified", source_stats: Callable[[], dict] | None = None,
               progress: Callable[[float], None] | None = None,
               truth: Callable[[], tuple[int, dict, list] | None] | None = None) -> BacktestResult:
    """Simulate MD_EVENT chunks (coin index 0) with ``cfg`` (preset already applied).
    ``truth`` (after the run): the stream's start ns, its named windows and informed
    episodes (``scenario_truth``), if known."""
    q, r = sizing.for_coin(cfg.quote, cfg.risk, coin)  # the coin's own sizes (quote.per_coin)
    cfg = dataclasses.replace(cfg, quote=q, risk=r)
    simulation = Simulation(cfg, seed=seed)
    compile_s = simulation.warm_up()
    if progress is not None:
        progress(0.0)  # the kernels are loaded: simulating starts now
    load_s = 0.0
    it = iter(chunks)
    while True:
        t0 = time.perf_counter()
        chunk = next(it, None)
        load_s += time.perf_counter() - t0
        if chunk is None:
            break
        simulation.feed(chunk)
        if progress is not None:
            progress(simulation.seconds_simulated)
    simulation.finish()
    fills, markouts, samples = simulation.outputs()
    orders, fill_info, requotes = simulation.prediction_records()
    report = build_report(
        st=simulation.st[0], pos=simulation.pos[0], fills=fills, markouts=markouts,
        max_position_sz=cfg.risk.max_position_sz, max_position_usd=cfg.risk.max_position_usd,
        wall_s=simulation.wall_s, load_s=load_s,
        compile_s=compile_s, source=source, seed=seed, coin=coin, preset=preset,
        config_hash=config_hash(cfg), source_stats=source_stats() if source_stats else {},
        samples=samples, markout_adverse_bps=cfg.backtest.markout_adverse_bps,
        bid_pullback_bps=cfg.backtest.bid_pullback_bps,
        attribution_horizon_s=cfg.risk.attribution_horizon_s,
        max_half_spread_bps=cfg.quote.max_half_spread_bps,
        pacing_state=simulation.pstate,
        **_truth_kwargs(truth),
    )
    result = BacktestResult(report, fills, markouts, samples, orders, fill_info, requotes,
                            scoring.estimator_own_scores(simulation.est_state), cfg)
    report["scores"] = scoring.score_run(result)
    return result


def _doubled(a: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape[0] * 2, a.dtype)
    out[: a.shape[0]] = a
    return out


def _truth_kwargs(truth: Callable[[], tuple[int, dict, list] | None] | None) -> dict:
    got = truth() if truth is not None else None
    if not got:
        return {}
    return {"origin_ns": int(got[0]), "windows": got[1], "episodes": got[2]}


def scenario_truth(market) -> tuple[int, dict, list] | None:
    """(start ns, windows, informed episodes) of a synthetic scenario source; None for
    other sources. An episode is (start s, move start s, move end s): its lead, then the
    move (``scenarios.BURST_DTYPE``)."""
    t = getattr(market, "truth", None)
    if t is None or not hasattr(t, "windows"):
        return None
    bursts = getattr(t, "bursts", None)
    episodes = [] if bursts is None else [
        (float(b["start_s"]), float(b["move_start_s"]), float(b["move_end_s"])) for b in bursts]
    return (int(t.start_ts_ns), {k: (float(a), float(b)) for k, (a, b) in t.windows.items()},
            episodes)


def run_backtest(source: str, cfg: Config | None = None, *, seed: int | None = None,
                 coin: str | None = None, preset: str | None = None,
                 progress: Callable[[float], None] | None = None,
                 duration_s: float | None = None) -> BacktestResult:
    """``mmctl backtest`` without the CLI. ``source``: ``replay:FILE`` or
    ``synthetic[:SCENARIO]``; seed and preset default to the config's, coin to a
    replay's own (``load.market_coin``), else the config's first. ``duration_s`` cuts
    the source that long after its first event (a replay too; a synthetic market is
    cut at ``backtest.synthetic_duration_s`` without it). Raises ValueError (bad
    source, preset, coin; a replay with no events or too many malformed lines) with the
    reason."""
    cfg = cfg if cfg is not None else load_config()
    preset = preset if preset is not None else cfg.backtest.preset
    cfg = apply_preset(preset, cfg)
    seed = cfg.feed.seed if seed is None else int(seed)
    coin = market_coin(source, coin, cfg.appliance.coins)
    market = open_market(source, coin, seed, cfg.feed)
    finite = is_finite_source(source)
    duration = duration_s if duration_s is not None else (
        None if finite else cfg.backtest.synthetic_duration_s)
    chunks = bounded_chunks(market, cfg.backtest.chunk_events, duration)
    if finite:
        chunks = checked_chunks(market, chunks, cfg.feed, coin)
    result = run_events(chunks, cfg, source=source, seed=seed, coin=coin, preset=preset,
                        # read when the run ends: the figures of this pass
                        source_stats=lambda: market.stats.to_dict(), progress=progress,
                        truth=lambda: scenario_truth(market))
    inst = getattr(market, "instrument", None)
    result.report["instrument"] = instrument_block(
        inst.to_dict() if inst is not None else None, result.report, result.fills, cfg)
    return result
