"""Trade flow at four horizons (1, 5, 30, 300 s) keeping magnitude (seed 002 part 3),
plus the legacy horizon ``flow_halflife_s`` of ``trade_flow_imbalance``.

Per horizon h (half-life), decayed aggressor volumes B_h, S_h (sz) and a decayed trade
count; as rates (a decayed sum of a constant rate q tends to q h / ln 2):
    buy_rate = B_h ln2 / h,  sell_rate = S_h ln2 / h   (sz/s; divided by
    1 - 2^(-seen/h) until the sums have seen a few half-lives)
    imbalance = (B_h - S_h) / (B_h + S_h) in [-1, 1]   (direction)
    net_rate = buy_rate - sell_rate                    (magnitude, sz/s)
Seed 003 phase 3: directional kappa multipliers from the imbalance at a horizon,
    bid_mult = clamp(1 + s imb, lo, hi), ask_mult = clamp(1 - s imb, lo, hi)
so sell pressure lowers kappa_bid (a wider bid: seed 003's verification list,
"sell-heavy flow -> bid_mult < 1 -> wider bid spread"; the seed's sketch had the
opposite sign, which contradicts its own test); and the flow drift observation
    z = scale imb (sell pressure -> z < 0, bearish), R = sigma^2 / max(kappa, 0.1).
"""

from numba import njit

from shm_layout.estimators import flow as declared

from .emath import LN2, clamp, decay

HORIZONS_S = (1.0, 5.0, 30.0, 300.0)
N_H = 5  # four horizons + the legacy one (index 4)

S_LAST_NS = 0
S_B = 1  # B_h at 1 + h
S_S = 6  # S_h at 6 + h
S_N = 11  # trade count at 11 + h
S_N_TRADES = 16
S_LAST_TRADE_NS = 17
S_FIRST_NS = 18  # first trade: rates are bias-corrected while the sums fill up
N_STATE_FLOW = 20
assert declared.STATE.itemsize == N_STATE_FLOW * 8, 'size declared in shm_layout/estimators'

C_HL = 0  # .. 4: half-lives
C_DRIFT_SCALE = 5
C_DRIFT_SIGMA = 6
N_CONFIG_FLOW = 7


def config_values(est) -> list[float]:
    return [*HORIZONS_S, est.flow_halflife_s, est.flow.drift_scale, est.flow.drift_sigma]


@njit(cache=True)
def init(st, cfg):
    st[:N_STATE_FLOW] = 0.0


@njit(cache=True)
def on_trade(st, cfg, t_ns, side, sz):
    if st[S_LAST_NS] > 0.0 and t_ns > st[S_LAST_NS]:
        dt_s = (t_ns - st[S_LAST_NS]) * 1e-9
        for h in range(N_H):
            d = decay(dt_s, cfg[C_HL + h])
            st[S_B + h] *= d
            st[S_S + h] *= d
            st[S_N + h] *= d
    if st[S_FIRST_NS] == 0.0:
        st[S_FIRST_NS] = t_ns
    st[S_LAST_NS] = t_ns
    st[S_LAST_TRADE_NS] = t_ns
    st[S_N_TRADES] += 1.0
    off = S_B if side > 0 else S_S
    for h in range(N_H):
        st[off + h] += sz
        st[S_N + h] += 1.0


@njit(cache=True)
def imbalance(st, h):
    b = st[S_B + h]
    s = st[S_S + h]
    return (b - s) / (b + s) if b + s > 0.0 else 0.0


@njit(cache=True, inline="always")
def _rate(st, cfg, t_ns, h, total):
    """A decayed sum as a rate, divided by the share of its half-life window seen so
    far: a 300 s rate one minute after the first trade is not 13 % of the truth
    (which read as a 7x volume burst to the cascade detector at every start)."""
    hl = cfg[C_HL + h]
    seen_s = max((t_ns - st[S_FIRST_NS]) * 1e-9, 1.0) if st[S_FIRST_NS] > 0.0 else 1.0
    filled = 1.0 - decay(seen_s, hl)
    return total * decay((t_ns - st[S_LAST_NS]) * 1e-9, hl) * LN2 / hl / filled


@njit(cache=True)
def buy_rate(st, cfg, t_ns, h):
    return _rate(st, cfg, t_ns, h, st[S_B + h])


@njit(cache=True)
def sell_rate(st, cfg, t_ns, h):
    return _rate(st, cfg, t_ns, h, st[S_S + h])


@njit(cache=True)
def trade_rate(st, cfg, t_ns, h):
    return _rate(st, cfg, t_ns, h, st[S_N + h])


@njit(cache=True)
def horizon_index(cfg, horizon_s):
    best = 0
    for h in range(4):
        if abs(cfg[C_HL + h] - horizon_s) < abs(cfg[C_HL + best] - horizon_s):
            best = h
    return best


@njit(cache=True)
def kappa_multipliers(imb, sensitivity, lo, hi):
    """(bid_mult, ask_mult) from a flow imbalance (seed 003 phase 3)."""
    return clamp(1.0 + sensitivity * imb, lo, hi), clamp(1.0 - sensitivity * imb, lo, hi)


@njit(cache=True)
def drift_observation(imb, cfg, kappa_total):
    """(z, R) of the flow imbalance as a drift observation (bps/s scale)."""
    s = cfg[C_DRIFT_SIGMA]
    return cfg[C_DRIFT_SCALE] * imb, s * s / max(kappa_total, 0.1)
