"""Spread process (seed 000 gap 8): the distribution of the quoted market spread,
its percentile now, a fair (typical) spread and a regime.

Every warm tick the current spread s (bps) adds weight to a histogram of
``N_BINS`` logarithmic bins from 0.01 to 1000 bps, time-weighted and forgotten with
half-life ``halflife_s``. Percentile of s = (mass below its bin + half its bin) / mass
(mid-rank, right for a spread that sits on one tick most of the time). Fair spread =
the histogram median (geometric bin centre). Regime: 0 tight (pct < tight_pct),
1 normal, 2 wide (pct > wide_pct), 3 blowout (pct > blowout_pct and s > 2 fair).
Floor (issue 16): the lowest spread of the warm samples within ``floor_window_ms``
(a ring of the last ``N_RECENT``), so the quote's liquidity-withdrawal pull needs the
book wide for a while, not one sample: on the six Binance captures every such pull
lasted one requote (0.09-0.16 s) and cost a cancel and a re-place of the ladder.
"""

import math

from numba import njit

from shm_layout.estimators.spread import N_RECENT

from .emath import decay, status
from .kernel_readers import mid_px, spread_bps

N_BINS = 40
LOG_LO = math.log(0.01)
LOG_HI = math.log(1000.0)


C_ENABLED = 0
C_HL = 1
C_TIGHT = 2
C_WIDE = 3
C_BLOWOUT = 4
C_FLOOR_MS = 5
N_CONFIG_SPREAD = 6


def config_values(est) -> list[float]:
    c = est.spread
    if c.floor_window_ms < 0.0:
        raise ValueError(f"estimator.spread.floor_window_ms must be >= 0 (0 = the last spread), "
                         f"got {c.floor_window_ms}")
    return [1.0 if c.enabled else 0.0, c.halflife_s, c.tight_pct, c.wide_pct, c.blowout_pct,
            c.floor_window_ms]


@njit(cache=True)
def init(st, cfg):
    st.last_ts_ns = st.n_samples = 0
    st.mass_s = st.fair_bps = st.mean_bps = 0.0
    st.hist[:] = 0.0
    st.percentile = 0.5
    st.regime = 1
    st.floor_bps = 0.0
    st.recent_head = 0
    st.recent_ts_ns[:] = 0
    st.recent_bps[:] = 0.0


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
    dt_s = (t_ns - st.last_ts_ns) * 1e-9 if st.last_ts_ns > 0 else 0.1
    st.last_ts_ns = t_ns
    w = min(max(dt_s, 1e-3), 10.0)  # time weight of the previous spread level
    d = decay(dt_s, cfg[C_HL])
    for i in range(N_BINS):
        st.hist[i] *= d
    b = _bin(spread_bps)
    st.hist[b] += w
    st.mass_s = st.mass_s * d + w
    st.mean_bps = spread_bps if st.n_samples == 0 else st.mean_bps + (1.0 - d) * (spread_bps - st.mean_bps)
    st.n_samples += 1
    below = 0.0
    for i in range(b):
        below += st.hist[i]
    st.percentile = (below + 0.5 * st.hist[b]) / st.mass_s
    cum = 0.0
    for i in range(N_BINS):
        cum += st.hist[i]
        if cum >= 0.5 * st.mass_s:
            st.fair_bps = _centre(i)
            break
    pct = st.percentile
    if pct > cfg[C_BLOWOUT] and spread_bps > 2.0 * st.fair_bps:
        st.regime = 3
    elif pct > cfg[C_WIDE]:
        st.regime = 2
    elif pct < cfg[C_TIGHT]:
        st.regime = 0
    else:
        st.regime = 1
    _floor(st, cfg, t_ns, spread_bps)


@njit(cache=True)
def _floor(st, cfg, t_ns, spread_bps):
    """Ring in the sample; the floor is the lowest spread sampled within the window (the
    ring's reach bounds it: N_RECENT warm ticks)."""
    k = st.recent_head % N_RECENT
    st.recent_ts_ns[k] = t_ns
    st.recent_bps[k] = spread_bps
    st.recent_head += 1
    lo = spread_bps
    since = t_ns - int(cfg[C_FLOOR_MS] * 1e6)
    for i in range(min(st.recent_head, N_RECENT)):
        if st.recent_ts_ns[i] >= since and st.recent_bps[i] < lo:
            lo = st.recent_bps[i]
    st.floor_bps = lo


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    if mid_px(state) > 0.0:
        warm(state.spread, cfg.spread, t, spread_bps(state))


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The spread process's MarketParams fields."""
    out.spread_status = status(cfg[C_ENABLED] != 0.0, st.n_samples >= 10.0, st.last_ts_ns, t, stale)
    out.fair_spread_bps = st.fair_bps
    out.spread_percentile = st.percentile
    out.spread_floor_bps = st.floor_bps
    out.spread_regime = int(st.regime)
