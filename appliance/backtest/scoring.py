"""Every model that predicts, paired in a backtest with what followed and scored
(issue 14): the report's ``scores`` block. The scores are ``appliance.measure.scores``
(one definition for the backtest, the live scorer and ``mmctl calibrate``); this
module pairs the backtest's records with their outcomes.

Models, each prediction and its outcome:

* ``fill_prob``: per order rested (BT_ORDER), the ladder level's P(fill) when it was
  placed, over ``quote.epnl_horizon_s`` (the quote kernel's P(d) = exp(-kappa d) enters
  E[PnL] over that tau); filled within it (1), resting through it unfilled (0), or
  cancelled / modified away / cut by the end of the data before it: censored, left
  out (``scores.fill_outcomes``). A modify ends the order and starts a new one.
  ``hazard``: the same forecasts on every order, censored ones included, as observed
  / expected fills over each order's time at risk (``scores.hazard_score``).
  ``short``: the Brier score at a horizon short enough for unfilled orders to survive
  it: requotes modify most orders within a second, so at the full horizon every
  uncensored order is a fill (base rate 1, climatology's Brier 0, nothing to beat).
  The horizon h is the median time at risk of the run's orders (a fixed rule, not a
  choice per run); the forecast is read at h as a constant hazard,
  ``1 - (1 - p)^(h / H)``; the same censoring rule applies at h.
* ``adverse_selection``: per maker fill carrying a prediction, the level's AS (bps)
  against the realized AS at each markout horizon, ``depth - markout`` (depth: the
  fill's edge against the mid before it); headline at 10 s.
* ``toxicity``: per fill, P(toxic) on its side in the ladder in force, against the
  toxicity estimator's own label: ``-side (mid_h - mid_0) / mid_0 > toxic_threshold_bps``
  at ``label_horizon_ms`` (mid_h from the markout at that horizon).
* ``drift``, ``microprice``, ``lead_lag``: per requote (BT_REQUOTE), the MarketParams
  forecast of the mid move over the model's horizon (drift x T; the microprice's
  adjustment; the lead-lag's next-step move) against the realized move, from the mid at
  the first requote at least a horizon later. A model that produced nothing (microprice
  in fallback throughout, lead-lag without a reference coin) reports n = 0 and a note.

Each entry: the metric values, ``n`` (pairs scored), ``degraded`` (``scores.degraded``
with the ``[scores] ir_floor_<model>`` for the directional forecasts), ``horizon_s``; the
estimators' own running Brier scores (toxicity, queue) sit beside ours as
``estimator_own``. ``score_run(result)`` takes a ``BacktestResult``; ``score_records``
the same from the arrays (a journal, a time window of a run).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from appliance.config import Config
from appliance.measure import scores as sc
from shm_layout.constants import EST_VALID

from .report import MARKOUT_HORIZONS_S, fill_depth_bps

HEADLINE_AS_S = 10  # the adverse-selection horizon of the entry's top-level metrics


def model_horizons_s(cfg: Config) -> dict[str, float]:
    """The horizon of each model's prediction, seconds: the one place they are defined
    (the backtest stamps ``fill_prob``'s on every order record)."""
    est = cfg.estimator
    return {
        "fill_prob": float(cfg.quote.epnl_horizon_s),  # tau of E[PnL] = P(d) [ ... ]
        "toxicity": est.toxicity.label_horizon_ms / 1e3,  # its label's markout horizon
        "drift": float(cfg.quote.horizon_s),  # T of the quote's drift shift mu T / 2
        "microprice": est.microprice.horizon_ms / 1e3,  # the forward move it regresses
        "lead_lag": est.correlation.leadlag_sample_ms / 1e3,  # one step of its grid
    }


def estimator_own_scores(est_state: np.void | np.ndarray) -> dict:
    """The running scores the estimators keep on themselves (EWMA Brier of their
    labelled outcomes) from an ESTIMATOR_STATE record: None before any outcome."""
    tox, queue = est_state["toxicity"], est_state["queue"]
    n_tox, n_queue = int(tox["n_learned"]), int(queue["n_outcomes"])
    return {
        "toxicity": {"brier_ewma": float(tox["brier"]) if n_tox else None,
                     "logloss_ewma": float(tox["logloss"]) if n_tox else None, "n": n_tox},
        "queue": {"brier_ewma": float(queue["brier"]) if n_queue else None, "n": n_queue},
    }


def _in(t: np.ndarray, window_ns: tuple[int, int] | None) -> np.ndarray:
    if window_ns is None:
        return np.ones(t.shape[0], bool)
    return (t >= window_ns[0]) & (t < window_ns[1])


def _nones(score_cls: type) -> dict:
    """Every metric of a score class as None (too few samples to score)."""
    return dict.fromkeys(f.name for f in dataclasses.fields(score_cls))


def _prob_entry(forecast: np.ndarray, outcome: np.ndarray, bins: int) -> dict:
    keep = (outcome != sc.CENSORED) & np.isfinite(forecast)
    s = sc.probability_score(forecast, outcome, bins)
    out: dict = _nones(sc.ProbabilityScore) if s is None else s.as_dict()
    out.update(n=int(keep.sum()), degraded=sc.degraded(s))
    return out


def _forecast_entry(forecast: np.ndarray, realized: np.ndarray, ir_floor: float | None) -> dict:
    keep = np.isfinite(forecast) & np.isfinite(realized)
    s = sc.forecast_score(forecast, realized)
    out: dict = _nones(sc.ForecastScore) if s is None else s.as_dict()
    out.update(n=int(keep.sum()), degraded=sc.degraded(s, ir_floor))
    return out


def fill_prob_entry(orders: np.ndarray, bins: int = 10) -> dict:
    """The ladder's fill probability against the orders' outcomes (BT_ORDER records)."""
    y = sc.fill_outcomes(orders["placed_ns"], orders["horizon_ns"], orders["first_fill_ns"],
                         orders["ended_ns"])
    out = _prob_entry(orders["pred_fill_prob"], y, bins)
    out["horizon_s"] = float(orders["horizon_ns"][0]) / 1e9 if orders.shape[0] else None
    out.update(orders=int(y.shape[0]), filled=int((y == 1).sum()), missed=int((y == 0).sum()),
               censored=int((y == sc.CENSORED).sum()))
    hz = sc.hazard_score(orders["pred_fill_prob"], orders["placed_ns"], orders["horizon_ns"],
                         orders["first_fill_ns"], orders["ended_ns"], bins)
    out["hazard"] = _nones(sc.HazardScore) | {"n": 0} if hz is None else hz.as_dict()
    out["short"] = short_horizon_entry(orders, bins)
    return out


def short_horizon_entry(orders: np.ndarray, bins: int = 10) -> dict:
    """The fill probability's Brier score at the median time at risk (see the module
    doc): forecast rescaled to that horizon, outcomes under the same censoring rule."""
    h_full = orders["horizon_ns"].astype(np.int64)
    h_ns = sc.median_time_at_risk_ns(orders["placed_ns"], h_full, orders["first_fill_ns"], orders["ended_ns"])
    if h_ns <= 0:
        return _nones(sc.ProbabilityScore) | {"n": 0, "horizon_s": None, "degraded": False}
    p = sc.rescale_fill_prob(orders["pred_fill_prob"], h_ns / np.maximum(h_full, 1))
    y = sc.fill_outcomes(orders["placed_ns"], h_ns, orders["first_fill_ns"], orders["ended_ns"])
    out = _prob_entry(p, y, bins)
    out.update(horizon_s=h_ns / 1e9, filled=int((y == 1).sum()), missed=int((y == 0).sum()),
               censored=int((y == sc.CENSORED).sum()))
    return out


def realized_as_bps(fills: np.ndarray, markouts: np.ndarray) -> np.ndarray:
    """Realized adverse selection per fill and markout horizon (bps, > 0 = the mid moved
    against us): ``depth - markout``; NaN where not marked."""
    return fill_depth_bps(fills)[:, None] - markouts


def as_entry(fills: np.ndarray, markouts: np.ndarray) -> dict:
    """Predicted AS per maker fill (its level's) against the realized AS, per horizon."""
    has = (fills["level_id"] != 0) & (fills["is_maker"] == 1)
    realized = realized_as_bps(fills[has], markouts[has])
    by = {f"{h:g}s": dict(_forecast_entry(fills["pred_as_bps"][has], realized[:, j], None),
                          horizon_s=float(h))
          for j, h in enumerate(MARKOUT_HORIZONS_S)}
    out = dict(by[f"{HEADLINE_AS_S:g}s"])
    out["by_horizon"] = by
    return out


def toxicity_labels(fills: np.ndarray, mid_later: np.ndarray, threshold_bps: float) -> np.ndarray:
    """The toxicity estimator's label of each fill: 1 when ``-side (mid_h - mid_0) / mid_0``
    exceeds the threshold (bps), 0 when not, CENSORED without a later mid."""
    move = -fills["side"] * (mid_later - fills["mid_px"]) / fills["mid_px"] * 1e4
    y = np.where(move > threshold_bps, 1, 0).astype(np.int8)
    y[~np.isfinite(move)] = sc.CENSORED
    return y


def _mid_at_markout(fills: np.ndarray, markouts: np.ndarray, h_s: float) -> np.ndarray | None:
    """The mid at markout horizon ``h_s`` per fill, from its markout (None: not a
    markout horizon)."""
    hs = [float(h) for h in MARKOUT_HORIZONS_S]
    if float(h_s) not in hs:
        return None
    mk = markouts[:, hs.index(float(h_s))]
    return fills["px"] * (1.0 + fills["side"] * mk / 1e4)


def mid_after(ts_ns: np.ndarray, mid: np.ndarray, t_ns: np.ndarray, horizon_ns: int) -> np.ndarray:
    """The mid at the first record at least ``horizon_ns`` after each ``t_ns`` (NaN past
    the end); ``ts_ns`` ascending."""
    j = np.searchsorted(ts_ns, np.asarray(t_ns, np.int64) + int(horizon_ns), side="left")
    out = np.full(j.shape[0], np.nan)
    ok = j < ts_ns.shape[0]
    out[ok] = mid[j[ok]]
    return out


def toxicity_entry(fills: np.ndarray, markouts: np.ndarray, fill_info: np.ndarray,
                   requotes: np.ndarray, horizon_s: float, threshold_bps: float,
                   bins: int = 10) -> dict:
    later = _mid_at_markout(fills, markouts, horizon_s)
    if later is None:  # not a markout horizon: the mid at the requotes
        later = mid_after(requotes["ts_ns"], requotes["mid_px"], fills["pub_mono_ns"],
                          int(round(horizon_s * 1e9)))
    y = toxicity_labels(fills, later, threshold_bps)
    out = _prob_entry(fill_info["pred_toxicity"], y, bins)
    out.update(horizon_s=float(horizon_s), threshold_bps=float(threshold_bps))
    return out


def _forecasts(requotes: np.ndarray, horizons_s: dict[str, float]) -> dict[str, tuple]:
    """Per directional model: (forecast move bps, produced mask, note if none produced)."""
    valid = requotes["valid"] == 1
    drift = requotes["drift_bps_per_s"] * horizons_s["drift"]
    lead = requotes["lead_bps_per_s"] * horizons_s["lead_lag"]
    return {
        "drift": (drift, valid & (requotes["drift_status"] == EST_VALID),
                  "drift filter not valid at any requote"),
        "microprice": (requotes["microprice_adj_bps"],
                       valid & (requotes["microprice_status"] == EST_VALID)
                       & (requotes["microprice_fallback"] == 0),
                       "microprice in fallback (the mid) throughout: no forecast"),
        "lead_lag": (lead, valid & (requotes["lead_bps_per_s"] != 0.0),
                     "no lead-lag signal (it needs a reference coin or venue in the run)"),
    }


def forecast_entries(requotes: np.ndarray, horizons_s: dict[str, float], ir_floors: dict[str, float],
                     window_ns: tuple[int, int] | None = None) -> dict[str, dict]:
    """Drift, microprice and lead-lag forecasts against the realized mid move (bps)."""
    ts, mid = requotes["ts_ns"], requotes["mid_px"]
    inside = _in(ts, window_ns)
    out = {}
    for name, (fc, produced, note) in _forecasts(requotes, horizons_s).items():
        h = horizons_s[name]
        later = mid_after(ts, mid, ts, int(round(h * 1e9)))
        with np.errstate(invalid="ignore", divide="ignore"):
            realized = np.where(mid > 0.0, (later / mid - 1.0) * 1e4, np.nan)
        use = produced & inside
        e = _forecast_entry(fc[use], realized[use], ir_floors[name])
        e.update(horizon_s=float(h), requotes=int(inside.sum()), produced=int(use.sum()),
                 note=None if use.any() else note)
        out[name] = e
    return out


def score_records(*, fills: np.ndarray, markouts: np.ndarray, orders: np.ndarray,
                  fill_info: np.ndarray, requotes: np.ndarray, cfg: Config,
                  estimator_own: dict | None = None,
                  window_ns: tuple[int, int] | None = None) -> dict:
    """The ``scores`` block from a run's records: FILL_EVENT ``fills`` with their
    ``markouts`` (MARKOUT_HORIZONS_S columns) and BT_FILL_INFO ``fill_info``, BT_ORDER
    ``orders``, BT_REQUOTE ``requotes``. ``window_ns`` = (from, to): only predictions
    made in it (orders placed, fills, requotes), e.g. a calibration's test span; their
    outcomes may lie after it."""
    horizons = model_horizons_s(cfg)
    s_cfg = cfg.scores
    floors = {"drift": s_cfg.ir_floor_drift, "microprice": s_cfg.ir_floor_microprice,
              "lead_lag": s_cfg.ir_floor_lead_lag}
    bins = int(cfg.scores.reliability_bins)
    fsel = _in(fills["pub_mono_ns"], window_ns)
    tox = cfg.estimator.toxicity
    own = estimator_own or {}
    models = {
        "fill_prob": fill_prob_entry(orders[_in(orders["placed_ns"], window_ns)], bins),
        "adverse_selection": as_entry(fills[fsel], markouts[fsel]),
        "toxicity": toxicity_entry(fills[fsel], markouts[fsel], fill_info[fsel], requotes,
                                   horizons["toxicity"], tox.toxic_threshold_bps, bins),
        **forecast_entries(requotes, horizons, floors, window_ns),
    }
    if models["fill_prob"]["horizon_s"] is None:
        models["fill_prob"]["horizon_s"] = horizons["fill_prob"]
    # the estimators' own running scores: the queue model's P(fill) is not the ladder's
    models["fill_prob"]["estimator_own"] = own.get("queue")
    models["toxicity"]["estimator_own"] = own.get("toxicity")
    return {
        "models": models,
        "model_degraded": [k for k, v in models.items() if v["degraded"]],
        "ir_floors": floors,
        "min_samples": sc.MIN_SAMPLES,
        "window_ns": list(window_ns) if window_ns is not None else None,
    }


class RunRecords(Protocol):
    """What scoring reads of a run: ``runner.BacktestResult`` has it."""

    fills: np.ndarray
    markouts: np.ndarray
    orders: np.ndarray
    fill_info: np.ndarray
    requotes: np.ndarray
    estimator_own: dict
    cfg: Config | None


def score_run(result: RunRecords, window_ns: tuple[int, int] | None = None) -> dict:
    """The ``scores`` block of a ``BacktestResult`` (its records and configuration;
    the built-in defaults when it carries none)."""
    cfg = result.cfg if result.cfg is not None else Config()
    return score_records(fills=result.fills, markouts=result.markouts, orders=result.orders,
                         fill_info=result.fill_info, requotes=result.requotes, cfg=cfg,
                         estimator_own=result.estimator_own, window_ns=window_ns)
