"""Parameters, kernel state and script rows of the synthetic market, as flat arrays.

The kernel is a pure numba function over float64 vectors; the names below give
each slot its meaning. ``SynthParams`` is the readable form a scenario overrides;
``SynthParams.vector(j)`` scales it to coin ``j`` (price ``10**-j``, sizes ``10**j``,
as the random-walk market does) and packs it for the kernel.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

# --- regimes -----------------------------------------------------------------------
REGIME_LOW, REGIME_NORMAL, REGIME_HIGH, REGIME_EXTREME = 0, 1, 2, 3
REGIME_NAMES = ("low", "normal", "high", "extreme")

# --- parameter vector slots (per coin) -------------------------------------------------
P_TICK = 0  # price tick
P_INV_TICK = 1  # 1/tick when that is an integer (exact decimal prices), else 0
P_LOT = 2  # size lot
P_SIGMA_BPS = 3  # diffusion, bps per sqrt(s), in the normal regime
P_VOL_MULT = 4  # 4 slots: sigma and jump-rate multiplier per regime
P_ACT_MULT = 8  # 4 slots: market-order base-rate multiplier per regime
P_SPREAD_TICKS = 12  # 4 slots: base spread per regime
P_DEPTH_MULT = 16  # 4 slots: book size multiplier per regime
P_DWELL_S = 20  # 4 slots: mean time in each regime before a switch
P_JUMP_RATE = 24  # jumps per s in the normal regime
P_JUMP_BPS = 25  # mean absolute jump (exponential)
P_MU_BUY = 26  # Hawkes base rate of buy market orders, per s
P_MU_SELL = 27
P_A_BB = 28  # intensity jump of buys after a buy, per s
P_A_BS = 29  # ... of buys after a sell
P_A_SB = 30  # ... of sells after a buy
P_A_SS = 31  # ... of sells after a sell
P_BETA = 32  # kernel decay, per s
P_Q_MEDIAN = 33  # market-order size: lognormal body median
P_Q_LOG_SIGMA = 34
P_TAIL_PROB = 35  # share of orders drawn from the Pareto tail
P_TAIL_MIN = 36  # Pareto scale
P_TAIL_ALPHA = 37
P_Q_MAX = 38  # cap before the scenario's size multiplier
P_TOUCH_SZ = 39  # mean size at the touch
P_DEPTH_SLOPE = 40  # size grows by this fraction per level away from the touch
P_DEPTH_NOISE = 41  # lognormal sigma of level sizes
P_ORDER_SZ = 42  # mean resting order size (order counts = 1 + Poisson(sz / this))
P_IMPACT_BPS = 43  # transient impact of a median market order
P_IMPACT_TAU_S = 44  # decay time of the transient impact
P_PREM_THETA = 45  # premium mean reversion, per s
P_PREM_SIGMA = 46  # premium noise, per sqrt(s)
P_PREM_AVG_TAU_S = 47  # averaging time of the premium that sets funding
P_INTEREST_8H = 48  # interest component of funding, per 8 h
P_IMB_THETA = 49  # book-imbalance noise: OU reversion per s
P_IMB_SIGMA = 50  # ... and noise per sqrt(s)
P_OI_SIGMA = 51  # open-interest log noise per sqrt(s)
P_START_PX = 52
P_START_OI = 53
P_IMPACT_MAX_BPS = 54  # the transient impact saturates here (the book refills)
N_PARAMS = 55

# --- kernel state slots (per coin) -----------------------------------------------
S_LOG_FUND = 0  # log of the fundamental mid (drift, diffusion, jumps)
S_IMPACT = 1  # transient impact on log mid
S_EXC_BUY = 2  # Hawkes excitation above the base rate
S_EXC_SELL = 3
S_PREMIUM = 4
S_PREMIUM_AVG = 5
S_OI = 6
S_IMB_NOISE = 7
S_REGIME_LATENT = 8  # the Markov chain before the script's floor and cap
S_TOP_BID = 9  # first non-empty level of the book in force
S_TOP_ASK = 10
N_STATE = 11

# --- script rows: what a scenario sets, per book step ------------------------------
R_DRIFT_BPS_PER_S = 0
R_BUY_MULT = 1
R_SELL_MULT = 2
R_IMBALANCE = 3  # target (bid - ask) / (bid + ask) of book size
R_REGIME_FLOOR = 4
R_REGIME_CAP = 5
R_JUMP_MULT = 6
R_JUMP_UP_PROB = 7
R_SIZE_MULT = 8
R_DEPTH_MULT = 9
R_SPREAD_ADD_TICKS = 10
R_PREMIUM_TARGET = 11
R_PREMIUM_KICK = 12  # added to the premium at the step that holds it
R_OI_DRIFT_PER_S = 13
N_ROWS = 14
ROW_NAMES = (
    "drift_bps_per_s", "buy_mult", "sell_mult", "imbalance", "regime_floor", "regime_cap",
    "jump_mult", "jump_up_prob", "size_mult", "depth_mult", "spread_add_ticks",
    "premium_target", "premium_kick", "oi_drift_per_s",
)
ROW_DEFAULTS = (0.0, 1.0, 1.0, 0.0, 0.0, 3.0, 1.0, 0.5, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)

# --- realized truth, one value per coin per second ---------------------------------
T_MID_PX = 0  # at the book of the whole second
T_REGIME = 1
T_SPREAD_TICKS = 2
T_FUNDING_PER_H = 3
T_PREMIUM = 4
T_OPEN_INTEREST = 5
T_BOOK_IMBALANCE = 6  # realized, top 5 levels
T_BUY_ORDERS = 7  # market orders in the second (not prints)
T_SELL_ORDERS = 8
T_BUY_SZ = 9
T_SELL_SZ = 10
N_TRUTH = 11
TRUTH_NAMES = (
    "mid_px", "regime", "spread_ticks", "funding_per_h", "premium", "open_interest",
    "book_imbalance", "buy_orders", "sell_orders", "buy_sz", "sell_sz",
)


@dataclass(frozen=True)
class SynthParams:
    """The market of coin 0; coin j has prices 10**-j and sizes 10**j as large."""

    start_px: float = 100_000.0
    tick_px: float = 1.0
    lot_sz: float = 1e-5
    sigma_bps_per_sqrt_s: float = 1.0
    vol_mult: tuple[float, float, float, float] = (0.5, 1.0, 2.0, 5.0)
    activity_mult: tuple[float, float, float, float] = (0.6, 1.0, 1.8, 3.0)
    spread_ticks: tuple[float, float, float, float] = (1.0, 1.0, 2.0, 5.0)
    depth_mult: tuple[float, float, float, float] = (1.3, 1.0, 0.7, 0.4)
    dwell_s: tuple[float, float, float, float] = (600.0, 900.0, 180.0, 40.0)
    jump_rate_per_s: float = 1.0 / 300.0
    jump_bps: float = 5.0
    mu_buy_per_s: float = 1.5
    mu_sell_per_s: float = 1.5
    alpha_self_per_s: float = 1.0
    alpha_cross_per_s: float = 0.3
    beta_per_s: float = 2.0
    q_median_sz: float = 0.01
    q_log_sigma: float = 1.0
    tail_prob: float = 0.03
    tail_min_sz: float = 0.2
    tail_alpha: float = 1.5
    q_max_sz: float = 20.0
    touch_sz: float = 0.5
    depth_slope_per_level: float = 0.25
    depth_noise_sigma: float = 0.5
    order_sz: float = 0.15
    impact_bps: float = 0.05
    impact_tau_s: float = 10.0
    impact_max_bps: float = 20.0
    premium_theta_per_s: float = 1.0 / 120.0
    premium_sigma_per_sqrt_s: float = 2e-6
    premium_avg_tau_s: float = 60.0
    interest_8h: float = 1e-4
    imbalance_theta_per_s: float = 0.2
    imbalance_sigma_per_sqrt_s: float = 0.08
    oi_sigma_per_sqrt_s: float = 2e-5
    start_oi_sz: float = 20_000.0

    def replace(self, **kw: object) -> SynthParams:
        return dataclasses.replace(self, **kw)  # type: ignore[arg-type]

    def check(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            vals = v if isinstance(v, tuple) else (v,)
            for x in vals:
                if not isinstance(x, int | float) or not math.isfinite(x) or x < 0.0:
                    raise ValueError(f"synthetic market: bad {f.name}={v!r}")
        if self.start_px <= 0 or not 0 < self.tick_px < self.start_px or self.lot_sz <= 0:
            raise ValueError("synthetic market: need 0 < tick_px < start_px and lot_sz > 0")
        branching = (self.alpha_self_per_s + self.alpha_cross_per_s) / max(self.beta_per_s, 1e-12)
        if branching >= 1.0:
            raise ValueError(
                f"synthetic market: Hawkes branching ratio {branching:.2f} >= 1 explodes; "
                "lower alpha_self_per_s + alpha_cross_per_s below beta_per_s"
            )
        if min(self.dwell_s) <= 0 or self.tail_alpha <= 0 or self.beta_per_s <= 0:
            raise ValueError("synthetic market: dwell_s, tail_alpha and beta_per_s must be > 0")

    def vector(self, coin_j: int) -> np.ndarray:
        """The kernel's parameter vector for coin ``coin_j``."""
        px_scale = 10.0**-coin_j
        sz_scale = 10.0**coin_j
        p = np.zeros(N_PARAMS)
        tick = self.tick_px * px_scale
        p[P_TICK] = tick
        inv = round(1.0 / tick)
        p[P_INV_TICK] = inv if inv >= 1 and abs(inv * tick - 1.0) < 1e-12 else 0.0
        p[P_LOT] = self.lot_sz * sz_scale
        p[P_SIGMA_BPS] = self.sigma_bps_per_sqrt_s
        p[P_VOL_MULT : P_VOL_MULT + 4] = self.vol_mult
        p[P_ACT_MULT : P_ACT_MULT + 4] = self.activity_mult
        p[P_SPREAD_TICKS : P_SPREAD_TICKS + 4] = self.spread_ticks
        p[P_DEPTH_MULT : P_DEPTH_MULT + 4] = self.depth_mult
        p[P_DWELL_S : P_DWELL_S + 4] = self.dwell_s
        p[P_JUMP_RATE] = self.jump_rate_per_s
        p[P_JUMP_BPS] = self.jump_bps
        p[P_MU_BUY] = self.mu_buy_per_s
        p[P_MU_SELL] = self.mu_sell_per_s
        p[P_A_BB] = p[P_A_SS] = self.alpha_self_per_s
        p[P_A_BS] = p[P_A_SB] = self.alpha_cross_per_s
        p[P_BETA] = self.beta_per_s
        p[P_Q_MEDIAN] = self.q_median_sz * sz_scale
        p[P_Q_LOG_SIGMA] = self.q_log_sigma
        p[P_TAIL_PROB] = self.tail_prob
        p[P_TAIL_MIN] = self.tail_min_sz * sz_scale
        p[P_TAIL_ALPHA] = self.tail_alpha
        p[P_Q_MAX] = self.q_max_sz * sz_scale
        p[P_TOUCH_SZ] = self.touch_sz * sz_scale
        p[P_DEPTH_SLOPE] = self.depth_slope_per_level
        p[P_DEPTH_NOISE] = self.depth_noise_sigma
        p[P_ORDER_SZ] = self.order_sz * sz_scale
        p[P_IMPACT_BPS] = self.impact_bps
        p[P_IMPACT_TAU_S] = max(self.impact_tau_s, 1e-3)
        p[P_IMPACT_MAX_BPS] = self.impact_max_bps
        p[P_PREM_THETA] = self.premium_theta_per_s
        p[P_PREM_SIGMA] = self.premium_sigma_per_sqrt_s
        p[P_PREM_AVG_TAU_S] = max(self.premium_avg_tau_s, 1e-3)
        p[P_INTEREST_8H] = self.interest_8h
        p[P_IMB_THETA] = self.imbalance_theta_per_s
        p[P_IMB_SIGMA] = self.imbalance_sigma_per_sqrt_s
        p[P_OI_SIGMA] = self.oi_sigma_per_sqrt_s
        p[P_START_PX] = self.start_px * px_scale
        p[P_START_OI] = self.start_oi_sz * sz_scale
        return p


def initial_state(p: np.ndarray) -> np.ndarray:
    s = np.zeros(N_STATE)
    s[S_LOG_FUND] = math.log(p[P_START_PX])
    s[S_OI] = p[P_START_OI]
    s[S_REGIME_LATENT] = REGIME_NORMAL
    return s
