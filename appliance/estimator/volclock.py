"""Volume clock: buckets of a fixed share of the rolling traded volume (seed 001 §1.3).

Rolling volume: a decayed sum V of traded size with time constant tau = ``window_s``;
at a constant rate q (sz/s) V tends to q tau, the window's volume. During warm-up,
after an elapsed event time e, V only holds q tau (1 - exp(-e / tau)), so the
bias-corrected window volume is
    W = V / (1 - exp(-e / tau))        (exact for a constant rate from the start)
and the bucket size is  b = fraction * W.  This is the cold-start fix: the first
buckets are sized from the rate seen so far instead of from an empty window (which
made them tiny). No bucket closes before ``min_warmup_s`` unless
``initial_bucket_sz`` > 0 gives a size to use meanwhile; volume seen during warm-up
is carried into the first buckets. The bucket size follows the rolling volume, so
the clock adapts to session changes within about tau.
"""

import math

from numba import njit

from .emath import status

C_ENABLED = 0
C_FRACTION = 1
C_WINDOW_S = 2
C_INITIAL_SZ = 3
C_MIN_WARMUP_S = 4
N_CONFIG_VOLCLOCK = 5


def config_values(est) -> list[float]:
    c = est.volclock
    return [1.0 if c.enabled else 0.0, c.bucket_fraction, c.window_s, c.initial_bucket_sz,
            c.min_warmup_s]


@njit(cache=True)
def init(st, cfg):
    st.start_ts_ns = st.last_ts_ns = st.open_ts_ns = st.n_buckets = 0
    st.decayed_volume_sz = st.open_bucket_sz = st.bucket_sz = 0.0
    st.last_bucket_sz = st.last_bucket_s = st.first_bucket_sz = 0.0


@njit(cache=True)
def window_volume(st, cfg, t_ns):
    """Bias-corrected rolling window volume (sz) at event time t_ns."""
    tau = cfg[C_WINDOW_S]
    e = (t_ns - st.start_ts_ns) * 1e-9
    v = st.decayed_volume_sz * math.exp(-max(t_ns - st.last_ts_ns, 0.0) * 1e-9 / tau)
    cover = 1.0 - math.exp(-e / tau)
    return v / cover if cover > 1e-9 else 0.0


@njit(cache=True)
def on_trade(st, cfg, t_ns, sz):
    """Fold one trade; returns the number of buckets it closed."""
    if st.start_ts_ns == 0:
        st.start_ts_ns = t_ns
        st.last_ts_ns = t_ns
        st.open_ts_ns = t_ns
    tau = cfg[C_WINDOW_S]
    dt_s = (t_ns - st.last_ts_ns) * 1e-9
    if dt_s > 0.0:
        st.decayed_volume_sz *= math.exp(-dt_s / tau)
        st.last_ts_ns = t_ns
    st.decayed_volume_sz += sz
    st.open_bucket_sz += sz
    elapsed = (t_ns - st.start_ts_ns) * 1e-9
    if elapsed >= cfg[C_MIN_WARMUP_S]:
        target = cfg[C_FRACTION] * window_volume(st, cfg, t_ns)
    elif cfg[C_INITIAL_SZ] > 0.0:
        target = cfg[C_INITIAL_SZ]
    else:
        return 0  # warming up: keep accumulating, the first buckets get the right size
    st.bucket_sz = target
    closed = 0
    if target <= 0.0:
        return 0
    while st.open_bucket_sz >= target and closed < 1000:
        closed += 1
        st.open_bucket_sz -= target
        if st.n_buckets == 0:
            st.first_bucket_sz = target
        st.n_buckets += 1
    if closed > 0:
        st.last_bucket_sz = target
        st.last_bucket_s = (t_ns - st.open_ts_ns) * 1e-9 / closed
        st.open_ts_ns = t_ns
    return closed


@njit(cache=True)
def volume_rate(st, cfg, t_ns):
    """Traded volume per second (sz/s) over the rolling window."""
    return window_volume(st, cfg, t_ns) / cfg[C_WINDOW_S]


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_trade(state, cfg, ev, t):
    on_trade(state.volclock, cfg.volclock, t, ev.sz)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The volume clock's MarketParams fields."""
    out.volclock_status = status(cfg[C_ENABLED] != 0.0, st.bucket_sz > 0.0, st.last_ts_ns, t, stale)
    out.volume_rate_sz_per_s = volume_rate(st, cfg, t) if st.start_ts_ns > 0 else 0.0
    out.volclock_bucket_sz = st.bucket_sz
    out.volclock_bucket_duration_s = st.last_bucket_s
    out.volclock_buckets = int(st.n_buckets)
