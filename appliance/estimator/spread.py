"""Spread process (seed 000 gap 8): the distribution of the quoted market spread,
its percentile now, a fair (typical) spread and a regime.

Every warm tick the current spread s (bps) adds weight to a histogram of
``N_BINS`` logarithmic bins from 0.01 to 1000 bps, time-weighted and forgotten with
half-life ``halflife_s``. Percentile of s = (mass below its bin + half its bin) / mass
(mid-rank, right for a spread that sits on one tick most of the time). Fair spread =
the histogram median (geometric bin centre). Regime: 0 tight (pct < tight_pct),
1 normal, 2 wide (pct > wide_pct), 3 blowout (pct > blowout_pct and s > 2 fair).
"""

import math

from numba import njit

from shm_layout.estimators import spread as declared

from .emath import decay

N_BINS = 40
LOG_LO = math.log(0.01)
LOG_HI = math.log(1000.0)

S_LAST_NS = 0
S_MASS = 1
S_PCT = 2
S_FAIR = 3
S_REGIME = 4
S_N = 5
S_MEAN = 6  # EWMA spread bps (same half-life)
S_HIST = 8
N_STATE_SPREAD = S_HIST + N_BINS
assert declared.STATE.itemsize == N_STATE_SPREAD * 8, 'size declared in shm_layout/estimators'

C_ENABLED = 0
C_HL = 1
C_TIGHT = 2
C_WIDE = 3
C_BLOWOUT = 4
N_CONFIG_SPREAD = 5


def config_values(est) -> list[float]:
    c = est.spread
    return [1.0 if c.enabled else 0.0, c.halflife_s, c.tight_pct, c.wide_pct, c.blowout_pct]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_SPREAD] = 0.0
    st[S_PCT] = 0.5
    st[S_REGIME] = 1.0


@njit(cache=True)
def _bin(s):
    x = (math.log(max(s, 1e-9)) - LOG_LO) / (LOG_HI - LOG_LO) * N_BINS
    return min(max(int(x), 0), N_BINS - 1)


@njit(cache=True)
def _centre(b):
    return math.exp(LOG_LO + (b + 0.5) * (LOG_HI - LOG_LO) / N_BINS)


@njit(cache=True)
def warm(st, cfg, t_ns, spread_bps):
    if cfg[C_ENABLED] == 0.0 or not spread_bps > 0.0:
        return
    dt_s = (t_ns - st[S_LAST_NS]) * 1e-9 if st[S_LAST_NS] > 0.0 else 0.1
    st[S_LAST_NS] = t_ns
    w = min(max(dt_s, 1e-3), 10.0)  # time weight of the previous spread level
    d = decay(dt_s, cfg[C_HL])
    for i in range(N_BINS):
        st[S_HIST + i] *= d
    b = _bin(spread_bps)
    st[S_HIST + b] += w
    st[S_MASS] = st[S_MASS] * d + w
    st[S_MEAN] = spread_bps if st[S_N] == 0.0 else st[S_MEAN] + (1.0 - d) * (spread_bps - st[S_MEAN])
    st[S_N] += 1.0
    below = 0.0
    for i in range(b):
        below += st[S_HIST + i]
    st[S_PCT] = (below + 0.5 * st[S_HIST + b]) / st[S_MASS]
    cum = 0.0
    for i in range(N_BINS):
        cum += st[S_HIST + i]
        if cum >= 0.5 * st[S_MASS]:
            st[S_FAIR] = _centre(i)
            break
    pct = st[S_PCT]
    if pct > cfg[C_BLOWOUT] and spread_bps > 2.0 * st[S_FAIR]:
        st[S_REGIME] = 3.0
    elif pct > cfg[C_WIDE]:
        st[S_REGIME] = 2.0
    elif pct < cfg[C_TIGHT]:
        st[S_REGIME] = 0.0
    else:
        st[S_REGIME] = 1.0
