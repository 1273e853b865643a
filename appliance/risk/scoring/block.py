"""The SCORES block (``records.MODEL_SCORES``, one per coin) by name: as a dict for
``mmctl inspect scores --json`` and the metrics, as text for the terminal and the
log's score line. numpy and shm_layout only (mmctl imports it; no scipy)."""

from __future__ import annotations

import math

import numpy as np

from shm_layout.constants import MODEL_NAMES, N_PROB_MODELS, SCORE_METRIC_NAMES

# what the one-line summary shows of each kind of model
LINE_METRICS_PROB = ("brier", "skill")
LINE_METRICS_FORECAST = ("bias", "slope", "spearman", "ir")


def clear(rec: np.void, coin: int, window_s: float, horizons_s: list[float]) -> None:
    """A block with no score yet: NaN values, the horizons of the models."""
    rec["coin"] = coin
    rec["n_models"] = len(MODEL_NAMES)
    rec["n_metrics"] = len(SCORE_METRIC_NAMES)
    rec["window_s"] = window_s
    rec["value"][:] = math.nan
    rec["curve_forecast"][:] = math.nan
    rec["curve_observed"][:] = math.nan
    rec["curve_count"][:] = 0
    for m, h in enumerate(horizons_s):
        rec["horizon_s"][m] = h


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def scores_dict(rec: np.void, coin: str, now_mono_ns: int) -> dict:
    """Every model of one coin: samples, pending, censored, degraded, its scores by
    metric (those it has), the reliability curve of the probabilities."""
    upd = int(rec["update_mono_ns"])
    models = {}
    for m, name in enumerate(MODEL_NAMES[: int(rec["n_models"]) or len(MODEL_NAMES)]):
        vals = {k: _f(rec["value"][m][j]) for j, k in enumerate(SCORE_METRIC_NAMES)}
        d = {
            "samples": int(rec["samples"][m]),
            "censored": int(rec["censored"][m]),
            "pending": int(rec["pending"][m]),
            "total": int(rec["total"][m]),
            "horizon_s": _f(rec["horizon_s"][m]),
            "degraded": bool(rec["degraded"][m]),
            "degraded_s": float(rec["degraded_s"][m]),
            "scores": {k: v for k, v in vals.items() if v is not None},
        }
        if m < N_PROB_MODELS:
            d["curve"] = [
                {"forecast": _f(rec["curve_forecast"][m][b]), "observed": _f(rec["curve_observed"][m][b]),
                 "count": int(rec["curve_count"][m][b])}
                for b in range(rec["curve_count"].shape[1]) if rec["curve_count"][m][b] > 0]
        models[name] = d
    return {
        "coin": coin,
        "seq": int(rec["seq"]),
        "age_ms": None if upd == 0 else round((now_mono_ns - upd) / 1e6, 3),
        "window_s": float(rec["window_s"]),
        "models": models,
        "degraded": [n for n, d in models.items() if d["degraded"]],
    }


def _num(v: float | None, fmt: str = "+.3g") -> str:
    return "-" if v is None else format(v, fmt)


def score_line(d: dict) -> str:
    """One line per coin: each model with samples, its key scores, the degraded ones."""
    parts = []
    for name, m in d["models"].items():
        if not m["samples"] and not m["pending"]:
            continue
        s = m["scores"]
        keys = LINE_METRICS_PROB if "brier" in s or name in MODEL_NAMES[:N_PROB_MODELS] \
            else LINE_METRICS_FORECAST
        shown = " ".join(f"{k}={_num(s.get(k))}" for k in keys) if s else "(too few)"
        cens = f" cens={m['censored']}" if m["censored"] else ""
        parts.append(f"{name} n={m['samples']}{cens} {shown}")
    bad = ", ".join(f"{n} ({d['models'][n]['degraded_s']:.0f} s)" for n in d["degraded"])
    return (f"scores {d['coin']} (window {d['window_s']:g} s): " + (" | ".join(parts) or "no pairs yet")
            + (f" | DEGRADED: {bad}" if bad else ""))


def render(d: dict) -> str:
    """The terminal view of ``mmctl inspect scores``: a table, then the curves."""
    head = f"scores [{d['coin']}] seq {d['seq']} age {d['age_ms']} ms, window {d['window_s']:g} s"
    cols = ("samples", "cens", "pend", "horizon")
    lines = [head, f"  {'model':<24}" + "".join(f"{c:>9}" for c in cols) + "  scores"]
    for name, m in d["models"].items():
        s = m["scores"]
        shown = "  ".join(f"{k} {_num(v, '.4g')}" for k, v in s.items()) if s else "-"
        flag = f"  DEGRADED {m['degraded_s']:.0f} s" if m["degraded"] else (
            f"  (worse than none for {m['degraded_s']:.0f} s)" if m["degraded_s"] > 0 else "")
        h = "-" if m["horizon_s"] is None else f"{m['horizon_s']:g}s"
        lines.append(f"  {name:<24}{m['samples']:>9}{m['censored']:>9}{m['pending']:>9}{h:>9}  "
                     f"{shown}{flag}")
    for name, m in d["models"].items():
        if m.get("curve"):
            pts = ", ".join(f"{p['forecast']:.2f}->{p['observed']:.2f} ({p['count']})" for p in m["curve"])
            lines.append(f"  {name} reliability (forecast->observed (n)): {pts}")
    return "\n".join(lines)
