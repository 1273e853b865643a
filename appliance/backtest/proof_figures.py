"""Figures of the quote-kernel proof (issue 6), from a run's fills, markouts and samples.

Definitions (times in simulated seconds from the start of the stream):

* ``markout_10s_adverse_fills``: fills whose 10 s markout is below
  ``-markout_10s_threshold_bps`` (the mid went that far against us within 10 s);
  ``markout_10s_benign_fills``: the other fills with a 10 s markout. Fills within
  10 s of the end of the data have none and count in neither.
* ``bid_pull_delay_s``: let ``t_band`` be the first sample (every
  ``sample_interval_ms``) at or after ``from_s`` in whose interval a requote saw
  MarketParams ``drift_out_of_band`` = 1 with ``drift_bps_per_s`` < 0 (the drift
  estimate left its uncertainty band downwards). ``bid_pull_delay_s`` is the time
  from ``t_band`` to the first sample at or after it where no bid of ours rests at
  the venue within ``bid_pullback_bps`` of the mid (no bid at all, or the best one
  at least that deep). None when the drift never left its band downwards after
  ``from_s``; ``bid_pull_never`` is true when it did but the bids were never
  pulled back before the end. ``from_s`` is the start of the scenario's ``lead``
  window (else its ``drift`` window, else 0).
* ``max_long_frac``: the largest long position held / the maximum position.
* ``windows``: per scenario window (synthetic sources' truth), the fills in it and
  the change of our PnL over it (samples at its edges).
* ``markout_10s_by_episode_phase``: the adverse / benign split above by where a fill
  falls against the scenario's informed episodes (start, move start, move end):
  ``lead`` [start, move start), ``move`` [move start, move end), ``after_10s`` the 10 s
  after the move, ``after_10_30s`` the 20 s after that, ``other`` the rest. An earlier
  phase of any episode wins over a later one.
"""

from __future__ import annotations

import math

import numpy as np

BAND_WINDOWS = ("lead", "drift")  # where the bid-pull clock starts, first found


def _marked(markouts: np.ndarray, col: int, threshold_bps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per fill: marked in column ``col`` (finite), and adverse (marked, below -threshold)."""
    m = markouts[:, col]
    ok = np.isfinite(m)
    return ok, ok & (m < -threshold_bps)


def markout_split(markouts: np.ndarray, col: int, threshold_bps: float) -> tuple[int, int]:
    """(adverse, benign) counts of the fills with a markout in column ``col``."""
    if markouts.shape[0] == 0:
        return 0, 0
    ok, adverse = _marked(markouts, col, threshold_bps)
    n_adverse = int(adverse.sum())
    return n_adverse, int(ok.sum()) - n_adverse


EPISODE_PHASES = ("lead", "move", "after_10s", "after_10_30s", "other")


def markout_split_by_phase(fills: np.ndarray, markouts: np.ndarray, col: int, threshold_bps: float,
                           origin_ns: int, episodes: list[tuple[float, float, float]]
                           ) -> dict[str, list[int]]:
    """{phase: [adverse, benign]} of the fills with a markout in column ``col``."""
    out = {p: [0, 0] for p in EPISODE_PHASES}
    if markouts.shape[0] == 0:
        return out
    t = _rel_s(fills["ts_ns"], origin_ns)
    phase = np.full(t.shape[0], len(EPISODE_PHASES) - 1)
    # later phases first, so that an earlier phase of any episode overwrites them
    for k in range(len(EPISODE_PHASES) - 2, -1, -1):
        for start, move0, move1 in episodes:
            edges = (start, move0, move1, move1 + 10.0, move1 + 30.0)
            phase[(t >= edges[k]) & (t < edges[k + 1])] = k
    ok, adverse = _marked(markouts, col, threshold_bps)
    for k, name in enumerate(EPISODE_PHASES):
        out[name] = [int((adverse & (phase == k)).sum()), int((ok & ~adverse & (phase == k)).sum())]
    return out


def _rel_s(ts_ns: np.ndarray, origin_ns: int) -> np.ndarray:
    return (ts_ns.astype(np.int64) - origin_ns) / 1e9


def bid_pull_delay(samples: np.ndarray, origin_ns: int, from_s: float, pullback_bps: float
                   ) -> tuple[float | None, float | None, bool]:
    """(delay s, t_band s, never pulled) per the module's definition."""
    if samples.shape[0] == 0:
        return None, None, False
    t = _rel_s(samples["ts_ns"], origin_ns)
    band = np.flatnonzero((samples["drift_oob_neg"] != 0) & (t >= from_s))
    if band.size == 0:
        return None, None, False
    k0 = int(band[0])
    mid = samples["mid_px"]
    bid = samples["our_bid_px"]
    with np.errstate(invalid="ignore"):
        depth = (mid - bid) / mid * 1e4
        pulled = ~np.isfinite(bid) | (depth >= pullback_bps)
    after = np.flatnonzero(pulled[k0:])
    if after.size == 0:
        return None, float(t[k0]), True
    k1 = k0 + int(after[0])
    return float(t[k1] - t[k0]), float(t[k0]), False


def band_start_s(windows: dict[str, tuple[float, float]] | None) -> float:
    for name in BAND_WINDOWS:
        if windows and name in windows:
            return float(windows[name][0])
    return 0.0


def _limit_frac(samples: np.ndarray, limit: tuple[float, float]) -> np.ndarray:
    """Position over the limit per sample (signed); the USD limit at the sample's mid."""
    sz_limit, usd_limit = limit
    q = samples["position_sz"]
    if sz_limit > 0.0:
        return q / sz_limit
    mid = samples["mid_px"]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = q * mid / usd_limit
    return np.where(np.isfinite(frac), frac, np.sign(q))  # no mid: a held position counts as full


def window_figures(fills: np.ndarray, samples: np.ndarray, origin_ns: int,
                   windows: dict[str, tuple[float, float]] | None, limit: tuple[float, float]
                   ) -> dict[str, dict]:
    """Per window: fills in it, our PnL change over it, largest long held in it (a share
    of the position limit at each sample's mid: ``limit`` = (coin limit, USD limit), the
    coin one when > 0)."""
    out: dict[str, dict] = {}
    if not windows:
        return out
    tf = _rel_s(fills["pub_mono_ns"], origin_ns) if fills.shape[0] else np.zeros(0)
    ts = _rel_s(samples["ts_ns"], origin_ns) if samples.shape[0] else np.zeros(0)
    for name, (a, b) in windows.items():
        inside = (tf >= a) & (tf < b)
        entry = {"start_s": float(a), "end_s": float(b), "fills": int(inside.sum()),
                 "fill_volume_sz": float(fills["sz"][inside].sum()) if inside.any() else 0.0,
                 "pnl_change_usd": None, "max_long_frac": None}
        si = np.flatnonzero((ts >= a) & (ts <= b))
        if si.size:
            k0 = max(int(si[0]) - 1, 0)
            pnl = samples["pnl_usd"]
            d = float(pnl[int(si[-1])] - pnl[k0])
            entry["pnl_change_usd"] = d if math.isfinite(d) else None
            entry["max_long_frac"] = max(float(np.max(_limit_frac(samples[si], limit))), 0.0)
        out[name] = entry
    return out
