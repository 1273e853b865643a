"""Per-level expected PnL (seed 003 phase 4, with the carry of phase 6).

For a level at depth d (bps from the fair price, after rounding) on side s
(+1 bid, -1 ask), per unit of size posted, in bps:

    E[PnL] = P(d) [ d - AS(d) - fee - carry_s + drift_s - inv_s ]

    P(d)     = min(1, exp(-kappa_s d))          fill probability (d <= 0: 1)
    AS(d)    = AS0 exp(-d / d_char) x kurtosis adj x (1 + w_tox excess toxicity_s)
    carry_s  = funding a fill of this side pays over the holding time; the receiving
               side gets half of it back (seed 003 phase 6)
    drift_s  = s mu tau / 2                     bids gain from an up-drift
    inv_s    = gamma(q') |q'| sigma^2 tau_inv   on the accumulating side, q' the
                                                utilization after the fill
             = -0.5 gamma(q) |q| sigma^2 tau_inv    reducing bonus
               (sigma total, with jumps; tau_inv = quote.inventory_horizon_s, the
               holding time: longer trades P&L for a smaller inventory, see BENCHMARKS)

The seed writes drift and inventory outside lambda(d); here every term is what a
fill is worth, times the probability of the fill, so E is in bps and its sign is
the bracket's. The inventory term has its own horizon (tau_inv, by default the
seed's tau) apart from the GLFT skew's (T): GLFT places the quotes, E decides
whether a level is worth posting, so the accumulating side drops out as inventory
builds, before any hard limit.
"""

import math

from numba import njit

from .glft import gamma_of_q


@njit(cache=True)
def fill_prob(kappa, depth_bps):
    if depth_bps <= 0.0:
        return 1.0
    return math.exp(-kappa * depth_bps)


@njit(cache=True)
def as_bps(as0_bps, delta_char_bps, depth_bps, scale, depth_coef=0.0, depth_cap_bps=0.0):
    """AS(d) = AS0 exp(-d / d_char) exp(depth_coef min(d, cap)) x scale (toxicity,
    kurtosis, the momentum term). The growth term prices a deep level's fills as the
    sweeps they are (issue 14: on market fills AS rises with depth)."""
    if delta_char_bps <= 0.0 or scale == 0.0:
        return 0.0
    d = max(depth_bps, 0.0)
    grow = depth_coef * min(d, depth_cap_bps) if math.isfinite(depth_coef * depth_cap_bps) else 0.0
    return as0_bps * math.exp(-d / delta_char_bps + grow) * scale


@njit(cache=True)
def rest_avg_mult(log_mult, rest_s, tau_s):
    """exp(L) averaged over an order's rest of ``rest_s`` while L decays as exp(-t / tau):
    (1/H) int_0^H exp(L e^(-t/tau)) dt = 1 + (tau/H) sum_k L^k (1 - a^k) / (k k!), a = e^(-H/tau)
    (the series: |L| is the clipped momentum term, < 1 on every calibration so far; 12
    terms are exact to 1e-9 for |L| <= 3). ``rest_s`` 0: exp(L), the instant value."""
    if log_mult == 0.0:  # no momentum term (uncalibrated): exactly neutral, no series
        return 1.0
    if not (rest_s > 0.0 and tau_s > 0.0):
        return math.exp(log_mult)
    a = math.exp(-rest_s / tau_s)
    total = 0.0
    lk = 1.0  # L^k / k!
    ak = 1.0
    for k in range(1, 13):
        lk *= log_mult / k
        ak *= a
        total += lk * (1.0 - ak) / k
    return 1.0 + tau_s / rest_s * total


@njit(cache=True)
def carry_bps(funding_cost_bps, side):
    """Funding cost of a fill on ``side``: ``funding_cost_bps`` is what a long pays over
    the holding time (negative: it receives). The paying side pays it all, the
    receiving side is credited half (positive = cost)."""
    c = funding_cost_bps * side  # what this fill's position pays
    return c if c > 0.0 else 0.5 * c


@njit(cache=True)
def inventory_bps(gamma_base, beta, q, side, x_after, sigma_bps, tau_s, gamma_mult):
    """Inventory penalty (> 0) or reducing bonus (< 0) of a fill of ``x_after``
    (cumulative size through this level / q_max) on ``side`` at utilization ``q``."""
    q_after = q + side * x_after
    s2t = sigma_bps * sigma_bps * tau_s
    if abs(q_after) > abs(q):
        u = abs(q_after)
        return gamma_of_q(gamma_base, beta, u) * gamma_mult * u * s2t
    u = abs(q)
    return -0.5 * gamma_of_q(gamma_base, beta, u) * gamma_mult * u * s2t


@njit(cache=True)
def expected_pnl_bps(prob, depth_bps, as_cost_bps, fee_bps, carry_cost_bps, drift_bps,
                     inv_bps):
    return prob * (depth_bps - as_cost_bps - fee_bps - carry_cost_bps + drift_bps - inv_bps)


@njit(cache=True)
def own_edge_bps(depth_bps, as_cost_bps, fee_bps):
    """What a fill of the level earns against the fair price by itself, bps: depth
    minus the AS it predicts minus the maker fee. Drift and inventory are left out:
    they decide where the ladder sits, not whether a fill there pays (issue 16)."""
    return depth_bps - as_cost_bps - fee_bps


@njit(cache=True)
def break_even_depth_bps(as0_bps, delta_char_bps, depth_bps, scale, depth_coef, depth_cap_bps,
                         fee_bps, margin_bps=0.05):
    """The smallest depth >= ``depth_bps`` found where depth > AS(depth) + fee: fixed-point
    steps d <- fee + AS(d) + margin, from below (AS falls with d, or grows with slope < 1
    near the break-even: the calibrated growth term, ~0.7 there on USD-M BTC, needs
    tens of steps); the caller checks the edge of the rounded price."""
    d = max(depth_bps, 0.0)
    for _ in range(40):
        need = fee_bps + as_bps(as0_bps, delta_char_bps, d, scale, depth_coef, depth_cap_bps) + margin_bps
        if d >= need:
            break
        d = need
    return d
