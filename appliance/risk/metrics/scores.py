"""The model scorer's SCORES block (risk/scoring/): scores, samples, degraded flags."""

from __future__ import annotations

import math

from appliance.ipc import seqlock
from shm_layout.constants import MODEL_NAMES, SCORE_METRIC_NAMES

from .coins import SNAPSHOT_TRIES
from .families import gauge


def collect_scores(mem, coins):
    score = gauge("mm_model_score", "a model's score over the scoring window "
                  "(appliance/measure/scores.py; mmctl inspect scores)", ["model", "metric", "coin"])
    samples = gauge("mm_model_samples", "forecast/outcome pairs scored in the window", ["model", "coin"])
    degraded = gauge("mm_model_degraded", "1 when the model has scored worse than none for "
                     "scores.degraded_after_s", ["model", "coin"])
    for c, coin in enumerate(coins):
        rec, seq = seqlock.snapshot(mem.scores, c, max_tries=SNAPSHOT_TRIES)
        if seq < 0:
            continue
        for m, model in enumerate(MODEL_NAMES[: int(rec["n_models"])]):
            samples.add_metric([model, coin], float(rec["samples"][m]))
            degraded.add_metric([model, coin], float(rec["degraded"][m]))
            for j, metric in enumerate(SCORE_METRIC_NAMES):
                v = float(rec["value"][m][j])
                if math.isfinite(v):
                    score.add_metric([model, metric, coin], v)
    yield from (score, samples, degraded)
