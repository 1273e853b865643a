"""The risk watchdog's model scorer: one ``step`` per watchdog cycle.

Each step reads what is new (the ORDER_EVENT ring, the fills ring, each coin's
MarketParams as the watchdog's checks just read it), pairs forecasts with outcomes
(``pairs.py``), and, every ``scores.interval_s``, rescores the models one (coin,
model) per step, so that no cycle of the watchdog spends more than one scoring
(a few ms at 5 000 pairs). Scores come from ``appliance/measure/scores.py`` only.

The forecasts, per coin (index = ``constants.MODEL_NAMES``):

=========================  ==============================================  =======================
model                      forecast                                        outcome
=========================  ==============================================  =======================
fill_prob                  ladder's P(fill) of each placement (gateway)    filled within
                                                                           ``scores.fill_horizon_s``
                                                                           (0: quote.epnl_horizon_s);
                                                                           cut short = censored
toxicity                   MarketParams toxicity of the fill's side,       estimator's own label:
                           as it stood before the fill                     AS at its label horizon
                                                                           > toxic_threshold_bps
adverse_selection_<h>      the fill's ``pred_as_bps`` (ladder)             depth - markout at h
drift                      drift_bps_per_s x quote.epnl_horizon_s          mid move over it, bps
microprice                 microprice_adj_bps (when not the mid)           mid move over its horizon
lead_lag                   lead_bps_per_s x leadlag_sample_ms              mid move over it
=========================  ==============================================  =======================

Degradation: ``scores.degraded`` (probabilities worse than climatology; forecasts
ranking backwards, or directional ones below ``scores.ir_floor_<model>``) with at
least ``degraded_min_samples`` pairs, without a break for ``degraded_after_s``: the
model's ``degraded`` flag in the SCORES block, which the ``model_degraded`` check
reads. Fills and orders are read from the head at start: a restarted watchdog
starts its windows afresh rather than mark out old fills against new mids.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from appliance.ipc import byte_rows, ring, seqlock
from appliance.measure import scores
from shm_layout import records
from shm_layout.constants import (
    EST_VALID,
    MODEL_NAMES,
    N_PROB_MODELS,
    OE_ENDED,
    OE_FILLED,
    OE_PLACED,
    SCORE_AS_HORIZONS_MS,
    SCORE_METRIC_NAMES,
)

from . import block
from .pairs import FillProbPairs, ForecastPairs, MarkoutPairs, SampleHistory, Window

log = logging.getLogger("risk")

M_FILL, M_TOX = 0, 1
M_AS = list(range(2, 2 + len(SCORE_AS_HORIZONS_MS)))
M_DRIFT, M_MICRO, M_LEAD = (MODEL_NAMES.index(n) for n in ("drift", "microprice", "lead_lag"))
METRIC_COL = {name: j for j, name in enumerate(SCORE_METRIC_NAMES)}
MAX_EVENTS_PER_STEP = 4096
RESOLVE_EVERY_NS = 200_000_000
FORECAST_EVERY_NS = 1_000_000_000  # at most one drift / microprice / lead-lag forecast a second


def model_horizons_s(cfg) -> list[float]:
    """Each model's forecast horizon, s (from the settings of the model it scores)."""
    est, q = cfg.estimator, cfg.quote
    h = [0.0] * len(MODEL_NAMES)
    h[M_FILL] = cfg.scores.fill_horizon_s or q.epnl_horizon_s
    h[M_TOX] = est.toxicity.label_horizon_ms / 1e3
    for m, ms in zip(M_AS, SCORE_AS_HORIZONS_MS, strict=True):
        h[m] = ms / 1e3
    h[M_DRIFT] = q.epnl_horizon_s
    h[M_MICRO] = est.microprice.horizon_ms / 1e3
    h[M_LEAD] = est.correlation.leadlag_sample_ms / 1e3
    return h


def ir_floors(cfg) -> list[float | None]:
    s = cfg.scores
    floors: list[float | None] = [None] * len(MODEL_NAMES)
    floors[M_DRIFT], floors[M_MICRO], floors[M_LEAD] = (s.ir_floor_drift, s.ir_floor_microprice,
                                                       s.ir_floor_lead_lag)
    return floors


class _Coin:
    """One coin's pairings and windows."""

    def __init__(self, cfg, horizons_s: list[float]) -> None:
        s = cfg.scores
        ns = [int(h * 1e9) for h in horizons_s]
        self.windows = [Window(int(s.window_s * 1e9), s.max_pairs) for _ in MODEL_NAMES]
        w = self.windows
        self.fills = FillProbPairs(w[M_FILL])
        tox = cfg.estimator.toxicity
        self.marks = MarkoutPairs([w[m] for m in M_AS], [ns[m] for m in M_AS], w[M_TOX], ns[M_TOX],
                                  tox.toxic_threshold_bps)
        self.forecasts = {m: ForecastPairs(w[m], ns[m], min(ns[m], FORECAST_EVERY_NS))
                          for m in (M_DRIFT, M_MICRO, M_LEAD)}
        self.history = SampleHistory()  # (t, toxicity_bid, toxicity_ask)
        self.last_update = 0
        self.bad_since = [0] * len(MODEL_NAMES)

    def pending(self, m: int) -> int:
        if m == M_FILL:
            return len(self.fills.pending)
        if m in self.forecasts:
            return len(self.forecasts[m].pending)
        return len(self.marks.pending)


class ModelScorer:
    def __init__(self, cfg, mem, params) -> None:
        """``params``: the watchdog's ``BlockReader`` of MarketParams (read every cycle)."""
        s = cfg.scores
        self.cfg, self.mem, self.params = cfg, mem, params
        self.coins = tuple(cfg.appliance.coins)
        self.horizons_s = model_horizons_s(cfg)
        self.floors = ir_floors(cfg)
        self.interval_ns = int(s.interval_s * 1e9)
        self.log_interval_ns = int(s.log_interval_s * 1e9)
        self.after_ns = int(s.degraded_after_s * 1e9)
        self.min_samples = s.degraded_min_samples
        self.state = [_Coin(cfg, self.horizons_s) for _ in self.coins]
        self.blocks = np.zeros(len(self.coins), records.MODEL_SCORES)
        self._blocks_u8 = byte_rows(self.blocks)
        for c in range(len(self.coins)):
            block.clear(self.blocks[c], c, s.window_s, self.horizons_s)
            self._publish(c)
        self._fill = np.zeros(1, records.FILL_EVENT)
        self._fill_u8 = byte_rows(self._fill)
        self._order = np.zeros(1, records.ORDER_EVENT)
        self._order_u8 = byte_rows(self._order)
        self.fill_cur = np.array([ring.start_cursor(mem.fills.ring_words), 0], np.int64)
        self.order_cur = np.array([ring.start_cursor(mem.orders.ring_words), 0], np.int64)
        self.jobs: list[tuple[int, int]] = []
        now = time.monotonic_ns()
        self.next_round = now + self.interval_ns
        self.next_log = now + self.log_interval_ns
        self.next_resolve = 0

    # --- one watchdog cycle -----------------------------------------------------------------
    def step(self, now_ns: int | None = None) -> None:
        now = time.monotonic_ns() if now_ns is None else now_ns
        self._read_orders()
        self._read_fills()
        self._sample_params()
        if now >= self.next_resolve:
            self.next_resolve = now + RESOLVE_EVERY_NS
            for st in self.state:
                st.fills.resolve(now)
        if not self.jobs and now >= self.next_round:
            self.next_round = now + self.interval_ns
            self.jobs = [(c, m) for c in range(len(self.coins)) for m in range(len(MODEL_NAMES))]
        if self.jobs:
            c, m = self.jobs.pop(0)
            self.score(c, m, now)
        if now >= self.next_log:
            self.next_log = now + self.log_interval_ns
            for c, coin in enumerate(self.coins):
                log.info("%s", block.score_line(block.scores_dict(self.blocks[c], coin, now)))

    # --- inputs -----------------------------------------------------------------------------
    def _read_orders(self) -> None:
        seg, e = self.mem.orders, self._order[0]
        for _ in range(MAX_EVENTS_PER_STEP):
            if not ring.read_next(seg.ring_words, seg.seqs, seg.rows, self.order_cur, 0, self._order_u8[0]):
                break
            c = int(e["coin"])
            if c >= len(self.state):
                continue
            pairs, kind, key, t = self.state[c].fills, int(e["kind"]), int(e["key"]), int(e["mono_ns"])
            if kind == OE_PLACED:
                pairs.placed(key, t, int(e["horizon_ns"]), float(e["pred_fill_prob"]))
            elif kind == OE_FILLED:
                pairs.filled(key, t)
            elif kind == OE_ENDED:
                pairs.ended(key, t)

    def _read_fills(self) -> None:
        seg, f = self.mem.fills, self._fill[0]
        for _ in range(MAX_EVENTS_PER_STEP):
            if not ring.read_next(seg.ring_words, seg.seqs, seg.rows, self.fill_cur, 0, self._fill_u8[0]):
                break
            c = int(f["coin"])
            if c >= len(self.state) or not f["is_maker"]:
                continue
            st, t, side = self.state[c], int(f["pub_mono_ns"]), int(f["side"])
            before = st.history.before(t)
            tox = math.nan if before is None else (before[1] if side > 0 else before[2])
            pred_as = float(f["pred_as_bps"]) if int(f["level_id"]) != 0 else math.nan
            st.marks.fill(t, side, float(f["px"]), float(f["mid_px"]), pred_as, tox)

    def _sample_params(self) -> None:
        for c, st in enumerate(self.state):
            p = self.params.get(c)
            if p is None or not p["valid"]:
                continue
            t = int(p["update_mono_ns"])
            if t == st.last_update:
                continue
            st.last_update = t
            mid = float(p["mid_px"])
            if p["toxicity_status"] == EST_VALID:
                st.history.add(t, float(p["toxicity_bid"]), float(p["toxicity_ask"]))
            else:
                st.history.add(t, math.nan, math.nan)
            st.marks.mid(t, mid)
            for fp in st.forecasts.values():
                fp.mid(t, mid)
            if p["drift_status"] == EST_VALID:
                st.forecasts[M_DRIFT].sample(t, mid, float(p["drift_bps_per_s"]) * self.horizons_s[M_DRIFT])
            if p["microprice_status"] == EST_VALID and not p["microprice_fallback"]:
                st.forecasts[M_MICRO].sample(t, mid, float(p["microprice_adj_bps"]))
            lead = float(p["lead_bps_per_s"])
            if p["basis_status"] == EST_VALID and lead != 0.0:
                st.forecasts[M_LEAD].sample(t, mid, lead * self.horizons_s[M_LEAD])

    # --- scoring ------------------------------------------------------------------------------
    def score(self, c: int, m: int, now: int) -> None:
        """Rescore model ``m`` of coin ``c`` over its window and publish the coin's block."""
        st, rec = self.state[c], self.blocks[c]
        w = st.windows[m]
        w.trim(now)
        f, y = w.arrays()
        prob = m < N_PROB_MODELS
        sc = scores.probability_score(f, y) if prob else scores.forecast_score(f, y)
        rec["value"][m][:] = math.nan
        if sc is not None:
            for k, v in sc.as_dict().items():
                if k in METRIC_COL and v is not None:
                    rec["value"][m][METRIC_COL[k]] = v
        if prob:
            self._curve(rec, m, sc)
        if m == M_FILL:  # requotes censor most placements: judge it on all of them
            sc = scores.hazard_score_exposed(f, w.exposures(), y == 1.0)
            if sc is not None:
                rec["value"][m][METRIC_COL["survival_skill"]] = _nan(sc.skill)
                rec["value"][m][METRIC_COL["observed_over_expected"]] = _nan(sc.ratio)
        # degraded: worse than no model, with enough pairs, for long enough
        bad = sc is not None and sc.n >= self.min_samples and scores.degraded(sc, self.floors[m])
        if not bad:
            st.bad_since[m] = 0
        elif not st.bad_since[m]:
            st.bad_since[m] = now
        dur = (now - st.bad_since[m]) if st.bad_since[m] else 0
        rec["degraded_s"][m] = dur / 1e9
        rec["degraded"][m] = 1 if st.bad_since[m] and dur >= self.after_ns else 0
        for k in range(len(MODEL_NAMES)):  # counts of every model: cheap, always current
            wk = st.windows[k]
            cens = wk.censored() if k == M_FILL else 0
            rec["samples"][k] = len(wk) - cens
            rec["censored"][k] = cens
            rec["pending"][k] = st.pending(k)
            rec["total"][k] = wk.total
        rec["update_mono_ns"] = now
        rec["update_ts_ns"] = time.time_ns()
        self._publish(c)

    @staticmethod
    def _curve(rec: np.void, m: int, sc: scores.ProbabilityScore | None) -> None:
        rec["curve_forecast"][m][:] = math.nan
        rec["curve_observed"][m][:] = math.nan
        rec["curve_count"][m][:] = 0
        for b, (fc, obs, n) in enumerate((sc.curve if sc is not None else [])[: rec["curve_count"].shape[1]]):
            rec["curve_forecast"][m][b], rec["curve_observed"][m][b], rec["curve_count"][m][b] = fc, obs, n

    def _publish(self, c: int) -> None:
        seqlock.write_block(self.mem.scores.seqs, self.mem.scores.rows, c, self._blocks_u8[c])


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


class GuardedScorer:
    """The scorer inside the watchdog: a failure is counted (the process's error count)
    and logged (the first, then at most once a minute), never raised: the risk process
    is the last-resort canceller and must outlive any bug in scoring."""

    LOG_EVERY_NS = 60_000_000_000

    def __init__(self, make, count_error) -> None:
        self.count_error = count_error
        self.failures = 0
        self._next_log = 0
        self.scorer: ModelScorer | None = None
        try:
            self.scorer = make()
        except Exception:  # noqa: BLE001
            self._failed("model scorer not started")

    def step(self) -> None:
        if self.scorer is None:
            return
        try:
            self.scorer.step()
        except Exception:  # noqa: BLE001
            self._failed("model scorer step failed")

    def _failed(self, what: str) -> None:
        self.failures += 1
        self.count_error()
        now = time.monotonic_ns()
        if now >= self._next_log:
            self._next_log = now + self.LOG_EVERY_NS
            log.exception("%s (%d failures so far); the watchdog goes on", what, self.failures)
