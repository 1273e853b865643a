"""Named scenarios: a parameter set plus a time script.

Times are seconds from the start of the stream. A script sets rows of
``params.ROW_NAMES`` over intervals (flat or a linear ramp); outside them a row
keeps its default (no drift, multipliers 1, imbalance 0, regime free in
[low, extreme], jumps symmetric). ``duration_s`` shorter than the default cuts the
script; longer adds calm.

``quiet`` (1800 s)
    Regime capped at normal (low/normal switching), symmetric Hawkes flow,
    imbalance noise only, funding at the interest rate.

``trend_selloff`` (1800 s) -- seed 003's Feb-19 story, a selloff that flow and
book imbalance reveal minutes before the price moves. Regime capped at normal,
sigma 0.4 bps/sqrt(s), jumps every 15 min on average.
    0-600      calm
    600-780    lead: sell base rate ramps 1x -> 2.5x (600-660), book imbalance
               ramps 0 -> -0.45 (ask-heavy); no drift yet
    780-1380   drift -0.075 bps/s (-45 bps over ten minutes), sell 2x, imbalance -0.35
    1380-1440  sell rate and imbalance fade back to neutral
    1440-1800  calm
    windows: calm_before, lead, drift, fade, calm_after

``liquidation_cascade`` (1800 s) -- sigma multipliers 1.5x and 2x (not 2x, 5x) in the high and extreme
regimes, so that the scripted moves dominate the noise.
    0-840      calm
    840-960    build-up: regime >= high, sells 1.8x, imbalance -0.2, drift -0.03 bps/s
    960-1200   cascade: regime extreme, sells 6x, sizes 3x, jump rate 3x with 90 %
               down jumps, depth 0.5x, spread +3 ticks, drift -0.15 bps/s, open
               interest -0.03 %/s, premium target -0.1 %
    1020-1080  worst minute (inside the cascade): sells 15x, sizes 6x, jumps 12x,
               depth 0.2x, spread +10 ticks, drift -1.5 bps/s, open interest
               -0.1 %/s, premium target -0.2 %
    1200-1440  aftermath: regime >= high, buys 1.5x, sells 1.3x, depth 0.8x,
               spread +1 tick, drift +0.02 bps/s
    1440-1800  calm
    windows: calm_before, build_up, cascade, worst_minute, aftermath, calm_after

``funding_spike`` (1800 s)
    0-900      calm, funding at the interest rate (0.01 % / 8 h)
    900        the premium jumps by +0.4 % (perp far above oracle); funding (on a
               60 s average of the premium) jumps to about +0.045 %/h
    900-1200   premium target +0.1 %, buys 1.6x and imbalance +0.2 (900-1020),
               regime >= high (900-960)
    1200-1800  premium target 0: premium and funding mean-revert (half-life ~80 s)
    windows: calm_before, spike, reversion

``toxic_burst`` (1800 s)
    Regime capped at normal. From 240 s, every 50-100 s (drawn from the seed)
    until 40 s before the end, an informed burst: side +-1, aggression of that
    side 12x over [t, t + 5 s], then the mid drifts that way by 8-16 bps over
    [t + 3 s, t + 11 s]. ``truth.bursts`` lists every burst. Its informed flow is
    forecastable (signed flow leads the move) and the ladder's drift lean already
    avoids it; the adverse 10 s fills it leaves are mostly the diffusion's (a 4 bps
    10 s move is 1.3 sigma of it), which no causal feature forecasts (issue 16,
    BENCHMARKS.md).

``toxic_burst_v2`` (1800 s; issue 16, a redesign under study, not the harness's) --
informed episodes that show themselves before the price moves, as on real venues.
Regime capped at normal, sigma 0.5 bps/sqrt(s) (the diffusion alone seldom moves the
mid the harness's 4 bps in 10 s), transient impact 0.01 bps a median order (a fifth:
the informed move is permanent, and a large transient part reverting after every
episode taught the toxicity model that flow reverts), the benign Hawkes flow and the
jumps as everywhere. From 240 s, every 50-100 s until 40 s before the end, an episode
of side +-1:
    [t, t + 4 s)      lead: that side's aggression 4x, and the book thins on the side
                      about to be hit (imbalance +-0.6: its depth x 0.4); no drift
    [t + 4, t + 6 s)  sweep: aggression 12x, order sizes 4x (they walk several levels),
                      the mid moves 8-16 bps that way (the informed move)
``truth.bursts`` lists every episode (flow_end_s = the sweep's end, move_* = the sweep).
The signal is in the market data only (signed trades, their sizes, the book).

``toxic_burst_v3`` (1800 s; issue 16, the harness's toxic_burst goal scenario since this
issue's last step; ``toxic_burst`` and ``toxic_burst_v2`` stay runnable) -- informed
episodes announced by liquidity withdrawal, not by their direction: what only an
adverse-selection model can act on (the drift has nothing to lean on). The market of
``toxic_burst_v2`` (regime capped at normal, sigma 0.5 bps/sqrt(s), transient impact
0.01 bps a median order, the benign Hawkes flow and the jumps). From 240 s, every
50-100 s until 40 s before the end, an episode of side +-1 drawn independently of its
lead:
    [t, t + 5 s)      lead: the book thins on both sides (depth x 0.3), the spread
                      widens by 3 ticks, both sides trade 3x (two-sided: no signed
                      imbalance, no drift)
    [t + 5, t + 7 s)  sweep: that side's aggression 12x, order sizes 4x, the mid moves
                      8-16 bps that way; the book stays thin and wide
The signal is in the market data only (the book's depth and spread, the trade rate):
it says *when*, never *which way*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import params as P  # noqa: N812 - slot names read P.R_*, P.S_*

# One script entry: row, start s, end s, value at start, value at end (linear ramp).
Segment = tuple[int, float, float, float, float]

BURST_DTYPE = np.dtype(
    [
        ("start_s", "<f8"),  # informed aggression starts
        ("flow_end_s", "<f8"),
        ("move_start_s", "<f8"),  # the mid starts to move
        ("move_end_s", "<f8"),
        ("side", "i1"),  # +1 informed buying (price goes up), -1 selling
        ("move_bps", "<f8"),  # scripted move, positive, in the burst's direction
    ]
)


@dataclass
class ScriptPlan:
    """A scenario's script for one seed and duration."""

    segments: list[Segment] = field(default_factory=list)
    kicks: list[tuple[float, float]] = field(default_factory=list)  # premium (t_s, amount)
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    bursts: np.ndarray = field(default_factory=lambda: np.zeros(0, BURST_DTYPE))

    def flat(self, row: int, t0: float, t1: float, v: float) -> None:
        self.segments.append((row, t0, t1, v, v))

    def ramp(self, row: int, t0: float, t1: float, v0: float, v1: float) -> None:
        self.segments.append((row, t0, t1, v0, v1))

    def evaluate(self, steps: np.ndarray, dt_s: float) -> np.ndarray:
        """The (N_ROWS, len(steps)) script at the starts of steps ``steps`` of ``dt_s``.

        Later segments win; a premium kick lands on the step nearest its time.
        """
        t_s = steps * dt_s
        out = np.empty((P.N_ROWS, len(t_s)))
        out[:] = np.asarray(P.ROW_DEFAULTS)[:, None]
        for row, t0, t1, v0, v1 in self.segments:
            m = (t_s >= t0) & (t_s < t1)
            if m.any():
                out[row, m] = v0 + (v1 - v0) * (t_s[m] - t0) / (t1 - t0)
        for t_k, amount in self.kicks:
            out[P.R_PREMIUM_KICK, steps == round(t_k / dt_s)] += amount
        return out


@dataclass(frozen=True)
class Scenario:
    name: str
    duration_s: float
    summary: str
    params: dict[str, object]  # SynthParams overrides
    build: Callable[[int, float], ScriptPlan]  # (seed, duration_s) -> plan


def _quiet(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.flat(P.R_REGIME_CAP, 0, np.inf, 1)
    s.windows = {"all": (0.0, duration_s)}
    return s


def _trend_selloff(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.flat(P.R_REGIME_CAP, 0, np.inf, 1)
    s.ramp(P.R_SELL_MULT, 600, 660, 1.0, 2.5)
    s.flat(P.R_SELL_MULT, 660, 780, 2.5)
    s.ramp(P.R_IMBALANCE, 600, 660, 0.0, -0.45)
    s.flat(P.R_IMBALANCE, 660, 780, -0.45)
    s.flat(P.R_DRIFT_BPS_PER_S, 780, 1380, -45.0 / 600.0)
    s.flat(P.R_SELL_MULT, 780, 1380, 2.0)
    s.flat(P.R_IMBALANCE, 780, 1380, -0.35)
    s.ramp(P.R_SELL_MULT, 1380, 1440, 2.0, 1.0)
    s.ramp(P.R_IMBALANCE, 1380, 1440, -0.35, 0.0)
    s.windows = {
        "calm_before": (0.0, 600.0), "lead": (600.0, 780.0), "drift": (780.0, 1380.0),
        "fade": (1380.0, 1440.0), "calm_after": (1440.0, duration_s),
    }
    return s


def _liquidation_cascade(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    R = P
    # build-up
    s.flat(R.R_REGIME_FLOOR, 840, 960, 2)
    s.flat(R.R_SELL_MULT, 840, 960, 1.8)
    s.flat(R.R_IMBALANCE, 840, 960, -0.2)
    s.flat(R.R_DRIFT_BPS_PER_S, 840, 960, -0.03)
    # cascade, then the worst minute on top
    for t0, t1, k in ((960, 1200, 0), (1020, 1080, 1)):
        s.flat(R.R_REGIME_FLOOR, t0, t1, 3)
        s.flat(R.R_SELL_MULT, t0, t1, (6.0, 15.0)[k])
        s.flat(R.R_SIZE_MULT, t0, t1, (3.0, 6.0)[k])
        s.flat(R.R_JUMP_MULT, t0, t1, (3.0, 12.0)[k])
        s.flat(R.R_JUMP_UP_PROB, t0, t1, 0.1)
        s.flat(R.R_DEPTH_MULT, t0, t1, (0.5, 0.2)[k])
        s.flat(R.R_SPREAD_ADD_TICKS, t0, t1, (3.0, 10.0)[k])
        s.flat(R.R_DRIFT_BPS_PER_S, t0, t1, (-0.15, -1.5)[k])
        s.flat(R.R_OI_DRIFT_PER_S, t0, t1, (-3e-4, -1e-3)[k])
        s.flat(R.R_PREMIUM_TARGET, t0, t1, (-1e-3, -2e-3)[k])
        s.flat(R.R_IMBALANCE, t0, t1, -0.3)
    # aftermath
    s.flat(R.R_REGIME_FLOOR, 1200, 1440, 2)
    s.flat(R.R_BUY_MULT, 1200, 1440, 1.5)
    s.flat(R.R_SELL_MULT, 1200, 1440, 1.3)
    s.flat(R.R_DEPTH_MULT, 1200, 1440, 0.8)
    s.flat(R.R_SPREAD_ADD_TICKS, 1200, 1440, 1.0)
    s.flat(R.R_DRIFT_BPS_PER_S, 1200, 1440, 0.02)
    s.windows = {
        "calm_before": (0.0, 840.0), "build_up": (840.0, 960.0), "cascade": (960.0, 1200.0),
        "worst_minute": (1020.0, 1080.0), "aftermath": (1200.0, 1440.0),
        "calm_after": (1440.0, duration_s),
    }
    return s


def _funding_spike(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.kicks.append((900.0, 4e-3))
    s.flat(P.R_PREMIUM_TARGET, 900, 1200, 1e-3)
    s.flat(P.R_BUY_MULT, 900, 1020, 1.6)
    s.flat(P.R_IMBALANCE, 900, 1020, 0.2)
    s.flat(P.R_REGIME_FLOOR, 900, 960, 2)
    s.windows = {
        "calm_before": (0.0, 900.0), "spike": (900.0, 1200.0), "reversion": (1200.0, duration_s),
    }
    return s


def _toxic_burst(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.flat(P.R_REGIME_CAP, 0, np.inf, 1)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x7051C])))
    rows = []
    t = 240.0
    while t < duration_s - 40.0:
        side = 1 if rng.random() < 0.5 else -1
        move_bps = float(rng.uniform(8.0, 16.0))
        rows.append((t, t + 5.0, t + 3.0, t + 11.0, side, move_bps))
        t += float(rng.uniform(50.0, 100.0))
    bursts = np.array(rows, dtype=BURST_DTYPE)
    for b in bursts:
        row = P.R_BUY_MULT if b["side"] > 0 else P.R_SELL_MULT
        s.flat(row, b["start_s"], b["flow_end_s"], 12.0)
        s.flat(P.R_DRIFT_BPS_PER_S, b["move_start_s"], b["move_end_s"],
               b["side"] * b["move_bps"] / (b["move_end_s"] - b["move_start_s"]))
    s.bursts = bursts
    s.windows = {"calm_before": (0.0, 240.0), "bursts": (240.0, duration_s)}
    return s


# toxic_burst_v2: lead and sweep of an informed episode
LEAD_S = 4.0
LEAD_AGGRESSION = 4.0
THIN_IMBALANCE = 0.6  # the side about to be hit keeps 1 - this of its depth
SWEEP_S = 2.0
SWEEP_AGGRESSION = 12.0
SWEEP_SIZE_MULT = 4.0


def _sweep_episodes(seed: int, stream: int, duration_s: float, lead_s: float) -> np.ndarray:
    """Informed episodes from 240 s, every 50-100 s: a lead of ``lead_s``, then a sweep of
    SWEEP_S moving the mid 8-16 bps one way (BURST_DTYPE rows; ``stream`` keeps each
    scenario's draws its own, so one's episodes are not a prefix of another's)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x7051C, stream])))
    rows = []
    t = 240.0
    while t < duration_s - 40.0:
        side = 1 if rng.random() < 0.5 else -1
        move_bps = float(rng.uniform(8.0, 16.0))
        t_sweep = t + lead_s
        rows.append((t, t_sweep + SWEEP_S, t_sweep, t_sweep + SWEEP_S, side, move_bps))
        t += float(rng.uniform(50.0, 100.0))
    return np.array(rows, dtype=BURST_DTYPE)


def _sweep(s: ScriptPlan, b: np.void) -> None:
    """An episode's sweep: its side's aggression and sizes up, the mid moved its way."""
    row = P.R_BUY_MULT if b["side"] > 0 else P.R_SELL_MULT
    t_sw, t1 = b["move_start_s"], b["move_end_s"]
    s.flat(row, t_sw, t1, SWEEP_AGGRESSION)
    s.flat(P.R_SIZE_MULT, t_sw, t1, SWEEP_SIZE_MULT)
    s.flat(P.R_DRIFT_BPS_PER_S, t_sw, t1, b["side"] * b["move_bps"] / (t1 - t_sw))


def _toxic_burst_v2(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.flat(P.R_REGIME_CAP, 0, np.inf, 1)
    bursts = _sweep_episodes(seed, 2, duration_s, LEAD_S)
    for b in bursts:
        row = P.R_BUY_MULT if b["side"] > 0 else P.R_SELL_MULT
        t0, t_sw, t1 = b["start_s"], b["move_start_s"], b["move_end_s"]
        s.flat(P.R_IMBALANCE, t0, t1, b["side"] * THIN_IMBALANCE)  # + = bid heavy: asks thin
        s.flat(row, t0, t_sw, LEAD_AGGRESSION)
        _sweep(s, b)
    s.bursts = bursts
    s.windows = {"calm_before": (0.0, 240.0), "bursts": (240.0, duration_s)}
    return s


# toxic_burst_v3: liquidity withdrawal, then a sweep whose side the lead does not tell
V3_LEAD_S = 5.0
V3_LEAD_AGGRESSION = 3.0  # both sides
V3_DEPTH_MULT = 0.3
V3_SPREAD_ADD_TICKS = 3.0


def _toxic_burst_v3(seed: int, duration_s: float) -> ScriptPlan:
    s = ScriptPlan()
    s.flat(P.R_REGIME_CAP, 0, np.inf, 1)
    bursts = _sweep_episodes(seed, 3, duration_s, V3_LEAD_S)
    for b in bursts:
        t0, t_sw, t1 = b["start_s"], b["move_start_s"], b["move_end_s"]
        s.flat(P.R_DEPTH_MULT, t0, t1, V3_DEPTH_MULT)
        s.flat(P.R_SPREAD_ADD_TICKS, t0, t1, V3_SPREAD_ADD_TICKS)
        s.flat(P.R_BUY_MULT, t0, t_sw, V3_LEAD_AGGRESSION)
        s.flat(P.R_SELL_MULT, t0, t_sw, V3_LEAD_AGGRESSION)
        _sweep(s, b)
    s.bursts = bursts
    s.windows = {"calm_before": (0.0, 240.0), "bursts": (240.0, duration_s)}
    return s


SCENARIOS: dict[str, Scenario] = {
    sc.name: sc
    for sc in (
        Scenario("quiet", 1800.0, "low/normal regimes, symmetric Hawkes flow", {}, _quiet),
        Scenario(
            "trend_selloff", 1800.0,
            "Feb-19: sell flow and ask-heavy book lead a -45 bps ten-minute drift",
            {"sigma_bps_per_sqrt_s": 0.4, "jump_rate_per_s": 1.0 / 900.0}, _trend_selloff,
        ),
        Scenario(
            "liquidation_cascade", 1800.0,
            "4-minute cascade of large sells and down jumps, worst minute 1020-1080 s",
            {"vol_mult": (0.5, 1.0, 1.5, 2.0)}, _liquidation_cascade,
        ),
        Scenario(
            "funding_spike", 1800.0,
            "premium +0.4 % at 900 s, funding spikes then mean-reverts", {}, _funding_spike,
        ),
        Scenario(
            "toxic_burst", 1800.0,
            "informed bursts of one-sided aggression that the mid follows seconds later",
            {}, _toxic_burst,
        ),
        Scenario(
            "toxic_burst_v2", 1800.0,
            "informed episodes: one-sided aggression and a thinning book, then a sweep moves the mid",
            {"sigma_bps_per_sqrt_s": 0.5, "impact_bps": 0.01}, _toxic_burst_v2,
        ),
        Scenario(
            "toxic_burst_v3", 1800.0,
            "informed episodes: the book thins and widens on both sides, then a sweep moves the mid",
            {"sigma_bps_per_sqrt_s": 0.5, "impact_bps": 0.01}, _toxic_burst_v3,
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown synthetic market {name!r}; known: 'walk' (infinite random walk), "
            + ", ".join(repr(n) for n in SCENARIOS)
        ) from None
