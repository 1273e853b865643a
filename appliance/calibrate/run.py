"""``mmctl calibrate`` without the command line: load, split, fit, score, write.

Each ``--data`` file is split in time (its first ``train_frac`` trains); with
``test_data`` the out-of-sample part is those files instead (``train_frac`` 1 then
trains on the whole of each data file). Segments are never joined: a fit sums over
them (the Hawkes and Kalman likelihoods restart on each), so two captures of
different days or coins do not pretend to be one stream.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from appliance.config import Config, ConfigError, load_config

from . import drift, fits, overlay
from .data import CalibrationError, load_events, slice_arrays, split
from .replay_params import params_series
from .result import CalibrationResult, Segment

# (path, coin, max_seconds) -> (MD_EVENT records, the source's stats): ``load_events``,
# or events loaded once elsewhere (``mmctl calibrate --ray`` ships them by reference)
Loader = Callable[[str, str, float | None], tuple[np.ndarray, dict]]


class Progress:
    """Steps of a calibration on stderr: tqdm's bar when installed, else a line each."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self.n = 0
        self.total = total
        self._bar = None
        if enabled:
            try:  # optional dependency: a bar when tqdm is installed, lines otherwise
                from tqdm import tqdm
                self._bar = tqdm(total=total, file=sys.stderr, unit="step", leave=True)
            except ImportError:
                self._bar = None

    def step(self, label: str) -> None:
        self.n += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_description(label)
            self._bar.update(1)
        else:
            print(f"[{self.n}/{self.total}] {label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _segments(data: list[tuple[str, str]], test_data: list[tuple[str, str]], train_frac: float,
              cfg: Config, max_seconds: float | None, tick: Callable[[str], None],
              load: Loader = load_events) -> list[Segment]:
    out = []
    whole = bool(test_data) and train_frac >= 1.0
    if not (0.0 < train_frac < 1.0 or whole):
        raise CalibrationError(f"--train-frac must be in (0, 1) (1 only with --test-data), got {train_frac}")
    for path, coin in data:
        ev, stats = load(path, coin, max_seconds)
        _need_book(ev, path, coin, stats)
        tick(f"loaded {path}")
        parts = [("train", ev)] if whole else list(zip(("train", "test"), split(ev, train_frac), strict=True))
        for part, e in parts:
            if part == "test" and test_data:
                continue
            if e.shape[0] == 0:
                raise CalibrationError(f"{path}: the {part} part holds no events")
            out.append(Segment(path, coin, part, slice_arrays(e), params_series(e, cfg)))
    for path, coin in test_data:
        ev, stats = load(path, coin, max_seconds)
        _need_book(ev, path, coin, stats)
        tick(f"loaded {path}")
        out.append(Segment(path, coin, "test", slice_arrays(ev), params_series(ev, cfg)))
    return out


def _need_book(ev: np.ndarray, path: str, coin: str, stats: dict) -> None:
    """Every fit reads the mid: a file whose books the source cannot read is refused."""
    if not np.any(slice_arrays(ev[:200_000]).mid_px > 0):
        raise CalibrationError(
            f"{path}: no order book of {coin} could be read (source stats: {stats}); "
            "every fit needs the mid")


def calibrate(data: list[tuple[str, str]], *, test_data: list[tuple[str, str]] | None = None,
              train_frac: float = 0.7, cfg: Config | None = None, backtests: bool = True,
              max_seconds: float | None = None, progress: bool = False,
              load: Loader = load_events) -> CalibrationResult:
    """Fit every model on the train part of ``data`` ((path, coin) pairs), score defaults
    and fits on both parts, and return the overlay (checked by the config loader).
    ``load`` reads a file's events (the default reads it here). Raises CalibrationError
    with the reason."""
    test_data = list(test_data or [])
    cfg = cfg if cfg is not None else load_config()
    bar = Progress(len(data) + len(test_data) + 5 + drift.SCALE_ITERATIONS + (4 if backtests else 0),
                   enabled=progress)
    try:
        segs = _segments(list(data), test_data, train_frac, cfg, max_seconds, bar.step, load)
        ov: dict[str, dict] = {t: {} for t in ("estimator", "estimator.vol", "estimator.kappa",
                                               "estimator.hawkes", "estimator.adverse_selection",
                                               "estimator.drift", "estimator.book")}
        res = CalibrationResult(ov, "", [])
        res.segments = [(s.path, s.coin, s.part, s.sl.span_s, int(s.sl.trade_t_s.size)) for s in segs]
        for name, fn in (("hawkes", fits.fit_hawkes), ("kappa", fits.fit_kappa),
                         ("adverse selection", fits.fit_as), ("drift", fits.fit_drift)):
            fn(segs, cfg, res, ov)
            bar.step(f"fitted {name}")
        fits.fit_drift_scale(segs, cfg, res, ov, backtests, bar.step)
        if not any(ov.values()):
            raise CalibrationError("no model could be fitted: " + "; ".join(res.notes))
        header = overlay.header_lines([p for p, _ in data], [p for p, _ in test_data], train_frac,
                                      [c for _, c in data])
        res.text = overlay.render(ov, header)
        try:
            calibrated = overlay.check(res.text)
        except ConfigError as err:
            raise CalibrationError(f"the fitted overlay is refused by the config loader: {err}") from None
        calibrated = fits.with_overlay(cfg, calibrated, ov)
        bar.step("overlay checked")
        if backtests:
            fits.own_fills(segs, cfg, calibrated, res, bar.step)
    finally:
        bar.close()
    return res
