"""The fits of ``mmctl calibrate``, one function per model: each reads the train
segments, scores the default and the fitted parameters on both parts, and adds its keys
to the overlay and its rows to the result."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np

from appliance.backtest import apply_preset, run_events
from appliance.backtest.report import MARKOUT_10S_COL
from appliance.config import Config
from appliance.measure.scores import forecast_score

from . import adverse, drift, hawkes, kappa
from .replay_params import at_times
from .result import CalibrationResult, Row, Segment


def _parts(segs: list[Segment]) -> Iterator[tuple[str, list[Segment]]]:
    yield "train", [s for s in segs if s.part == "train"]
    yield "test", [s for s in segs if s.part == "test"]


def with_overlay(base: Config, fitted: Config, ov: dict[str, dict]) -> Config:
    """``base`` with the overlay's fitted keys (the base may be a user's own config)."""
    est = base.estimator
    for table, values in ov.items():
        if table == "estimator":
            est = dataclasses.replace(est, **values)
        else:
            sub = table.split(".", 1)[1]
            est = dataclasses.replace(est, **{sub: dataclasses.replace(getattr(est, sub), **values)})
    del fitted  # checked above; its other keys are defaults, the base's win
    return dataclasses.replace(base, estimator=est)


# --- the fits ---------------------------------------------------------------------------


def fit_hawkes(segs: list[Segment], cfg: Config, res: CalibrationResult, ov: dict) -> None:
    h = cfg.estimator.hawkes
    default = hawkes.HawkesParams(h.mu_prior_per_s, h.alpha_prior_per_s, h.beta_prior_per_s)
    keys = {"buy": ("mu_prior_per_s", "alpha_prior_per_s", "beta_prior_per_s"),
            "sell": ("mu_sell_prior_per_s", "alpha_sell_prior_per_s", "beta_sell_prior_per_s")}
    for side, sgn in (("buy", 1), ("sell", -1)):
        times = {}
        for part, ss in _parts(segs):
            times[part] = [(hawkes.event_times(s.sl.trade_t_s[s.sl.trade_side == sgn], s.sl.t0_s),
                            s.sl.span_s) for s in ss]
        try:
            fit = hawkes.fit_side(side, times["train"], times["test"], default, h.max_branching)
        except ValueError as err:
            res.notes.append(f"hawkes {side}: not fitted: {err}")
            continue
        res.fits[f"hawkes_{side}"] = fit
        p = fit.fitted
        ov["estimator.hawkes"].update(zip(keys[side], (p.mu, p.alpha, p.beta), strict=True))
        name = f"hawkes {side}"
        res.rows.append(Row(name, "loglik/event (nats)", fit.ll_train["default"], fit.ll_test["default"],
                            fit.ll_train["fitted"], fit.ll_test["fitted"]))
        res.rows.append(Row(name, "loglik/event - Poisson", fit.ll_train["default"] - fit.ll_train["poisson"],
                            fit.ll_test["default"] - fit.ll_test["poisson"],
                            fit.ll_train["fitted"] - fit.ll_train["poisson"],
                            fit.ll_test["fitted"] - fit.ll_test["poisson"]))
        sc = {k: getattr(v, "spearman", None) for k, v in
              (("di", fit.count_train["default"]), ("do", fit.count_test["default"]),
               ("ci", fit.count_train["fitted"]), ("co", fit.count_test["fitted"]))}
        res.rows.append(Row(name, "1 s count forecast Spearman", sc["di"], sc["do"], sc["ci"], sc["co"]))


def fit_kappa(segs: list[Segment], cfg: Config, res: CalibrationResult, ov: dict) -> None:
    d = {part: [kappa.distances(s.sl) for s in ss] for part, ss in _parts(segs)}
    prior = cfg.estimator.kappa_prior_per_bps
    key = {"bid": "prior_bid_per_bps", "ask": "prior_ask_per_bps"}
    for side in ("both", "bid", "ask"):
        tr = np.concatenate([x[side] for x in d["train"]]) if d["train"] else np.zeros(0)
        te = np.concatenate([x[side] for x in d["test"]]) if d["test"] else np.zeros(0)
        try:
            fit = kappa.fit_side(side, tr, te, prior)
        except ValueError as err:
            res.notes.append(f"kappa {side}: not fitted: {err}")
            continue
        res.fits[f"kappa_{side}"] = fit
        if side == "both":
            ov["estimator"]["kappa_prior_per_bps"] = fit.kappa_written
        else:
            ov["estimator.kappa"][key[side]] = fit.kappa_written
        name = f"kappa {side}"
        res.rows.append(Row(name, "loglik/trade exponential", fit.ll_train["default"], fit.ll_test["default"],
                            fit.ll_train["exponential"], fit.ll_test["exponential"]))
        res.rows.append(Row(name, "loglik/trade power law (Lomax)", None, None,
                            fit.ll_train["lomax"], fit.ll_test["lomax"]))
        res.rows.append(Row(name, "K-S D exponential | Lomax (train)", None, None, fit.ks_d, fit.lomax_ks_d))
        res.rows.append(Row(name, "kappa per bps (written: calibrated in)", fit.kappa_default, None,
                            fit.kappa_written, None))
        if fit.ks_reject:
            res.notes.append(f"kappa {side}: the K-S test rejects the exponential (modified statistic "
                             f"{fit.ks_stat:.3g} > {kappa.KS_CRITICAL}); "
                             + ("the power law is written" if fit.kappa_written != fit.kappa
                                else "the Lomax fits no closer, the exponential is written"))


def _markouts(s: Segment, horizons: tuple[float, ...]) -> adverse.Markouts:
    m = adverse.market_markouts(s.sl, horizons)
    m.kurtosis = at_times(s.params, m.t_s, "excess_kurtosis")
    return m


def _join(ms: list[adverse.Markouts], horizons: tuple[float, ...]) -> adverse.Markouts:
    if not ms:
        return adverse.Markouts(np.zeros(0), np.zeros(0), np.zeros((0, len(horizons))), horizons, np.zeros(0))
    return adverse.Markouts(np.concatenate([m.t_s for m in ms]), np.concatenate([m.depth_bps for m in ms]),
                            np.concatenate([m.as_bps for m in ms]), horizons,
                            np.concatenate([m.kurtosis for m in ms]),
                            np.concatenate([m.mom_adv_bps for m in ms]))


def fit_as(segs: list[Segment], cfg: Config, res: CalibrationResult, ov: dict) -> None:
    a = cfg.estimator.adverse_selection
    horizons = tuple(h / 1000.0 for h in a.horizons_ms)
    m = {part: _join([_markouts(s, horizons) for s in ss], horizons) for part, ss in _parts(segs)}
    default = adverse.ASParams(a.as0_prior_bps, a.delta_char_prior_bps, cfg.estimator.vol.kurtosis_as_k,
                               a.reference_horizon_ms / 1000.0, a.depth_coef_per_bps, a.depth_cap_bps,
                               a.momentum_coef, a.momentum_clip_bps)
    try:
        fit = adverse.fit_as(m["train"], m["test"], default)
    except ValueError as err:
        res.notes.append(f"adverse selection: not fitted: {err}")
        return
    res.fits["adverse_selection"] = fit
    p = fit.fitted
    if not fit.decays:
        res.notes.append(f"adverse selection: no decay of AS with depth in the train part at "
                         f"{p.reference_horizon_s:g} s; delta_char written at its cap "
                         f"({adverse.MAX_DELTA_CHAR_BPS:g} bps): flat in depth")
    ov["estimator.adverse_selection"].update(
        as0_prior_bps=p.as0_bps, delta_char_prior_bps=p.delta_char_bps,
        reference_horizon_ms=int(round(p.reference_horizon_s * 1000)),
        depth_coef_per_bps=p.depth_coef_per_bps, depth_cap_bps=p.depth_cap_bps,
        momentum_coef=p.momentum_coef)
    ov["estimator.vol"]["kurtosis_as_k"] = p.kurtosis_k
    s = fit.scores

    def g(which: str, part: str, attr: str) -> float | None:
        sc = s.get((which, part))
        return getattr(sc, attr) if sc is not None else None

    for attr, label in (("ratio", "pred/realized mean, 10 s"), ("spearman", "Spearman, 10 s"),
                        ("mean_forecast", "mean predicted (bps)"),
                        ("mean_realized", "mean realized 10 s (bps)")):
        res.rows.append(Row("AS market fills", label, g("default", "train", attr), g("default", "test", attr),
                            g("fitted", "train", attr), g("fitted", "test", attr)))


def fit_drift(segs: list[Segment], cfg: Config, res: CalibrationResult, ov: dict) -> None:
    c = cfg.estimator.drift
    dt = cfg.estimator.vol_sample_ms / 1000.0
    r = {part: [drift.sampled_returns(s.sl, dt) for s in ss] for part, ss in _parts(segs)}
    try:
        fit = drift.fit_drift(r["train"], r["test"], dt, (c.theta_per_s, c.process_noise_bps2_per_s3),
                              c.prior_var_bps2_per_s2,
                              ((c.theta_min_per_s, c.theta_max_per_s), (c.noise_min, c.noise_max)))
    except ValueError as err:
        res.notes.append(f"drift: not fitted: {err}")
        return
    res.fits["drift"] = fit
    theta, q = fit.fitted
    if fit.at_bound:
        res.notes.append(f"drift: the fit stops at a bound of the online adaptation range (theta "
                         f"{theta:.3g} /s, q {q:.3g}): the mid returns show no persistent drift to filter")
    # the seed's rule for the prior: twice the stationary variance q / (2 theta)
    ov["estimator.drift"].update(theta_per_s=theta, process_noise_bps2_per_s3=q,
                                 prior_var_bps2_per_s2=max(q / theta, c.var_floor_bps2_per_s2))
    res.rows.append(Row("drift Kalman", "innovation loglik/obs", fit.ll_train["default"],
                        fit.ll_test["default"], fit.ll_train["fitted"], fit.ll_test["fitted"]))
    for attr in ("spearman", "ir"):
        sc = [getattr(x, attr) if x is not None else None for x in
              (fit.fc_train["default"], fit.fc_test["default"], fit.fc_train["fitted"],
               fit.fc_test["fitted"])]
        res.rows.append(Row("drift Kalman", f"next-return forecast {attr}", *sc))


def _drift_forecasts(ss: list[Segment], c: Config) -> tuple[np.ndarray, np.ndarray]:
    """Backtests of segments ``ss`` with ``c`` (its preset): the pooled drift pairs."""
    h = float(c.quote.horizon_s)
    fs, rs = [], []
    for s in ss:
        r = run_events([s.sl.events], c, coin=s.coin, preset=c.backtest.preset)
        f, x = drift.drift_pairs(r.requotes, h)
        fs.append(f)
        rs.append(x)
    return (np.concatenate(fs) if fs else np.zeros(0)), (np.concatenate(rs) if rs else np.zeros(0))


def fit_drift_scale(segs: list[Segment], cfg: Config, res: CalibrationResult, ov: dict,
                     score_test: bool, tick: Callable[[str], None]) -> None:
    """One factor on the drift's observation scales (``drift.OBS_SCALES``): backtests of
    the train part with the overlay so far, the drift's forecast over the quote horizon
    against the realized move; c = its calibration slope, within [0, 1], applied twice."""
    base = {}
    for table, key in drift.OBS_SCALES:
        base.setdefault(table, {})[key] = float(getattr(getattr(cfg.estimator, table), key))
    parts = dict(_parts(segs))

    def config_at(c: float) -> Config:
        o = {k: dict(v) for k, v in ov.items()}
        for table, kv in drift.scaled_values(base, c).items():
            o.setdefault(f"estimator.{table}", {}).update(kv)
        x = with_overlay(cfg, None, o)
        return apply_preset(x.backtest.preset, x)

    scale = 1.0
    before = None
    for _ in range(drift.SCALE_ITERATIONS):
        f, x = _drift_forecasts(parts["train"], config_at(scale))
        if before is None:
            before = forecast_score(f, x)
        step = drift.scale_step(f, x)
        tick("backtest: drift scale")
        if step is None:
            res.notes.append("drift scale: no drift forecast in the train backtest; scales kept")
            return
        scale *= step
        if scale == 0.0:
            res.notes.append("drift scale: the drift's forecast has no skill on the train part "
                             "(calibration slope <= 0): its observation scales are set to 0")
            break
    after = forecast_score(*_drift_forecasts(parts["train"], config_at(scale)))
    for table, kv in drift.scaled_values(base, scale).items():
        ov.setdefault(f"estimator.{table}", {}).update(kv)
    res.fits["drift_scale"] = scale
    test_b = test_a = None
    if score_test and parts["test"]:
        test_b = forecast_score(*_drift_forecasts(parts["test"], config_at(1.0)))
        test_a = forecast_score(*_drift_forecasts(parts["test"], config_at(scale)))
    res.fits["drift_scale_scores"] = {"train": (before, after), "test": (test_b, test_a)}
    for attr in ("slope", "pearson", "ir"):
        vals = [getattr(x, attr) if x is not None else None for x in (before, test_b, after, test_a)]
        res.rows.append(Row("drift observation scale", f"{attr}, forecast over the quote horizon", *vals))


# --- our own fills: backtests with the default and the calibrated config -----------------


def own_fills(segs: list[Segment], cfg: Config, calibrated: Config, res: CalibrationResult,
               tick: Callable[[str], None]) -> None:
    pairs: dict = {}
    for which, c in (("default", cfg), ("fitted", calibrated)):
        c = apply_preset(c.backtest.preset, c)
        for part, ss in _parts(segs):
            preds, reals = [], []
            for s in ss:
                r = run_events([s.sl.events], c, coin=s.coin, preset=c.backtest.preset)
                p, q = adverse.own_fill_pairs(r.fills, r.markouts[:, MARKOUT_10S_COL])
                preds.append(p)
                reals.append(q)
            pairs[(which, part)] = (np.concatenate(preds) if preds else np.zeros(0),
                                    np.concatenate(reals) if reals else np.zeros(0))
            tick(f"backtest {which} config, {part}")
    summ = {k: adverse.own_fill_summary(*v) for k, v in pairs.items()}
    res.fits["as_own_fills"] = {"summary": summ, "pairs": pairs}
    for attr, label in (("n", "fills"), ("pred_mean", "mean predicted (bps)"),
                        ("realized_mean", "mean realized 10 s (bps)"), ("ratio", "pred/realized mean, 10 s"),
                        ("spearman", "Spearman, 10 s")):
        res.rows.append(Row("AS own fills (backtest)", label, summ[("default", "train")][attr],
                            summ[("default", "test")][attr], summ[("fitted", "train")][attr],
                            summ[("fitted", "test")][attr]))
