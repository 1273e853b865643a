"""Four-state volatility regime (Low, Normal, High, Extreme) with hysteresis.

Input, once per volatility sample: x = sigma_clean_30s / baseline, the baseline being
a slow EWMA (``baseline_halflife_s``) of the bipower variance, i.e. the coin's own
long-run level. Bipower (not realized) variance makes one jump invisible.
Raw class of x: Extreme if x > e_x, High if x > e_h, Low if x < e_l, else Normal.
Hysteresis: the current regime r is kept while x stays inside its widened band
    Low: x < e_l / b    Normal: e_l b <= x <= e_h / b ... i.e. the band edges move
    outward by the factor b = ``exit_band`` (< 1) before r is left;
and a different raw class must hold ``min_dwell_samples`` samples in a row.
Multipliers: gamma_mult[r], spread_mult[r] from the config.
"""

from numba import njit

from . import vol
from .emath import decay, status

LOW, NORMAL, HIGH, EXTREME = 0, 1, 2, 3

C_ENABLED = 0
C_BASE_HL = 1
C_E_HIGH = 2
C_E_EXT = 3
C_E_LOW = 4
C_BAND = 5
C_DWELL = 6
C_GAMMA = 7  # .. +3
C_SPREAD = 11  # .. +3
C_WARMUP = 15
N_CONFIG_REGIME = 16


def config_values(est) -> list[float]:
    c = est.regime
    v = [0.0] * N_CONFIG_REGIME
    v[C_ENABLED] = 1.0 if c.enabled else 0.0
    v[C_BASE_HL] = c.baseline_halflife_s
    v[C_E_HIGH], v[C_E_EXT], v[C_E_LOW] = c.enter_high_ratio, c.enter_extreme_ratio, c.enter_low_ratio
    v[C_BAND] = c.exit_band
    v[C_DWELL] = c.min_dwell_samples
    v[C_GAMMA:C_GAMMA + 4] = [c.gamma_mult_low, c.gamma_mult_normal, c.gamma_mult_high,
                              c.gamma_mult_extreme]
    v[C_SPREAD:C_SPREAD + 4] = [c.spread_mult_low, c.spread_mult_normal, c.spread_mult_high,
                                c.spread_mult_extreme]
    v[C_WARMUP] = max(est.warmup_samples, 10)
    return v


@njit(cache=True)
def init(st, cfg):
    st.regime = st.candidate = NORMAL
    st.candidate_samples = st.n_samples = st.n_switches = st.last_ts_ns = 0
    st.base_var_bps2_per_s = st.vol_ratio = 0.0


@njit(cache=True)
def _raw(cfg, x, cur):
    """Class of x with the band of the current regime widened by the exit factor."""
    b = cfg[C_BAND]
    e_low, e_high, e_ext = cfg[C_E_LOW], cfg[C_E_HIGH], cfg[C_E_EXT]
    if cur == LOW:
        e_low /= b
    elif cur == HIGH:
        e_high *= b
    elif cur == EXTREME:
        e_ext *= b
    if x > e_ext:
        return EXTREME
    if x > e_high:
        return HIGH
    if x < e_low:
        return LOW
    return NORMAL


@njit(cache=True)
def update(st, cfg, t_ns, bv_fast_per_s, bv_main_per_s):
    """One volatility sample: bipower variances (bps^2/s) fast and main."""
    if cfg[C_ENABLED] == 0.0:
        return
    dt_s = (t_ns - st.last_ts_ns) * 1e-9 if st.last_ts_ns > 0 else 0.0
    st.last_ts_ns = t_ns
    if st.n_samples == 0:
        st.base_var_bps2_per_s = bv_main_per_s
    else:
        # A running mean until the hour-long EWMA has enough samples: started from
        # the first (cold) variance it read a normal market as Extreme for an hour.
        a = max(1.0 - decay(dt_s, cfg[C_BASE_HL]), 1.0 / (st.n_samples + 1.0))
        st.base_var_bps2_per_s += a * (bv_main_per_s - st.base_var_bps2_per_s)
    st.n_samples += 1
    base = st.base_var_bps2_per_s
    x = (bv_fast_per_s / base) ** 0.5 if base > 1e-12 else 1.0
    st.vol_ratio = x
    if st.n_samples < cfg[C_WARMUP]:
        return
    cur = st.regime
    raw = _raw(cfg, x, cur)
    if raw == cur:
        st.candidate_samples = 0
        return
    if raw == st.candidate:
        st.candidate_samples += 1
    else:
        st.candidate = raw
        st.candidate_samples = 1
    if st.candidate_samples >= cfg[C_DWELL]:
        st.regime = raw
        st.candidate_samples = 0
        st.n_switches += 1


@njit(cache=True)
def regime(st):
    return st.regime


@njit(cache=True)
def gamma_mult(st, cfg):
    return cfg[C_GAMMA + st.regime] if cfg[C_ENABLED] != 0.0 else 1.0


@njit(cache=True)
def spread_mult(st, cfg):
    return cfg[C_SPREAD + st.regime] if cfg[C_ENABLED] != 0.0 else 1.0


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """One update per volatility sample. vol's book hook runs first: a sample taken at
    this event time that this regime has not folded yet (its last update is at another
    time) is this event's. Disabled, ``update`` returns at once."""
    st_v = state.vol
    st = state.regime
    if vol.sampled_at(st_v, t) and float(st.last_ts_ns) != t:
        update(st, cfg.regime, t, st_v.bv_fast_bps2_per_s, st_v.bv_bps2_per_s)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The regime's MarketParams fields."""
    out.regime_status = status(cfg[C_ENABLED] != 0.0, st.n_samples >= cfg[C_WARMUP],
                               float(st.last_ts_ns), t, stale)
    out.volatility_regime = regime(st)
    out.gamma_multiplier = gamma_mult(st, cfg)
    out.spread_multiplier = spread_mult(st, cfg)
    out.regime_vol_ratio = st.vol_ratio
