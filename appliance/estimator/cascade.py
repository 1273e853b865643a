"""Liquidation cascade detector (seed 000 gap 3): severity, should_pull_quotes and a
tail-risk multiplier, from what a public feed shows of a cascade: forced market orders
(a lasting volume surge), a run of the price, open interest falling.

Every warm tick (t in s, rates in sz/s, sigma in bps/sqrt(s)):
    base     = sum_k w_k v5_k dt_k 2^(-(t - t_k)/H) / sum_k w_k dt_k 2^(-(t - t_k)/H)
               w_k = (1 - severity_k)^2, dt_k <= 1 s, H = ``baseline_halflife_s``
    ratio    = min(v5, v30) / base      (v5, v30: the flow's 5 s and 30 s volume rates;
               0 until the baseline holds ``min_baseline_s`` of weighted history)
    e_rate   = max(0, ln(ratio / rate_ratio_ref))
    move     = |ln(mid / mid_W)| 1e4 / (max(sigma_300s, sigma_floor) sqrt(W))   sigmas
               (mid_W: the newest ring sample at least ``window_ms`` old, W its age)
    e_move   = max(0, move - move_sigmas_ref)
    oi_drop  = (oi_W - oi) / oi_W 1e4 60 / W                                     bps/min
    e_oi     = max(0, oi_drop / oi_drop_ref_bps_per_min - 1)
    score    = (w_rate e_rate + w_oi e_oi) (1 + w_move e_move),  severity = 1 - exp(-score)
should_pull_quotes turns on at severity >= pull_enter and off once severity < pull_exit
and ``pull_hold_s`` have passed since it last was >= pull_enter (hysteresis).
tail_risk_multiplier = 1 + (tail_max_mult - 1) severity.

Why this shape (issue 6 calibration, measured on the real captures in ../shared/data
and the synthetic ``liquidation_cascade`` seeds 1-5; BENCHMARKS.md has the figures):
- Rate: a 1 s / 300 s trade-volume ratio is a burst detector, and real tapes burst all
  the time (BTCUSDT: p99 14x, max 29x): the first version kept quotes pulled for 178 of
  the capture's 345 s. Requiring the surge at both 5 s and 30 s (min) asks that it
  lasts: real captures and the synthetic calm stay <= 3.4x, the synthetic cascade runs
  7-15x in its first minute and 20-90x in its worst (enter on volume alone: 8.3x).
- Baseline: a 300 s rate learns the cascade itself (its ratio fell from ~8x to ~1-2x
  after the worst minute, so the pull lapsed inside the cascade). Weighted by
  (1 - severity)^2 the baseline learns from calm trading only; numerator and
  denominator decay together, so a long storm keeps the calm level, yet any weight > 0
  adapts it to a lasting new level (at severity 0.9 within ~7 half-lives): no stuck pull.
- Move: an amplifier, not a trigger. A fast move on ordinary volume is a jump or an
  informed burst (toxic_burst: 16 bps in 8 s, 4.7 sigma), which the volatility, drift
  and toxicity estimators price; a cascade is forced selling and always brings volume.
  Over 30 s and in 300 s sigma units, not 1 s in a 60 s bipower sigma (real p99 8).
- OI: a triggered liquidation removes open interest, so an OI drop counts alone; feeds
  without OI (Binance) leave e_oi at 0 and the rate carries the detection.
- Cold start: a few seconds of tape make any ratio (a 25 s Hyperliquid capture read
  10x) and a thin book any sigma (0.05 bps/sqrt(s)): ``min_baseline_s`` and the sigma
  floor. The hold only bridges dips of the sustained measures (<= 2 s seen) and bounds
  the cost of a false start.
State and config are flat float64 vectors (offsets below); nothing allocates.
"""

import math

from numba import njit

from shm_layout.constants import EST_WARMING
from shm_layout.estimators import cascade as declared

from . import flow
from .emath import decay, status
from .kernel_readers import mid_px

RING = declared.RING_LEN

C_ENABLED = 0
C_WINDOW_NS = 1
C_RATE_REF = 2
C_MOVE_REF = 3
C_OI_REF = 4  # bps per minute
C_W_RATE = 5
C_W_MOVE = 6
C_W_OI = 7
C_ENTER = 8
C_EXIT = 9
C_HOLD_NS = 10
C_TAIL_MAX = 11
C_BASE_HL_S = 12
C_MIN_BASE_S = 13
C_SIGMA_FLOOR = 14
N_CONFIG_CASCADE = 15

MAX_STEP_S = 1.0  # a feed gap is not an observed second of calm volume


def config_values(est) -> list[float]:
    c = est.cascade
    return [1.0 if c.enabled else 0.0, c.window_ms * 1e6, c.rate_ratio_ref, c.move_sigmas_ref,
            c.oi_drop_ref_bps_per_min, c.w_rate, c.w_move, c.w_oi, c.pull_enter, c.pull_exit,
            c.pull_hold_s * 1e9, c.tail_max_mult, c.baseline_halflife_s, c.min_baseline_s,
            c.sigma_floor_bps_per_sqrt_s]


@njit(cache=True)
def init(st, cfg):
    st.pull = st.n_pulls = st.last_hot_ts_ns = st.last_ts_ns = st.ring_pos = 0
    st.severity = st.max_severity = st.base_num_sz = st.base_den_s = 0.0
    st.rate_ratio = st.move_sigmas = st.oi_drop_bps_per_min = 0.0
    for k in range(RING):
        r = st.ring[k]
        r.ts_ns = 0
        r.mid_px = r.open_interest_sz = 0.0


@njit(cache=True)
def severity_of(cfg, rate_ratio, move_sigmas, oi_drop_bps_per_min):
    """Severity in [0, 1) from the rate ratio (x baseline), the move (sigmas over the
    window) and the OI drop (bps/min): the move only amplifies a volume or OI excess."""
    e_rate = max(0.0, math.log(max(rate_ratio, 1e-9) / cfg[C_RATE_REF]))
    e_move = max(0.0, move_sigmas - cfg[C_MOVE_REF])
    e_oi = max(0.0, oi_drop_bps_per_min / cfg[C_OI_REF] - 1.0)
    score = (cfg[C_W_RATE] * e_rate + cfg[C_W_OI] * e_oi) * (1.0 + cfg[C_W_MOVE] * e_move)
    return 1.0 - math.exp(-score)


@njit(cache=True)
def baseline_rate(st, cfg):
    """The gated baseline volume rate (sz/s), 0 until it holds ``min_baseline_s``."""
    den = st.base_den_s
    if den < cfg[C_MIN_BASE_S] or den <= 0.0:
        return 0.0
    return st.base_num_sz / den


@njit(cache=True)
def warm(st, cfg, t_ns, mid, oi, rate_5s, rate_30s, sigma_300s_bps_per_sqrt_s):
    if cfg[C_ENABLED] == 0.0:
        return
    # The baseline learns at the weight (1 - severity)^2 of the previous tick.
    if st.last_ts_ns > 0 and t_ns > st.last_ts_ns:
        dt_s = min((t_ns - st.last_ts_ns) * 1e-9, MAX_STEP_S)
        d = decay(dt_s, cfg[C_BASE_HL_S])
        w = (1.0 - st.severity) * (1.0 - st.severity)
        st.base_num_sz = d * st.base_num_sz + w * rate_5s * dt_s
        st.base_den_s = d * st.base_den_s + w * dt_s
    st.last_ts_ns = t_ns
    base = baseline_rate(st, cfg)
    ratio = min(rate_5s, rate_30s) / base if base > 0.0 else 0.0
    # The newest ring sample at least a window old is the reference point.
    ref_mid = 0.0
    ref_oi = 0.0
    ref_t = 0.0
    for k in range(RING):
        r = st.ring[k]
        tk = float(r.ts_ns)
        if tk > 0.0 and t_ns - tk >= cfg[C_WINDOW_NS] and tk > ref_t:
            ref_t, ref_mid, ref_oi = tk, r.mid_px, r.open_interest_sz
    pos = st.ring_pos
    newest = st.ring[(pos + RING - 1) % RING].ts_ns
    if newest == 0 or t_ns - newest >= cfg[C_WINDOW_NS] / (RING - 2):
        r = st.ring[pos]
        r.ts_ns, r.mid_px, r.open_interest_sz = t_ns, mid, oi
        st.ring_pos = (pos + 1) % RING
    move = 0.0
    oi_drop = 0.0
    if ref_t > 0.0 and ref_mid > 0.0 and mid > 0.0:
        w_s = (t_ns - ref_t) * 1e-9
        sig = max(sigma_300s_bps_per_sqrt_s, cfg[C_SIGMA_FLOOR], 1e-6)
        move = abs(math.log(mid / ref_mid)) * 1e4 / (sig * math.sqrt(w_s))
        if ref_oi > 0.0 and oi > 0.0:
            oi_drop = (ref_oi - oi) / ref_oi * 1e4 * 60.0 / w_s
    st.rate_ratio = ratio
    st.move_sigmas = move
    st.oi_drop_bps_per_min = oi_drop
    update(st, cfg, t_ns, severity_of(cfg, ratio, move, oi_drop))


@njit(cache=True)
def update(st, cfg, t_ns, sev):
    """Apply a severity in [0, 1]: hysteresis of should_pull_quotes."""
    st.severity = sev
    st.max_severity = max(st.max_severity, sev)
    if sev >= cfg[C_ENTER]:
        st.last_hot_ts_ns = t_ns
        if st.pull == 0:
            st.pull = 1
            st.n_pulls += 1
    elif st.pull != 0 and sev < cfg[C_EXIT] and t_ns - st.last_hot_ts_ns >= cfg[C_HOLD_NS]:
        st.pull = 0


@njit(cache=True)
def tail_multiplier(st, cfg):
    return 1.0 + (cfg[C_TAIL_MAX] - 1.0) * st.severity


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_warm(state, cfg, t):
    """A cold sigma makes every move look like many sigmas: judge cascades once the
    volatility is warm (its status reads warming until then). Inputs: funding's open
    interest, flow's 5 s and 30 s trade rates, vol's sigma_300s."""
    mid = mid_px(state)
    st_v = state.vol
    if mid > 0.0 and st_v.n_samples >= cfg.tiers.warmup_samples:
        st_fl = state.flow
        c_fl = cfg.flow
        warm(state.cascade, cfg.cascade, t, mid, state.funding.open_interest_sz,
             flow.buy_rate(st_fl, c_fl, t, 1) + flow.sell_rate(st_fl, c_fl, t, 1),  # 5 s
             flow.buy_rate(st_fl, c_fl, t, 2) + flow.sell_rate(st_fl, c_fl, t, 2),  # 30 s
             st_v.rv_slow_bps2_per_s ** 0.5)  # sigma_300s, bps/sqrt(s)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The cascade's MarketParams fields; judged once volatility is warm, so warming
    while ``out.vol_status`` (already written) is."""
    vol_ready = out.vol_status != EST_WARMING
    out.cascade_status = status(cfg[C_ENABLED] != 0.0, vol_ready, float(h.last_book_ts_ns), t, stale)
    out.cascade_severity = st.severity
    out.should_pull_quotes = st.pull
    out.tail_risk_multiplier = tail_multiplier(st, cfg)
