"""Queue position of a resting order behind the source's displayed size.

``front`` is the displayed size ahead of us at our price. Two events move it:

* a trade at our price (``queue_on_trade``): it consumes the queue ahead first;
  whatever is left of the trade fills us.
* a new book (``queue_on_depth``): the level went from ``prev_sz`` to ``new_sz``, of
  which ``traded_sz`` is already explained by trades. The rest of a decrease is
  cancellations, split between ahead of us and behind us by the queue model:

  - ``risk_averse``: ahead only shrinks when the level shrinks below it:
    ``front = min(front, new_sz)``.
  - ``prob_power`` (hftbacktest's PowerProbQueueModel) and ``prob_log``
    (LogProbQueueModel): a cancellation comes from behind us with probability
    ``p = f(back) / (f(back) + f(front))``, ``back = prev_sz - front``, with
    ``f(x) = x**n`` or ``f(x) = log(1 + x)``:
    ``front' = front - (1 - p) * chg + min(back - p * chg, 0)``, capped at new_sz.

  An increase never moves us (newcomers queue behind us): ``front = min(front, new_sz)``.

Known answers (front 30, prev 40 so back 10, new 20, no trades, chg = 20):
  risk_averse -> 20;
  prob_power n=2 -> p = 100 / (100 + 900) = 0.1, front = 30 - 0.9 * 20 = 12;
  prob_log -> p = log(11) / (log(11) + log(31)) = 0.411170, front = 30 - 0.588830 * 20
  = 18.223401.
"""

import math

from numba import njit

from shm_layout.venue_records import QUEUE_PROB_POWER, QUEUE_RISK_AVERSE


@njit(cache=True)
def prob_behind(model: int, power: float, front: float, back: float) -> float:
    """Probability that a cancellation at our level came from behind us."""
    if model == QUEUE_PROB_POWER:
        fb = back**power
        ff = front**power
    else:
        fb = math.log1p(back)
        ff = math.log1p(front)
    tot = fb + ff
    if not tot > 0.0 or not math.isfinite(tot):
        return 1.0 if back > 0.0 else 0.0
    return fb / tot


@njit(cache=True)
def queue_on_depth(model: int, power: float, front: float, prev_sz: float, new_sz: float,
                   traded_sz: float) -> float:
    """New size ahead of us after the level moved from ``prev_sz`` to ``new_sz``."""
    if new_sz < 0.0:
        return front  # level outside the displayed window: we learn nothing
    if prev_sz < 0.0:
        return new_sz  # level just came into view: assume behind all of it
    chg = prev_sz - new_sz - traded_sz
    if model == QUEUE_RISK_AVERSE or chg <= 0.0:
        return min(front, new_sz)
    back = max(prev_sz - front, 0.0)
    p = prob_behind(model, power, front, back)
    est = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
    return min(max(est, 0.0), new_sz)


@njit(cache=True)
def queue_on_trade(front: float, trade_sz: float):
    """A trade of ``trade_sz`` at our price. Returns (front after, size left for us)."""
    if trade_sz <= front:
        return front - trade_sz, 0.0
    return 0.0, trade_sz - front
