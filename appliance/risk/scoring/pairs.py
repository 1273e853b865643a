"""Forecasts paired with their outcomes, kept in bounded windows.

Every time is CLOCK_MONOTONIC in ns (fills: when the gateway published them; mids:
when the estimator wrote MarketParams; orders: when the gateway saw the event), so
venue clock offsets and replay speeds do not enter. A mid "at t + h" is the first mid
sampled at or after t + h (as the backtester marks out).

* ``FillProbPairs``: each order placement's predicted fill probability against
  ``scores.fill_outcomes``: 1 filled within its horizon, 0 rested through it unfilled,
  censored when cancelled, rejected or modified (a modify is a new order at the venue)
  before it. An outcome is settled once a fill came in time, or ``GRACE_NS`` after the
  horizon or the end (a fill report may trail the cancel it beat). Each also keeps
  how long it rested (its exposure), so that ``scores.hazard_score_exposed`` can score every
  placement, censored ones included.
* ``MarkoutPairs``: our fills marked out at the adverse-selection horizons: forecast
  ``pred_as_bps`` (carried on the fill from the ladder), realized ``depth - markout``
  (``depth = side (mid0 - px) / mid0``, ``markout_h = side (mid_h - px) / px``, bps);
  and the toxicity forecast for the fill's side against the estimator's own label
  (``-side (mid_h - mid0) / mid0 > toxic_threshold_bps`` at its label horizon).
* ``ForecastPairs``: a forecast of the mid move over a horizon (drift, microprice,
  lead-lag) against the move that came, ``(mid_h / mid0 - 1) 1e4`` bps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.measure.scores import CENSORED, fill_outcomes

GRACE_NS = 2_000_000_000
MAX_PENDING = 20_000  # forecasts awaiting an outcome, per pairing: the oldest dropped beyond


class Window:
    """The resolved pairs of one model and coin: the last ``max_pairs`` resolved within
    ``window_ns``."""

    def __init__(self, window_ns: int, max_pairs: int) -> None:
        self.window_ns = int(window_ns)
        self.t: deque[int] = deque(maxlen=max_pairs)
        self.f: deque[float] = deque(maxlen=max_pairs)
        self.y: deque[float] = deque(maxlen=max_pairs)
        self.x: deque[float] = deque(maxlen=max_pairs)  # fill_prob: exposure, in horizons
        self.total = 0  # pairs ever added

    def add(self, t_ns: int, forecast: float, outcome: float, exposure: float = math.nan) -> None:
        self.t.append(t_ns)
        self.f.append(forecast)
        self.y.append(outcome)
        self.x.append(exposure)
        self.total += 1

    def trim(self, now_ns: int) -> None:
        cut = now_ns - self.window_ns
        while self.t and self.t[0] < cut:
            self.t.popleft()
            self.f.popleft()
            self.y.popleft()
            self.x.popleft()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.fromiter(self.f, np.float64, len(self.f)), np.fromiter(self.y, np.float64, len(self.y))

    def exposures(self) -> np.ndarray:
        return np.fromiter(self.x, np.float64, len(self.x))

    def censored(self) -> int:
        return sum(1 for y in self.y if y == CENSORED)

    def __len__(self) -> int:
        return len(self.t)


@dataclass
class _Placement:
    placed_ns: int
    horizon_ns: int
    fill_prob: float
    fill_ns: int = 0
    ended_ns: int = 0

    def exposure(self, filled: bool) -> float:
        """How long it rested, in horizons (at most 1): to its fill, its end or the
        horizon (``scores.hazard_score_exposed``)."""
        stop = self.horizon_ns
        if filled and self.fill_ns:
            stop = min(stop, self.fill_ns - self.placed_ns)
        elif self.ended_ns:
            stop = min(stop, self.ended_ns - self.placed_ns)
        return max(stop, 0) / self.horizon_ns if self.horizon_ns > 0 else math.nan

    def settled(self, now_ns: int) -> bool:
        due = self.placed_ns + self.horizon_ns
        if self.fill_ns and self.fill_ns <= due:
            return True
        if self.ended_ns and self.ended_ns < due:
            return now_ns >= self.ended_ns + GRACE_NS
        return now_ns >= due + GRACE_NS


class FillProbPairs:
    """Order placements (by key) and their outcomes."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.pending: dict[int, _Placement] = {}
        self.dropped = 0

    def placed(self, key: int, t_ns: int, horizon_ns: int, fill_prob: float) -> None:
        if len(self.pending) >= MAX_PENDING:
            del self.pending[next(iter(self.pending))]  # the oldest (insertion order)
            self.dropped += 1
        self.pending[key] = _Placement(t_ns, horizon_ns, fill_prob)

    def filled(self, key: int, t_ns: int) -> None:
        p = self.pending.get(key)
        if p is not None and not p.fill_ns:
            p.fill_ns = t_ns

    def ended(self, key: int, t_ns: int) -> None:
        p = self.pending.get(key)
        if p is not None and not p.ended_ns:
            p.ended_ns = t_ns

    def resolve(self, now_ns: int) -> int:
        """Move every settled placement into the window; returns how many."""
        keys = [k for k, p in self.pending.items() if p.settled(now_ns)]
        if not keys:
            return 0
        ps = [self.pending.pop(k) for k in keys]
        out = fill_outcomes(np.array([p.placed_ns for p in ps], np.int64),
                            np.array([p.horizon_ns for p in ps], np.int64),
                            np.array([p.fill_ns for p in ps], np.int64),
                            np.array([p.ended_ns for p in ps], np.int64))
        for p, y in zip(ps, out.tolist(), strict=True):
            self.window.add(now_ns, p.fill_prob, float(y), p.exposure(y == 1))
        return len(ps)


class MarkoutPairs:
    """Our fills awaiting their markouts (adverse selection) and toxicity label."""

    def __init__(self, as_windows: list[Window], as_horizons_ns: list[int], tox_window: Window,
                 tox_horizon_ns: int, toxic_threshold_bps: float) -> None:
        # (horizon, window, is the toxicity label), in horizon order
        targets = [(int(h), w, False) for h, w in zip(as_horizons_ns, as_windows, strict=True)]
        targets.append((int(tox_horizon_ns), tox_window, True))
        self.targets = sorted(targets, key=lambda x: x[0])
        self.threshold = toxic_threshold_bps
        self.pending: deque[list] = deque()
        self.dropped = 0

    def fill(self, t_ns: int, side: int, px: float, mid0: float, pred_as_bps: float,
             pred_toxic: float) -> bool:
        """A fill of ours (``side`` +1 bought); False (not kept) without a usable price."""
        if not (px > 0.0 and mid0 > 0.0 and math.isfinite(px) and math.isfinite(mid0)):
            return False
        if len(self.pending) >= MAX_PENDING:
            self.pending.popleft()
            self.dropped += 1
        # [time, side, px, mid0, pred AS, pred toxic, next target]
        self.pending.append([t_ns, side, px, mid0, pred_as_bps, pred_toxic, 0])
        return True

    def mid(self, t_ns: int, mid: float) -> None:
        """A mid sampled at ``t_ns``: marks out every pending fill's horizons that are due."""
        if not (mid > 0.0 and math.isfinite(mid)):
            return
        n = len(self.targets)
        for f in self.pending:
            t0, side, px, mid0, pred_as, pred_tox, k = f
            while k < n and t0 + self.targets[k][0] <= t_ns:
                _, window, is_tox = self.targets[k]
                if is_tox:
                    if math.isfinite(pred_tox):
                        adverse = -side * (mid - mid0) / mid0 * 1e4
                        window.add(t_ns, pred_tox, 1.0 if adverse > self.threshold else 0.0)
                elif math.isfinite(pred_as):
                    depth = side * (mid0 - px) / mid0 * 1e4
                    markout = side * (mid - px) / px * 1e4
                    window.add(t_ns, pred_as, depth - markout)
                k += 1
            f[6] = k
        while self.pending and self.pending[0][6] >= n:
            self.pending.popleft()


class ForecastPairs:
    """Forecasts of the mid move over ``horizon_ns``, one at most every ``every_ns``."""

    def __init__(self, window: Window, horizon_ns: int, every_ns: int) -> None:
        self.window = window
        self.horizon_ns = int(horizon_ns)
        self.every_ns = int(every_ns)
        self.pending: deque[tuple[int, float, float]] = deque(maxlen=MAX_PENDING)
        self._last = -(1 << 62)

    def sample(self, t_ns: int, mid: float, forecast_bps: float) -> bool:
        """A forecast made at ``t_ns`` with the mid then; False when too soon or unusable."""
        if t_ns - self._last < self.every_ns or not (mid > 0.0 and math.isfinite(forecast_bps)):
            return False
        self._last = t_ns
        self.pending.append((t_ns + self.horizon_ns, mid, forecast_bps))
        return True

    def mid(self, t_ns: int, mid: float) -> None:
        if not (mid > 0.0 and math.isfinite(mid)):
            return
        while self.pending and self.pending[0][0] <= t_ns:
            _, mid0, f = self.pending.popleft()
            self.window.add(t_ns, f, (mid / mid0 - 1.0) * 1e4)


class SampleHistory:
    """The last few values sampled (time, value...), to read a forecast as it stood just
    before an event that was seen a cycle later."""

    def __init__(self, maxlen: int = 256) -> None:
        self.items: deque[tuple] = deque(maxlen=maxlen)

    def add(self, t_ns: int, *values: float) -> None:
        self.items.append((t_ns, *values))

    def before(self, t_ns: int) -> tuple | None:
        """The newest sample taken before ``t_ns`` (None: none kept)."""
        for item in reversed(self.items):
            if item[0] < t_ns:
                return item
        return None
