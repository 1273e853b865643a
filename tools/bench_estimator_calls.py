"""ns per call of the hot functions of six estimator modules (drift, book
microstructure, adverse selection, toxicity, queue, correlation), each alone.

    python -m tools.bench_estimator_calls [--n 1000000]

Each function runs inside an njit loop (no Python call overhead), on plausible inputs:
a 20-level book, 16 fills awaiting markouts, 8 coins, events 1 ms apart.
"""

import argparse
import time

import numpy as np
from numba import njit

from appliance.estimator import adverse_selection as asel
from appliance.estimator import book_micro as bm
from appliance.estimator import correlation as co
from appliance.estimator import drift_kalman as dk
from appliance.estimator import queue_position as qp
from appliance.estimator import toxicity as tox
from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import adverse_selection as as_state
from shm_layout.estimators import book_micro as book_state
from shm_layout.estimators import correlation as corr_state
from shm_layout.estimators import drift_kalman as drift_state
from shm_layout.estimators import queue_position as queue_state
from shm_layout.estimators import toxicity as tox_state

MS = 1_000_000


@njit(cache=True)
def _drift_hot(st, cfg, n, z, r):
    acc = 0.0
    for i in range(n):
        dk.hot_tier(st, cfg, 1e9 + i * MS, z, r, 4, 0.1, 0.1, 1.0)
        acc += dk.drift_bps_per_s(st)
    return acc


@njit(cache=True)
def _book_on_book(st, cfg, n, bp, bs, ap, as_, z, r):
    acc = 0.0
    for i in range(n):
        bs[0] = 1.0 + (i & 7)
        bm.on_book(st, cfg, 1e9 + i * MS, bp, bs, ap, as_, 20, 20)
        bm.drift_observations(st, cfg, 1e9 + i * MS, 1.0, z, r)
        acc += z[0]
    return acc


@njit(cache=True)
def _book_on_trade(st, cfg, n):
    for i in range(n):
        bm.on_trade(st, cfg, 1e9 + i * MS, 100.0 - (i & 3) * 0.01, 1.0, -1.0)


@njit(cache=True)
def _as_on_mid(st, cfg, n):
    acc = 0.0
    for i in range(n):
        t = 1e9 + i * MS
        if i % 64 == 0:
            asel.on_fill(st, cfg, t, 1.0 if i & 64 else -1.0, 99.99, 100.0)
        asel.on_mid(st, cfg, t, 100.0 + (i & 15) * 0.01)
        acc += asel.spread_adjustment_bps(st, cfg)
    return acc


@njit(cache=True)
def _tox_predict(st, cfg, n):
    acc = 0.0
    for i in range(n):
        x = (i & 15) * 0.05
        acc += tox.p_toxic(st, cfg, 1.0, x, -x, 1.0, 1.0, 0.1, 0.5, 1.0, 0.2)
    return acc


@njit(cache=True)
def _queue_fill_prob(st, cfg, n):
    acc = 0.0
    for i in range(n):
        acc += qp.fill_prob(st, cfg, 1.0, 1.0 + (i & 7), 0.5, 2.0, 5.0)
    return acc


@njit(cache=True)
def _queue_on_book(st, cfg, n, bp, bs, bn, ap, as_, an):
    for i in range(n):
        bn[0] = 5 + (i & 3)
        qp.on_book(st, cfg, 1e9 + i * MS, bp, bs, bn, ap, as_, an, 20, 20)


@njit(cache=True)
def _corr_on_mid(st, cfg, n):
    for i in range(n):
        co.corr_on_mid(st, cfg, 1e9 + i * MS, i & 7, 100.0 + (i & 31) * 0.01)


@njit(cache=True)
def _xv_on_mid(st, cfg, n):
    for i in range(n):
        co.xv_on_mid(st, cfg, 1e9 + i * MS, i & 1, 100.0 + (i & 31) * 0.01)


def main() -> None:
    ap_ = argparse.ArgumentParser()
    ap_.add_argument("--n", type=int, default=1_000_000)
    n = ap_.parse_args().n

    def arr(x):
        return np.array(x, dtype=np.float64)

    bp = 100.0 - 0.01 * np.arange(1, 21)
    ap = 100.0 + 0.01 * np.arange(1, 21)
    bs = np.ones(20)
    as_ = np.ones(20)
    bn = np.full(20, 5, np.int32)
    an = np.full(20, 5, np.int32)
    z, r = np.zeros(4), np.ones(4)

    cases = []
    c = arr(dk.config_values(EstimatorConfig()))
    s = np.zeros(1, drift_state.STATE)[0]
    dk.init(s, c)
    cases.append(("drift_kalman.hot_tier (predict+composite+flow)", _drift_hot, s, c, z, r))
    c = arr(bm.config_values(EstimatorConfig()))
    s = np.zeros(1, book_state.STATE)[0]
    bm.init(s, c)
    cases.append(("book_micro.on_book+drift_observations", _book_on_book, s, c, bp, bs, ap, as_, z, r))
    s2 = np.zeros(1, book_state.STATE)[0]
    cases.append(("book_micro.on_trade", _book_on_trade, s2, c))
    c = arr(asel.config_values(EstimatorConfig()))
    s = np.zeros(1, as_state.STATE)[0]
    asel.init(s, c)
    cases.append(("adverse_selection.on_mid (16 pending)", _as_on_mid, s, c))
    c = arr(tox.config_values(EstimatorConfig()))
    s = np.zeros(1, tox_state.STATE)[0]
    tox.init(s, c)
    cases.append(("toxicity.p_toxic", _tox_predict, s, c))
    c = arr(qp.config_values(EstimatorConfig()))
    s = np.zeros(1, queue_state.STATE)[0]
    qp.init(s, c)
    qp.on_trade(s, c, 1e9, 99.99, 5.0, -1.0)
    cases.append(("queue_position.fill_prob (per level)", _queue_fill_prob, s, c))
    s = np.zeros(1, queue_state.STATE)[0]
    qp.init(s, c)
    cases.append(("queue_position.on_book (20 levels)", _queue_on_book, s, c, bp, bs, bn, ap, as_, an))
    c = arr(co.config_values(EstimatorConfig()))
    s = np.zeros(1, corr_state.MATRIX)[0]
    co.init_corr(s)
    cases.append(("correlation.corr_on_mid (8 coins, 1 s samples)", _corr_on_mid, s, c))
    s = np.zeros(1, corr_state.CROSS_VENUE)[0]
    co.init_xv(s)
    cases.append(("correlation.xv_on_mid (200 ms lag grid)", _xv_on_mid, s, c))

    for label, fn, st, cfg, *rest in cases:
        fn(st.copy(), cfg, 1000, *rest)  # compile / load the cache
        t0 = time.perf_counter_ns()
        fn(st, cfg, n, *rest)
        print(f"{label:50s} {(time.perf_counter_ns() - t0) / n:8.1f} ns/call")


if __name__ == "__main__":
    main()
